"""Reservations on the simulated charger: ReserveNow, CancelReservation, expiry, use.

A reserved connector shows Reserved and only the reserving card (or one whose group is the
reservation's parent id) may start there; that start carries the reservationId and ends the
reservation. Expiry follows the sim's clock (checked every `CHECK_S` of real time, so a
test's fake clock can move it); a 2.0.1 charger reports it with ReservationStatusUpdate.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from websockets.exceptions import ConnectionClosed

if TYPE_CHECKING:
    from .core import SimChargePoint

CHECK_S = 0.05
BUSY = ("Charging", "SuspendedEV", "SuspendedEVSE", "Preparing", "Finishing")


@dataclass(frozen=True)
class SimReservation:
    id: int
    connector_id: int
    id_tag: str
    expires_at: datetime
    parent_id_tag: str | None = None


class SimReservations:
    def __init__(self, sim: SimChargePoint) -> None:
        self.sim = sim
        self.held: dict[int, SimReservation] = {}  # by connector
        self.refused_cards: list[str] = []  # cards turned away at a reserved connector
        self._watcher: asyncio.Task[None] | None = None

    def reserve(self, reservation: SimReservation) -> str:
        """The ReserveNow answer: Accepted, Occupied, Unavailable or Rejected."""
        sim, connector = self.sim, reservation.connector_id
        if not 1 <= connector <= sim.connectors:
            return "Rejected"  # connector 0 (any socket) is not offered by this charger
        if not sim.available:
            return "Unavailable"
        same = self.held.get(connector)
        if same is not None and same.id != reservation.id:
            return "Occupied"
        if connector == sim.connector_id and (sim.transaction is not None or sim.plugged):
            return "Occupied"
        self.held[connector] = reservation
        self._status_changed(connector)
        if self._watcher is None or self._watcher.done():
            self._watcher = sim.spawn(self._watch())
        return "Accepted"

    def cancel(self, reservation_id: int) -> bool:
        reservation = self._by_id(reservation_id)
        if reservation is None:
            return False
        self._drop(reservation)
        return True

    def reserved(self, connector_id: int) -> bool:
        return connector_id in self.held

    def idle_status(self, connector_id: int, plugged: bool = False) -> str:
        """A connector's status without a transaction."""
        if plugged:
            return "Preparing"
        return "Reserved" if self.reserved(connector_id) else "Available"

    def admits(self, connector_id: int, card: str) -> bool:
        held = self.held.get(connector_id)
        ok = held is None or card in (held.id_tag, held.parent_id_tag)
        if not ok:
            self.refused_cards.append(card)
        return ok

    def use(self, connector_id: int, card: str) -> int | None:
        """The reservationId a start by `card` at `connector_id` carries (and ends), if any."""
        held = self.held.get(connector_id)
        if held is None or card not in (held.id_tag, held.parent_id_tag):
            return None
        del self.held[connector_id]
        return held.id

    def _by_id(self, reservation_id: int) -> SimReservation | None:
        return next((r for r in self.held.values() if r.id == reservation_id), None)

    def _drop(self, reservation: SimReservation) -> None:
        self.held.pop(reservation.connector_id, None)
        self._status_changed(reservation.connector_id)

    def _status_changed(self, connector_id: int) -> None:
        sim = self.sim
        if connector_id == sim.connector_id:
            sim.advance()  # the car's socket: its status follows everything else too
        elif sim.connected.is_set():
            sim.spawn(self._send(connector_id, self.idle_status(connector_id)))

    async def _send(self, connector_id: int, status: str) -> None:
        from .core import SimOffline

        with contextlib.suppress(ConnectionClosed, TimeoutError, SimOffline):
            await self.sim.adapter.status(connector_id, status)

    async def _watch(self) -> None:
        while self.held:
            now = self.sim.clock()
            for reservation in [r for r in self.held.values() if r.expires_at <= now]:
                self._drop(reservation)
                if self.sim.version == "2.0.1" and self.sim.connected.is_set():
                    await self._report_expired(reservation.id)
            await asyncio.sleep(CHECK_S)

    async def _report_expired(self, reservation_id: int) -> None:
        from ocpp.v201 import call

        from .core import SimOffline

        with contextlib.suppress(ConnectionClosed, TimeoutError, SimOffline):
            await self.sim.adapter.request(
                call.ReservationStatusUpdate(
                    reservation_id=reservation_id, reservation_update_status="Expired"
                )
            )
