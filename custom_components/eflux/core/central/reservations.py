"""Reservations (ReserveNow / CancelReservation): ids, persistence, and how each one ends.

The reservationId is the row id of the `reservations` table (AUTOINCREMENT): the row is
written before ReserveNow goes out, so no id is ever handed out twice, not even across a
restart, and open reservations are loaded back at start. A reservation ends once: used by a
transaction (1.6 StartTransaction / 2.0.1 TransactionEvent with its reservationId), cancelled,
expired (by our clock: a 1.6 charger sends nothing when it drops one), or removed by a 2.0.1
charger (ReservationStatusUpdate).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

import aiosqlite

from .errors import CallRejected, CentralError, ReservationNotSupported, UnknownReservation
from .events import ReservationEnded, ReservationMade
from .model import Reservation
from .timeutil import from_db, to_db

if TYPE_CHECKING:
    from .hub import ChargerHub
    from .rpc import OcppSession

_LOGGER = logging.getLogger(__name__)
USED, CANCELLED, EXPIRED = "Used", "Cancelled", "Expired"
# Ended without the charger holding it: no answer to ReserveNow, or CancelReservation
# answered Rejected (the charger no longer knows the id).
NO_ANSWER, REMOVED = "NoAnswer", "Removed"
_COLUMNS = (
    "id, charge_point_id, connector_id, id_tag, parent_id_tag, expires_at, created_at, status,"
    " ended_at, end_reason, transaction_id"
)


class ReservationBook:
    def __init__(self, hub: ChargerHub) -> None:
        self._hub = hub
        self._open: dict[int, Reservation] = {}

    async def load(self) -> None:
        self._open = {r.id: r for r in await self._hub.store.read(_load_open)}
        for reservation in self._open.values():
            self._show(reservation, reservation)

    def open(self, cp_id: str | None = None) -> list[Reservation]:
        return sorted(
            (r for r in self._open.values() if cp_id in (None, r.charge_point_id)),
            key=lambda r: r.id,
        )

    def on_connector(self, cp_id: str, connector_id: int) -> Reservation | None:
        return next(
            (r for r in self.open(cp_id) if r.connector_id == connector_id),
            None,
        )

    async def reserve(
        self,
        session: OcppSession,
        connector_id: int,
        id_tag: str,
        expires_at: datetime,
        parent_id_tag: str | None,
    ) -> Reservation:
        cp_id, hub = session.id, self._hub
        refused = session.reservations_refused()
        if refused is not None:
            raise ReservationNotSupported(cp_id, refused)
        if connector_id < 0:
            raise ValueError(f"connector {connector_id} is invalid (>= 0 expected)")
        now = hub.clock()
        if expires_at <= now:
            raise ValueError(f"expires_at {expires_at.isoformat()} is not in the future")
        template = Reservation(0, cp_id, connector_id, id_tag, expires_at, now, parent_id_tag)
        reservation = replace(template, id=await hub.store.write(lambda db: _insert(db, template)))
        try:
            answer = await session.reserve_now(reservation)
        except CentralError:
            await self._save(replace(reservation, ended_at=hub.clock(), end_reason=NO_ANSWER))
            raise
        status = str(answer.get("status"))
        if status != "Accepted":
            refusal = replace(reservation, status=status, ended_at=hub.clock(), end_reason=status)
            await self._save(refusal)
            raise CallRejected(cp_id, "ReserveNow", status, answer)
        accepted = replace(reservation, status=status)
        await self._save(accepted)
        # A charger may take a new reservation over an old one on the same connector.
        previous = self.on_connector(cp_id, connector_id)
        self._open[accepted.id] = accepted
        if previous is not None:
            await self._end(previous, REMOVED)
        self._show(accepted, accepted)
        hub.bus.emit(ReservationMade(cp_id, hub.clock(), accepted))
        return accepted

    async def cancel(self, session: OcppSession, reservation_id: int) -> Reservation:
        reservation = self._open.get(reservation_id)
        if reservation is None or reservation.charge_point_id != session.id:
            raise UnknownReservation(reservation_id)
        answer = await session.cancel_reservation(reservation_id)
        status = str(answer.get("status"))
        if status != "Accepted":
            # Rejected: the charger holds no such reservation (any more); ours ends too.
            await self._end(reservation, REMOVED)
            raise CallRejected(session.id, "CancelReservation", status, answer)
        return await self._end(reservation, CANCELLED)

    def find(self, reservation_id: int) -> Reservation | None:
        return self._open.get(reservation_id)

    async def used(
        self,
        cp_id: str,
        connector_id: int,
        id_tag: str | None,
        reservation_id: int | None,
        transaction_id: str,
    ) -> None:
        """A transaction started: it ends the reservation it names, or (chargers that leave
        reservationId out) the one on its connector for the same card."""
        reservation = self._open.get(reservation_id) if reservation_id is not None else None
        if reservation is not None and reservation.charge_point_id != cp_id:
            reservation = None
        if reservation is None and id_tag is not None:
            reservation = next(
                (
                    r
                    for r in self.open(cp_id)
                    if r.connector_id in (0, connector_id) and r.id_tag == id_tag
                ),
                None,
            )
        if reservation is not None:
            await self._end(reservation, USED, transaction_id)

    async def charger_ended(self, cp_id: str, reservation_id: int, status: str) -> None:
        """2.0.1 ReservationStatusUpdate: Expired or Removed by the charger."""
        reservation = self._open.get(reservation_id)
        if reservation is None or reservation.charge_point_id != cp_id:
            _LOGGER.info(
                "%s: status %s for reservation %d we hold no more", cp_id, status, reservation_id
            )
            return
        await self._end(reservation, status)

    async def expire_due(self) -> list[Reservation]:
        now = self._hub.clock()
        due = [r for r in self.open() if r.expires_at <= now]
        return [await self._end(r, EXPIRED) for r in due]

    async def _end(
        self, reservation: Reservation, reason: str, transaction_id: str | None = None
    ) -> Reservation:
        hub = self._hub
        if self._open.pop(reservation.id, None) is None:
            return reservation  # ended meanwhile (expiry and use can race)
        ended = replace(
            reservation, ended_at=hub.clock(), end_reason=reason, transaction_id=transaction_id
        )
        await self._save(ended)
        self._show(reservation, None)
        hub.bus.emit(ReservationEnded(ended.charge_point_id, hub.clock(), ended, reason))
        return ended

    def _show(self, reservation: Reservation, shown: Reservation | None) -> None:
        cp_id, connector_id = reservation.charge_point_id, reservation.connector_id
        current = self._hub.connector(cp_id, connector_id).reservation
        if shown is not None or (current is not None and current.id == reservation.id):
            self._hub.show_reservation(cp_id, connector_id, shown)

    async def _save(self, reservation: Reservation) -> None:
        await self._hub.store.write(lambda db: _update(db, reservation))


async def _insert(db: aiosqlite.Connection, r: Reservation) -> int:
    cursor = await db.execute(
        "INSERT INTO reservations (charge_point_id, connector_id, id_tag, parent_id_tag,"
        " expires_at, created_at) VALUES (?,?,?,?,?,?)",
        (
            r.charge_point_id,
            r.connector_id,
            r.id_tag,
            r.parent_id_tag,
            to_db(r.expires_at),
            to_db(r.created_at),
        ),
    )
    assert cursor.lastrowid is not None
    return int(cursor.lastrowid)


async def _update(db: aiosqlite.Connection, r: Reservation) -> None:
    await db.execute(
        "UPDATE reservations SET status = ?, ended_at = ?, end_reason = ?, transaction_id = ?"
        " WHERE id = ?",
        (r.status, to_db(r.ended_at), r.end_reason, r.transaction_id, r.id),
    )


async def _load_open(db: aiosqlite.Connection) -> list[Reservation]:
    async with db.execute(
        f"SELECT {_COLUMNS} FROM reservations WHERE ended_at IS NULL AND status = 'Accepted'"  # noqa: S608
    ) as cursor:
        return [_row(row) for row in await cursor.fetchall()]


async def load_all(db: aiosqlite.Connection, cp_id: str) -> list[Reservation]:
    """Every reservation of a charger, newest first (history, tests)."""
    async with db.execute(
        f"SELECT {_COLUMNS} FROM reservations WHERE charge_point_id = ? ORDER BY id DESC",  # noqa: S608
        (cp_id,),
    ) as cursor:
        return [_row(row) for row in await cursor.fetchall()]


def _row(row: Any) -> Reservation:
    expires_at, created_at = from_db(row[5]), from_db(row[6])
    assert expires_at is not None
    assert created_at is not None
    return Reservation(
        id=int(row[0]),
        charge_point_id=row[1],
        connector_id=int(row[2]),
        id_tag=row[3],
        parent_id_tag=row[4],
        expires_at=expires_at,
        created_at=created_at,
        status=row[7],
        ended_at=from_db(row[8]),
        end_reason=row[9],
        transaction_id=row[10],
    )
