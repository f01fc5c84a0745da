"""The shared state the per-version sessions work on: chargers, connectors, transactions.

Sessions translate OCPP messages into calls here; this module commits through the store and
ledger first, then updates the in-memory model and emits events, so a listener never sees a
state that a crash could take back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import aiosqlite

from . import records
from .admission import Admission
from .auth import Authorizer, CardBook
from .config import CentralConfig
from .cost import CostBook
from .credentials import Credentials
from .events import (
    ChargerBooted,
    ChargerConnected,
    ChargerDisconnected,
    EventBus,
    LimitChecked,
    MeterSampled,
    StatusChanged,
    TransactionEnded,
    TransactionStarted,
    TransactionUpdated,
)
from .firmware import FirmwareFiles
from .ledger import Ledger
from .model import (
    ChargePointState,
    ConnectorState,
    CurrentLimit,
    MeterSample,
    Reservation,
    Transaction,
)
from .quirks import STANDARD, Quirks, quirks_for
from .reservations import ReservationBook
from .store import Store

if TYPE_CHECKING:
    from .rpc import OcppSession

_LOGGER = logging.getLogger(__name__)
# A limit is judged on the first sample received this long after it was sent.
LIMIT_SETTLE = timedelta(seconds=5)
# Measured current may exceed a limit by this much (meter accuracy, car control loop).
LIMIT_TOLERANCE_A = 1.0


class ChargerHub:
    def __init__(
        self,
        config: CentralConfig,
        clock: Callable[[], datetime],
        store: Store,
        ledger: Ledger,
        bus: EventBus,
        authorizer: Authorizer,
        cards: CardBook,
    ) -> None:
        self.config = config
        self.clock = clock
        self.store = store
        self.ledger = ledger
        self.bus = bus
        self.authorizer = authorizer
        self.cards = cards
        self.states: dict[str, ChargePointState] = {}
        self.sessions: dict[str, OcppSession] = {}
        self._quirks: dict[str, Quirks] = {}
        self.admission = Admission(config, store, clock)  # boot policy, readiness
        self.reservations = ReservationBook(self)
        self.credentials = Credentials(config.passwords, store, clock)
        self.firmware = FirmwareFiles()  # one-time download URLs (firmware.py)
        self.cost = CostBook(config.currency, config.cost_update_interval)  # cost.py
        # (charge point, connector) that switch between 1 and 3 phases (the controller says)
        self.phase_switching: set[tuple[str, int]] = set()
        # Ids first seen held for approval (admission.py): stored only while they wait
        # Pending, forgotten when Rejected, silent or dropped from the list - so a flood of
        # made-up ids leaves nothing behind in memory or in the file.
        self._newcomers: set[str] = set()

    async def load(self) -> None:
        self.states = {
            cp_id: replace(state, online=False)
            for cp_id, state in (await self.store.read(records.load_charge_points)).items()
        }
        for state in self.states.values():
            self._quirks[state.id] = quirks_for(state.vendor, state.model)
        await self.credentials.load()
        await self.admission.load()
        await self.ledger.load()
        await self.ledger.supersede_duplicates()
        for tx in self.ledger.open_transactions():
            self._set_connector(tx.charge_point_id, tx.connector_id, transaction=tx)
        await self.reservations.load()

    # ---- charge points -----------------------------------------------------------------------
    def state(self, cp_id: str) -> ChargePointState:
        return self.states.get(cp_id) or ChargePointState(id=cp_id)

    def phase_to_use(self, cp_id: str, connector_id: int, phases: int | None) -> int | None:
        """2.0.1 phaseToUse for a one-phase limit on a connector that switches: its L1."""
        switching = (cp_id, connector_id) in self.phase_switching
        if phases == 1 and switching and self.state(cp_id).ocpp_version == "2.0.1":
            return 1
        return None

    def quirks(self, cp_id: str) -> Quirks:
        return self._quirks.get(cp_id, STANDARD)

    def is_known(self, cp_id: str) -> bool:
        return cp_id in self.states or cp_id in self.config.known_charge_points

    def touch(self, cp_id: str) -> None:
        state = self.states.get(cp_id)
        if state is not None:
            self.states[cp_id] = replace(state, last_seen=self.clock())

    async def attach(
        self, session: OcppSession, *, security_profile: int | None = None
    ) -> OcppSession | None:
        """Register a new session; returns the one it replaces (the caller closes it)."""
        cp_id = session.id
        previous = self.sessions.get(cp_id)
        self.sessions[cp_id] = session
        newcomer = cp_id in self._newcomers or (
            cp_id not in self.states and self.admission.held(cp_id)
        )
        now = self.clock()
        state = replace(
            self.state(cp_id),
            online=True,
            last_seen=now,
            ocpp_version=session.ocpp_version,
            security_profile=security_profile,
        )
        self.states[cp_id] = state
        if newcomer:
            self._newcomers.add(cp_id)  # stored when it boots Pending
        else:
            await self.store.write(lambda db: records.save_charge_point(db, state))
        self.bus.emit(ChargerConnected(cp_id, now, session.ocpp_version))
        return previous

    def detach(self, session: OcppSession, reason: str) -> None:
        cp_id = session.id
        if self.sessions.get(cp_id) is not session:
            return  # already replaced by a newer connection: it owns the state now
        del self.sessions[cp_id]
        if cp_id in self._newcomers and cp_id not in self.admission.pending:
            self._forget(cp_id)  # never Pending (Rejected, or it did not boot)
        else:
            self.states[cp_id] = replace(self.state(cp_id), online=False)
        self.bus.emit(ChargerDisconnected(cp_id, self.clock(), reason))

    def _forget(self, cp_id: str) -> None:
        self._newcomers.discard(cp_id)
        self.states.pop(cp_id, None)
        self._quirks.pop(cp_id, None)

    async def boot(
        self,
        cp_id: str,
        vendor: str,
        model: str,
        firmware: str | None,
        serial: str | None,
    ) -> ChargePointState:
        now = self.clock()
        status = self.admission.boot_status(cp_id, self.sessions)
        state = replace(
            self.state(cp_id),
            vendor=vendor,
            model=model,
            firmware=firmware,
            serial=serial,
            booted_at=now,
            last_seen=now,
            online=cp_id in self.sessions,
            boot_status=status,
        )
        dropped = [
            cp
            for cp in self.admission.take_dropped()
            if cp in self._newcomers and cp not in self.sessions
        ]
        keep = status != "Rejected" or cp_id not in self._newcomers

        async def work(db: aiosqlite.Connection) -> None:
            for cp in dropped:
                await records.forget_charge_point(db, cp)
            if keep:
                await records.save_charge_point(db, state)

        await self.store.write(work)
        for cp in dropped:
            self._forget(cp)
        if status == "Accepted":
            self._newcomers.discard(cp_id)
        self.states[cp_id] = state
        self._quirks[cp_id] = quirks_for(vendor, model)
        self.bus.emit(ChargerBooted(cp_id, now, state))
        return state

    async def save_configuration(self, cp_id: str, values: dict[str, str]) -> None:
        state = self.state(cp_id)
        state = replace(state, configuration={**state.configuration, **values})
        await self.store.write(lambda db: records.save_charge_point(db, state))
        self.states[cp_id] = replace(self.state(cp_id), configuration=state.configuration)

    # ---- connectors --------------------------------------------------------------------------
    def connector(self, cp_id: str, connector_id: int) -> ConnectorState:
        return self.state(cp_id).connectors.get(connector_id) or ConnectorState(connector_id)

    def _set_connector(self, cp_id: str, connector_id: int, **changes: Any) -> ConnectorState:
        state = self.state(cp_id)
        connector = replace(self.connector(cp_id, connector_id), **changes)
        self.states[cp_id] = replace(
            state, connectors={**state.connectors, connector_id: connector}
        )
        return connector

    async def status(
        self,
        cp_id: str,
        connector_id: int,
        status: str,
        error_code: str | None,
        info: str | None,
        vendor_id: str | None,
        vendor_error_code: str | None,
        at: datetime,
    ) -> None:
        current = self.connector(cp_id, connector_id)
        if current.status_at is not None and at < current.status_at:
            return  # an offline-queued status older than what we know: history, not state
        changes: dict[str, Any] = {
            "status": status,
            "error_code": error_code,
            "info": info,
            "vendor_id": vendor_id,
            "vendor_error_code": vendor_error_code,
            "status_at": at,
        }
        updated = replace(current, **changes)
        await self.store.write(lambda db: records.save_connector(db, cp_id, updated))
        self._set_connector(cp_id, connector_id, **changes)
        self.bus.emit(
            StatusChanged(
                cp_id, self.clock(), connector_id, status, error_code, info, vendor_error_code
            )
        )

    def set_limit(self, cp_id: str, connector_id: int, limit: CurrentLimit | None) -> None:
        self._set_connector(cp_id, connector_id, limit=limit)

    def show_reservation(
        self, cp_id: str, connector_id: int, reservation: Reservation | None
    ) -> None:
        self._set_connector(cp_id, connector_id, reservation=reservation)

    # ---- meter values and transactions -------------------------------------------------------
    async def meter(
        self, cp_id: str, connector_id: int, tx: Transaction | None, samples: Sequence[MeterSample]
    ) -> Transaction | None:
        if tx is not None and self.quirks(cp_id).session_energy_in_meter_values:
            samples = [_session_to_register(tx, s) for s in samples]
        updated = await self.ledger.record_samples(cp_id, connector_id, tx, samples)
        newest = max(samples, key=lambda s: s.timestamp, default=None)
        connector = self.connector(cp_id, connector_id)
        if newest is not None and (
            connector.meter is None or newest.timestamp >= connector.meter.timestamp
        ):
            connector = self._set_connector(
                cp_id, connector_id, meter=_merge(connector.meter, newest)
            )
            self._check_limit(cp_id, connector, newest)
        now = self.clock()
        tx_id = tx.id if tx is not None else None
        for sample in samples:
            self.bus.emit(MeterSampled(cp_id, now, connector_id, sample, tx_id))
        if updated is not None and updated.is_open:
            self._show_transaction(updated)
            self.bus.emit(TransactionUpdated(cp_id, now, updated))
        return updated

    def _check_limit(self, cp_id: str, connector: ConnectorState, sample: MeterSample) -> None:
        limit = connector.limit
        if (
            limit is None
            or limit.verified is not None
            or connector.transaction is None
            or not sample.current_a.known
            or self.clock() - limit.sent_at < LIMIT_SETTLE
        ):
            return
        measured = sample.current_a.max() or 0.0
        held = replace(limit, verified=measured <= limit.amps + LIMIT_TOLERANCE_A)
        self._set_connector(cp_id, connector.connector_id, limit=held)
        if not held.verified:
            _LOGGER.warning(
                "%s/%d draws %.1f A over a limit of %.1f A",
                cp_id,
                connector.connector_id,
                measured,
                limit.amps,
            )
        self.bus.emit(LimitChecked(cp_id, self.clock(), connector.connector_id, held, measured))

    def _show_transaction(self, tx: Transaction) -> None:
        """Make `tx` the connector's current transaction if it is the newest open one there."""
        newest = self.ledger.open_on_connector(tx.charge_point_id, tx.connector_id)
        self._set_connector(tx.charge_point_id, tx.connector_id, transaction=newest)

    async def start_transaction(
        self, template: Transaction, start_key: str | None, samples: Sequence[MeterSample] = ()
    ) -> tuple[Transaction, bool]:
        tx, created, superseded = await self.ledger.start(template, start_key, samples)
        for old in superseded:
            self.bus.emit(TransactionEnded(old.charge_point_id, self.clock(), old))
        if created:
            self._show_transaction(tx)
            self.bus.emit(TransactionStarted(tx.charge_point_id, self.clock(), tx))
        return tx, created

    async def update_transaction(self, tx: Transaction) -> Transaction:
        await self.ledger.update(tx)
        self._show_transaction(tx)
        self.bus.emit(TransactionUpdated(tx.charge_point_id, self.clock(), tx))
        return tx

    async def stop_transaction(
        self,
        tx: Transaction,
        meter_stop_wh: float | None,
        stopped_at: datetime,
        reason: str | None,
        samples: Sequence[MeterSample] = (),
    ) -> Transaction:
        if self.quirks(tx.charge_point_id).session_energy_in_meter_values:
            samples = [_session_to_register(tx, s) for s in samples]
        closed = await self.ledger.stop(tx, meter_stop_wh, stopped_at, reason, samples)
        self._show_transaction(closed)
        self.bus.emit(TransactionEnded(closed.charge_point_id, self.clock(), closed))
        return closed

    async def orphan_stop(
        self, template: Transaction, meter_stop_wh: float | None, samples: Sequence[MeterSample]
    ) -> Transaction:
        orphan = await self.ledger.record_orphan(template, meter_stop_wh, samples)
        _LOGGER.warning(
            "%s: stop for unknown transaction %s kept as orphan record %d",
            orphan.charge_point_id,
            template.id,
            orphan.record_id,
        )
        self.bus.emit(TransactionEnded(orphan.charge_point_id, self.clock(), orphan))
        return orphan

    async def resolve_transaction(
        self, cp_id: str, ocpp_id: str | None, connector_id: int | None
    ) -> Transaction | None:
        """The transaction a message refers to (open, or closed for late messages).

        A negative id (Etrel, offline starts on several firmwares) or none at all means the
        connector's open transaction, or the charger's only one when no connector is given.
        """
        if ocpp_id is not None and not ocpp_id.startswith("-"):
            return await self.ledger.find(cp_id, ocpp_id)
        if connector_id:
            return self.ledger.open_on_connector(cp_id, connector_id)
        if ocpp_id is not None:
            candidates = self.ledger.open_transactions(cp_id)
            return candidates[0] if len(candidates) == 1 else None
        return None


def _session_to_register(tx: Transaction, sample: MeterSample) -> MeterSample:
    """Grizzl-E: its MeterValues count from the session start; make them a register again."""
    if sample.energy_wh is None or tx.meter_start_wh is None:
        return sample
    return replace(sample, energy_wh=tx.meter_start_wh + sample.energy_wh)


def _merge(previous: MeterSample | None, newest: MeterSample) -> MeterSample:
    """The newest sample, with fields it lacks taken from the previous one."""
    if previous is None:
        return newest
    return replace(
        newest,
        energy_wh=newest.energy_wh if newest.energy_wh is not None else previous.energy_wh,
        power_w=newest.power_w if newest.power_w is not None else previous.power_w,
        current_a=newest.current_a if newest.current_a.known else previous.current_a,
        voltage_v=newest.voltage_v if newest.voltage_v.known else previous.voltage_v,
        soc=newest.soc if newest.soc is not None else previous.soc,
        current_offered_a=(
            newest.current_offered_a
            if newest.current_offered_a is not None
            else previous.current_offered_a
        ),
    )
