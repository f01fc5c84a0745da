"""What a driver does at a simulated charger: plug in, start with a card, stop, unplug.

A mixin of `SimChargePoint` (core.py), which holds the state these steps change; kept apart so
that the charger's connection and meter logic and the driver's steps each stay readable.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .transaction import SimSample, SimTransaction

if TYPE_CHECKING:
    from .adapter import ProtocolAdapter
    from .profiles import ProfileBook
    from .reservations import SimReservations


class DriverActions:
    # Provided by SimChargePoint.
    id: str
    version: str
    plugged: bool
    transaction: SimTransaction | None
    finished: list[SimTransaction]
    register_wh: float
    profiles: ProfileBook
    reservations: SimReservations
    connector_id: int
    clock: Callable[[], datetime]

    if TYPE_CHECKING:  # SimChargePoint's own methods

        def advance(self) -> None: ...
        def sample(self, context: str | None = None) -> SimSample: ...
        def _require_adapter(self) -> ProtocolAdapter: ...
        async def queue(
            self, build: Callable[[], Any], on_result: Callable[[Any], None] | None = None
        ) -> None: ...

    async def plug_in(self, card: str | None = None) -> str | None:
        """Plug the car in; with a card, start a transaction. Returns its id once known."""
        self.plugged = True
        self.advance()
        if card is not None:
            await self.begin_transaction(card)
        return self.transaction.id if self.transaction else None

    async def begin_transaction(self, card: str, remote_start_id: int | None = None) -> None:
        if self.transaction is not None or not self.reservations.admits(self.connector_id, card):
            return
        self.plugged = True
        self.advance()
        tx = SimTransaction(
            connector_id=self.connector_id,
            id_tag=card,
            started_at=self.clock(),
            meter_start_wh=round(self.register_wh),
            remote_start_id=remote_start_id,
            reservation_id=self.reservations.use(self.connector_id, card),
        )
        if self.version == "2.0.1":
            tx.id = f"{self.id}-{int(tx.started_at.timestamp() * 1000)}"
        self.transaction = tx

        def accepted(result: Any) -> None:
            self._require_adapter().start_result(tx, result)
            self.advance()

        await self.queue(lambda: self._require_adapter().start_message(tx), accepted)
        self.advance()

    async def unplug(self, reason: str = "EVDisconnected") -> None:
        await self.end_transaction(reason)
        self.plugged = False
        self.advance()

    async def end_transaction(self, reason: str = "Local") -> None:
        tx = self.transaction
        if tx is None:
            return
        sample = self.sample(context="Transaction.End")
        self.transaction = None
        self.finished.append(tx)

        def build() -> Any:
            return self._require_adapter().stop_message(tx, sample, reason)

        self.profiles.drop_transaction(tx.id or tx.local_id)
        self.advance()
        await self.queue(build)
