"""`CentralSystem`: the local OCPP central system as the rest of the product sees it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, overload

from ..clock import utc_now
from ..domain import Card, CardListDelta, LocalCardList
from . import records
from .auth import Authorizer, AuthResult, CardBook, RemoteAuthorizer, config_cards
from .commands import ChargerControl
from .compaction import compact_closed
from .config import CentralConfig
from .configure import push_cards, push_full_list
from .cost import PriceSource, cost_updates, session_cost
from .errors import CentralError, UnknownReservation
from .events import CentralEvent, EventBus
from .firmware import update_firmware
from .hub import ChargerHub
from .ledger import Ledger
from .model import ChargePointState, CurrentLimit, FirmwareUpdate, Reservation, Transaction
from .rotation import rotate_password
from .rpc import OcppSession
from .server import CentralServer
from .sitecards import SiteCards
from .store import Store

_LOGGER = logging.getLogger(__name__)
# Samples outside any transaction (idle chargers' clock-aligned registers) are kept this long.
IDLE_SAMPLE_RETENTION = timedelta(days=7)


class CentralSystem:
    """Implements `LocalCardList` (core/domain.py) besides the charger API below."""

    def __init__(
        self,
        config: CentralConfig,
        *,
        clock: Callable[[], datetime] = utc_now,
        remote_authorizer: RemoteAuthorizer | None = None,
    ) -> None:
        self.config = config
        self._clock = clock
        self._store = Store(config.db_path)
        self._bus = EventBus()
        cards = CardBook(self._store)
        authorizer = Authorizer(config.authorization, cards, self._store, clock, remote_authorizer)
        self._site_cards = authorizer.site_cards = SiteCards(self._store)
        self._hub = ChargerHub(
            config, clock, self._store, Ledger(self._store, clock), self._bus, authorizer, cards
        )
        self._control = ChargerControl(self._hub)
        self._server = CentralServer(self._hub)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._running = False

    # ---- lifetime (start()/stop() without arguments) -----------------------------------------
    @overload
    async def start(self) -> None: ...

    @overload
    async def start(self, cp_id: str, connector: int, id_tag: str) -> str: ...

    async def start(
        self, cp_id: str | None = None, connector: int = 0, id_tag: str | None = None
    ) -> str | None:
        """Without arguments: start serving. With them: RemoteStart a transaction."""
        if cp_id is None:
            await self._start_serving()
            return None
        if id_tag is None:
            raise ValueError("start(cp_id, connector, id_tag) needs an id tag")
        return await self._control.remote_start(cp_id, connector, id_tag)

    @overload
    async def stop(self) -> None: ...

    @overload
    async def stop(self, cp_id: str, connector_or_transaction: int | str) -> str: ...

    async def stop(
        self, cp_id: str | None = None, connector_or_transaction: int | str | None = None
    ) -> str | None:
        """Without arguments: stop serving (no task, socket or timer left). With them:
        RemoteStop the transaction on that connector (int) or with that id (str)."""
        if cp_id is None:
            await self._stop_serving()
            return None
        if connector_or_transaction is None:
            raise ValueError("stop(cp_id, connector_or_transaction) needs a connector or id")
        return await self._control.remote_stop(cp_id, connector_or_transaction)

    async def _start_serving(self) -> None:
        self.config.db_path.parent.mkdir(parents=True, exist_ok=True)
        await self._store.open()
        try:
            await self._hub.cards.load()
            await self._hub.authorizer.load()
            await self._site_cards.load()
            await self._hub.load()
            await self._server.start()
        except BaseException:
            await self._store.close()
            raise
        self._running = True
        self._spawn(self._maintain())
        self._spawn(self._expire_reservations())
        self._spawn(cost_updates(self._hub, self._hub.cost))
        _LOGGER.info("OCPP central system listening on %s:%d", self.config.host, self.port)

    async def _stop_serving(self) -> None:
        if not self._running:
            return
        self._running = False
        await self._server.stop()
        for session in list(self._hub.sessions.values()):
            await session.shutdown()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._store.close()

    @property
    def port(self) -> int:
        return self._server.port

    # ---- state and events ---------------------------------------------------------------------
    def charge_points(self) -> Mapping[str, ChargePointState]:
        return MappingProxyType(dict(self._hub.states))

    def open_transactions(self, cp_id: str | None = None) -> list[Transaction]:
        return self._hub.ledger.open_transactions(cp_id)

    def add_listener(self, callback: Callable[[CentralEvent], None]) -> Callable[[], None]:
        return self._bus.add(callback)

    # ---- commands -----------------------------------------------------------------------------
    async def remote_start(self, cp_id: str, connector: int, id_tag: str) -> str:
        return await self._control.remote_start(cp_id, connector, id_tag)

    async def remote_stop(self, cp_id: str, connector_or_transaction: int | str) -> str:
        return await self._control.remote_stop(cp_id, connector_or_transaction)

    async def unlock(self, cp_id: str, connector: int) -> str:
        """UnlockConnector (1.6: the connector; 2.0.1: that EVSE's connector 1); the charger's
        status (Unlocked, UnlockFailed, NotSupported, 2.0.1 also OngoingAuthorizedTransaction,
        UnknownConnector)."""
        state = self._hub.states.get(cp_id)
        if state is not None and state.ocpp_version == "2.0.1":
            payload: dict[str, Any] = {"evseId": connector, "connectorId": 1}
        else:
            payload = {"connectorId": connector}
        answer = await self.send(cp_id, "UnlockConnector", payload)
        return str(answer.get("status"))

    async def send(self, cp_id: str, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Any central -> charger message; the charger's answer payload, or a CentralError."""
        return await self._control.send(cp_id, action, payload)

    async def reconfigure(self, cp_id: str) -> None:
        """Read the charger's configuration again and reapply meter settings (as after boot)."""
        await self._control.session(cp_id).configure()

    async def set_current_limit(
        self, cp_id: str, amps: float, phases: int | None = None, connector: int = 0
    ) -> CurrentLimit:
        return await self._control.set_current_limit(cp_id, amps, phases, connector)

    def set_phase_switching(self, cp_id: str, connector: int, switching: bool) -> None:
        """The connector switches between 1 and 3 phases: its one-phase limits (2.0.1) name
        phaseToUse 1, as OCPP asks of a charger that can switch."""
        if switching:
            self._hub.phase_switching.add((cp_id, connector))
        else:
            self._hub.phase_switching.discard((cp_id, connector))

    async def clear_current_limit(self, cp_id: str, connector: int = 0) -> None:
        await self._control.clear_current_limit(cp_id, connector)

    async def set_safe_limit(
        self,
        cp_id: str,
        amps: float,
        valid_for: timedelta,
        normal_amps: float | None = None,
        ceiling_amps: float | None = None,
    ) -> CurrentLimit:
        """ChargePointMaxProfile: `normal_amps` for `valid_for`, then `amps` until renewed
        (one-period chargers: `ceiling_amps` or `amps` until `valid_for` ends)."""
        return await self._control.set_safe_limit(cp_id, amps, valid_for, normal_amps, ceiling_amps)

    async def reserve(
        self,
        cp_id: str,
        connector_id: int,
        id_tag: str,
        expires_at: datetime,
        parent_id_tag: str | None = None,
    ) -> Reservation:
        """ReserveNow: hold `connector_id` (0: any) for `id_tag` until `expires_at`.

        The accepted reservation, or: ReservationNotSupported (a 1.6 charger without the
        Reservation profile; nothing sent), CallRejected with the charger's status (Faulted,
        Occupied, Rejected, Unavailable), ChargePointOffline, CallTimeout."""
        session = self._control.session(cp_id)
        return await self._hub.reservations.reserve(
            session, connector_id, id_tag, expires_at, parent_id_tag
        )

    async def cancel_reservation(self, reservation_id: int) -> Reservation:
        """CancelReservation; the ended reservation. UnknownReservation when it is not open;
        CallRejected when the charger no longer holds it (ended here as Removed)."""
        reservation = self._hub.reservations.find(reservation_id)
        if reservation is None:
            raise UnknownReservation(reservation_id)
        session = self._control.session(reservation.charge_point_id)
        return await self._hub.reservations.cancel(session, reservation_id)

    def reservations(self, cp_id: str | None = None) -> list[Reservation]:
        """Open reservations (of one charger), oldest first."""
        return self._hub.reservations.open(cp_id)

    async def rotate_password(self, cp_id: str, password: str | None = None) -> str:
        """Give a connected charger a new basic-auth password (a strong generated one unless
        given), stored before it is sent; the old one stays valid until the new one is used.
        Returns the new password (for the user's records)."""
        return await rotate_password(self._control.session(cp_id), password)

    async def approve(self, cp_id: str) -> None:
        """Accept `cp_id` from now on (boot policy `pending`); a connected charger held Pending
        is asked to boot again at once (TriggerMessage), others are Accepted at their next
        BootNotification."""
        was_pending = cp_id in self._hub.admission.pending
        await self._hub.admission.approve(cp_id)
        session = self._hub.sessions.get(cp_id)
        if was_pending and session is not None and not session.closed:
            session.spawn(_boot_again(session))

    def pending_charge_points(self) -> list[str]:
        """Charge points whose last boot was answered Pending (waiting for `approve`)."""
        return sorted(self._hub.admission.pending)

    async def update_firmware(
        self,
        cp_id: str,
        path: Path,
        signature: str | None = None,
        signing_certificate: str | None = None,
    ) -> FirmwareUpdate:
        """Offer the file at `path` on a one-time URL and ask the charger to install it
        (signed when `signature` and `signing_certificate` are given); its progress is
        `charge_points()[cp_id].firmware_update` and FirmwareStatusChanged events."""
        session = self._control.session(cp_id)
        return await update_firmware(
            session, path, signature=signature, signing_certificate=signing_certificate
        )

    async def closed_transactions(self, start: datetime, end: datetime) -> list[Transaction]:
        """The stored transactions that ended in [start, end) (session history, exports)."""
        return await self._store.read(lambda db: records.closed_transactions(db, start, end))

    async def transaction_cost(self, tx: Transaction, price_at: PriceSource) -> Decimal | None:
        """What `tx` cost at `price_at`, step by step over its stored register readings
        (as a 2.0.1 display is told); None when a step has no price."""
        samples = await self._store.read(lambda db: records.transaction_samples(db, tx.record_id))
        return session_cost(tx, samples, price_at)

    def set_price_source(self, price_at: PriceSource | None) -> None:
        """Where 2.0.1 costs come from: the price per kWh (config.currency) in force at a
        moment, None for an hour without one. Without a source no costs are sent."""
        self._hub.cost.price_at = price_at

    def unprotected_charge_points(self) -> list[str]:
        """Charge points whose connection uses no password or certificate (HA: a repair)."""
        return sorted(cp for cp, state in self._hub.states.items() if state.unprotected)

    async def set_availability(self, cp_id: str, connector: int, available: bool) -> str:
        return await self._control.set_availability(cp_id, connector, available)

    async def push_local_list(
        self, cards: Sequence[Card], cp_id: str | None = None
    ) -> dict[str, str]:
        """Send `cards` as a differential update to one or every connected charger (those
        not approved get none: admission.py `held`)."""
        targets = [cp_id] if cp_id is not None else self._approved_sessions()
        results: dict[str, str] = {}
        if cp_id is not None and self._hub.admission.held(cp_id):
            return {cp_id: "NotReady"}
        for target in targets:
            try:
                results[target] = await push_cards(self._control.session(target), cards)
            except CentralError as err:
                _LOGGER.warning("%s: local list push failed: %s", target, err)
                results[target] = type(err).__name__
        return results

    # ---- LocalCardList --------------------------------------------------------------------------
    async def card_list_version(self) -> int:
        return self._hub.cards.version

    async def apply_card_delta(self, delta: CardListDelta) -> None:
        """Store the delta (refusing blocked cards from now on) and push it in the background."""
        if await self._hub.cards.apply(delta) and self._hub.sessions:
            self._spawn(self.push_local_list(list(delta.cards)))

    async def replace_card_list(self, full: CardListDelta) -> None:
        """Make the local list exactly `full` and send it whole to the connected chargers."""
        await self._hub.cards.replace(full)
        for cp_id in self._approved_sessions():
            self._spawn(self._push_full_list(cp_id))

    def _approved_sessions(self) -> list[str]:
        return [cp for cp in self._hub.sessions if not self._hub.admission.held(cp)]

    async def _push_full_list(self, cp_id: str) -> None:
        try:
            session = self._control.session(cp_id)
            if session.local_list_supported():
                await push_full_list(session)
            # A card dropped or blocked now may still sit in the charger's cache as accepted.
            await session.request("ClearCache", {})
        except CentralError as err:
            _LOGGER.warning("%s: full local list push failed: %s", cp_id, err)

    def cards(self) -> dict[str, list[Card]]:
        """Every card the site knows, by where it comes from: "site" (set here at runtime),
        "config" (site.yaml / options) and "cloud" (the versioned local list)."""
        return {
            "site": self._site_cards.all(),
            "config": sorted(config_cards(self.config.authorization).values(), key=_uid),
            "cloud": sorted(self._hub.cards.all(), key=_uid),
        }

    async def set_card(self, card: Card) -> Card:
        """Add or change a site card (status, expiry, group); judged from the next Authorize."""
        return await self._site_cards.put(card)

    async def remove_card(self, uid: str) -> bool:
        return await self._site_cards.remove(uid)

    async def authorize(self, id_tag: str) -> AuthResult:
        """How the central system judges `id_tag` right now."""
        return await self._hub.authorizer.authorize(id_tag)

    # ---- housekeeping ---------------------------------------------------------------------------
    async def compact_samples(self) -> int:
        bucket, cutoff = self.config.sample_bucket, self._clock() - IDLE_SAMPLE_RETENTION
        return await self._store.write(lambda db: compact_closed(db, bucket, cutoff))

    async def _maintain(self) -> None:
        while True:  # not at start: chargers booting after a restart come first
            await asyncio.sleep(self.config.maintenance_interval)
            try:
                await self.compact_samples()
            except Exception:
                _LOGGER.exception("sample compaction failed")

    async def _expire_reservations(self) -> None:
        while True:
            await asyncio.sleep(self.config.reservation_check_interval)
            try:
                await self._hub.reservations.expire_due()
            except Exception:
                _LOGGER.exception("reservation expiry check failed")

    def _spawn(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


async def _boot_again(session: OcppSession) -> None:
    try:
        await session.request("TriggerMessage", {"requestedMessage": "BootNotification"})
    except CentralError as err:  # it boots again by itself after the Pending interval
        _LOGGER.info("%s: approved; TriggerMessage BootNotification failed: %s", session.id, err)


def _uid(card: Card) -> str:
    return card.uid


if TYPE_CHECKING:  # mypy checks that the central system is the LocalCardList the cloud sync fills

    def _is_a_local_card_list(central: CentralSystem) -> LocalCardList:
        return central
