"""Commands to chargers with version-neutral arguments: start/stop, limits, availability.

Limits follow DESIGN §3/§6: a running transaction gets a TxProfile, an idle connector a
TxDefaultProfile, the charger-wide ChargePointMaxProfile is only the rare safe fallback. Per
brand: ABB gets stack level 0 and overwrites instead of clears, Wallbox is paused by stopping
the transaction (it rejects 0 A) and resumed with the same card, go-e hears the first limit
after a pause twice.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import timedelta
from typing import Any

from .errors import CallRejected, ChargePointOffline, NoActiveTransaction, NotReady
from .hub import ChargerHub
from .model import CurrentLimit, Transaction
from .profiles import (
    CHARGE_POINT_MAX_PROFILE,
    TX_DEFAULT_PROFILE,
    TX_PROFILE,
    build_limit,
    in_unit,
    one_decimal,
    takes_fallback_period,
    with_fallback,
)
from .rpc import OcppSession

_LOGGER = logging.getLogger(__name__)
PAUSED = "paused"
# What "no limit" means when a charger cannot clear profiles (ABB): above any house fuse.
UNLIMITED_AMPS = 63.0
OK_AVAILABILITY = ("Accepted", "Scheduled")
# Retries of a TxProfile rejected for a 1.6 transaction this young (its id may be on its way):
# ~1.5 s in all, far more than an answer takes to be applied, short enough not to matter.
EARLY_TX_RETRIES_S = (0.1, 0.2, 0.4, 0.8)
YOUNG_TRANSACTION = timedelta(minutes=2)


class ChargerControl:
    def __init__(self, hub: ChargerHub) -> None:
        self.hub = hub
        # (cp, connector) -> id tag of a transaction stopped to pause it (Wallbox)
        self._paused: dict[tuple[str, int], str] = {}
        self._single_period_logged: set[str] = set()
        # Chargers found to reject 0 A (not in the quirk table): paused by stopping from now on.
        self._zero_refused: set[str] = set()

    def session(self, cp_id: str) -> OcppSession:
        session = self.hub.sessions.get(cp_id)
        if session is None or session.closed:
            raise ChargePointOffline(cp_id)
        return session

    async def send(self, cp_id: str, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        return await self.session(cp_id).request(action, payload)

    def _not_pending(self, cp_id: str) -> None:
        """Neither OCPP version allows a remote start/stop to a charger whose boot is Pending
        (nor is one sent to a charger not approved: admission.py `held`)."""
        if self.hub.admission.held(cp_id):
            raise NotReady(cp_id)

    async def remote_start(self, cp_id: str, connector_id: int, id_tag: str) -> str:
        self._not_pending(cp_id)
        answer = await self.session(cp_id).remote_start(connector_id, id_tag)
        return _require(cp_id, "RemoteStart", answer, ("Accepted",))

    async def remote_stop(self, cp_id: str, connector_or_transaction: int | str) -> str:
        self._not_pending(cp_id)
        tx = self._transaction(cp_id, connector_or_transaction)
        answer = await self.session(cp_id).remote_stop(tx)
        return _require(cp_id, "RemoteStop", answer, ("Accepted",))

    def _transaction(self, cp_id: str, ref: int | str) -> Transaction:
        ledger = self.hub.ledger
        tx = (
            ledger.open_on_connector(cp_id, ref)
            if isinstance(ref, int)
            else ledger.find_open(cp_id, ref)
        )
        if tx is None:
            raise NoActiveTransaction(cp_id, ref)
        return tx

    async def set_availability(self, cp_id: str, connector_id: int, available: bool) -> str:
        answer = await self.session(cp_id).change_availability(connector_id, available)
        return _require(cp_id, "ChangeAvailability", answer, OK_AVAILABILITY)

    async def set_current_limit(
        self, cp_id: str, amps: float, phases: int | None, connector_id: int
    ) -> CurrentLimit:
        amps = one_decimal(max(0.0, amps))
        session = self.session(cp_id)
        if amps > 0 and self._paused_on(cp_id, connector_id):
            return await self._resume(session, amps, phases, connector_id)
        running = self._running(cp_id, connector_id)
        if amps == 0 and running and self._rejects_zero(cp_id):
            return await self._pause_by_stop(session, running, phases)
        if not running:
            return await self._apply(session, TX_DEFAULT_PROFILE, connector_id, amps, phases, None)
        limit = None
        for tx in running:
            try:
                limit = await self._apply_tx(session, tx, amps, phases)
            except CallRejected:
                if amps > 0:
                    raise
                # Rejected although it knows the transaction by now: 0 A is what it refuses.
                _LOGGER.info("%s refuses a 0 A limit: paused by stopping instead", cp_id)
                self._zero_refused.add(cp_id)
                return await self._pause_by_stop(session, running, phases)
        assert limit is not None
        return limit

    def _rejects_zero(self, cp_id: str) -> bool:
        return self.hub.quirks(cp_id).rejects_zero_amps or cp_id in self._zero_refused

    async def _apply_tx(
        self, session: OcppSession, tx: Transaction, amps: float, phases: int | None
    ) -> CurrentLimit:
        """A TxProfile. A 1.6 charger learns a transaction's id from our answer to its
        StartTransaction, and a limit sent right after can overtake that answer inside the
        charger: rejected because the id is unknown, not because of the limit. So a rejection
        for a young 1.6 transaction is retried shortly before it counts."""
        for delay in EARLY_TX_RETRIES_S:
            try:
                return await self._apply(session, TX_PROFILE, tx.connector_id, amps, phases, tx)
            except CallRejected:
                young = self.hub.clock() - tx.started_at < YOUNG_TRANSACTION
                if session.ocpp_version != "1.6" or not young:
                    raise
            await asyncio.sleep(delay)
        return await self._apply(session, TX_PROFILE, tx.connector_id, amps, phases, tx)

    def _running(self, cp_id: str, connector_id: int) -> list[Transaction]:
        """The live transaction of each connector concerned: a TxProfile for any other would
        be refused by the charger (and the ledger keeps one open per connector anyway)."""
        ledger = self.hub.ledger
        connectors = sorted(
            {
                tx.connector_id
                for tx in ledger.open_transactions(cp_id)
                if connector_id in (0, tx.connector_id)
            }
        )
        live = (ledger.open_on_connector(cp_id, c) for c in connectors)
        return [tx for tx in live if tx is not None]

    def _paused_on(self, cp_id: str, connector_id: int) -> list[int]:
        return [
            connector
            for (cp, connector) in self._paused
            if cp == cp_id and connector_id in (0, connector)
        ]

    async def _apply(
        self,
        session: OcppSession,
        purpose: str,
        connector_id: int,
        amps: float,
        phases: int | None,
        tx: Transaction | None,
    ) -> CurrentLimit:
        cp_id, hub = session.id, self.hub
        await hub.admission.wait_ready(session)  # never before the boot is answered and configured
        quirks = hub.quirks(cp_id)
        spec = build_limit(
            hub.state(cp_id),
            quirks,
            purpose=purpose,
            connector_id=connector_id,
            amps=amps,
            phases=phases,
            now=hub.clock(),
            wanted_stack_level=hub.config.profile_stack_level,
            nominal_voltage=hub.config.nominal_voltage,
            transaction_id=tx.id if tx is not None else None,
            phase_to_use=hub.phase_to_use(cp_id, connector_id, phases),
        )
        previous = hub.connector(cp_id, connector_id).limit
        answer = await session.set_charging_profile(connector_id, spec)
        resumed = previous is not None and previous.amps == 0 and amps > 0
        if resumed and quirks.ignores_first_limit_after_zero and answer.get("status") == "Accepted":
            answer = await session.set_charging_profile(connector_id, spec)
        limit = CurrentLimit(amps, phases, purpose, hub.clock(), str(answer.get("status")))
        hub.set_limit(cp_id, connector_id, limit)
        _require(cp_id, "SetChargingProfile", answer, ("Accepted",))
        return limit

    async def _pause_by_stop(
        self, session: OcppSession, running: list[Transaction], phases: int | None
    ) -> CurrentLimit:
        limit = CurrentLimit(0.0, phases, PAUSED, self.hub.clock(), "Accepted")
        for tx in running:
            answer = await session.remote_stop(tx)
            _require(session.id, "RemoteStopTransaction", answer, ("Accepted",))
            self._paused[(session.id, tx.connector_id)] = tx.id_tag or ""
            self.hub.set_limit(session.id, tx.connector_id, limit)
        return limit

    async def _resume(
        self, session: OcppSession, amps: float, phases: int | None, connector_id: int
    ) -> CurrentLimit:
        limit = None
        for connector in self._paused_on(session.id, connector_id):
            id_tag = self._paused.pop((session.id, connector))
            limit = await self._apply(session, TX_DEFAULT_PROFILE, connector, amps, phases, None)
            if id_tag:
                answer = await session.remote_start(connector, id_tag)
                _require(session.id, "RemoteStartTransaction", answer, ("Accepted",))
        assert limit is not None
        return limit

    async def clear_current_limit(self, cp_id: str, connector_id: int) -> None:
        session = self.session(cp_id)
        await self.hub.admission.wait_ready(session)
        if self.hub.quirks(cp_id).clear_profile_is_noop:
            await self._apply(session, TX_DEFAULT_PROFILE, connector_id, UNLIMITED_AMPS, None, None)
            for tx in self._running(cp_id, connector_id):
                await self._apply(session, TX_PROFILE, tx.connector_id, UNLIMITED_AMPS, None, tx)
            return
        for purpose in (TX_PROFILE, TX_DEFAULT_PROFILE):
            answer = await session.clear_charging_profile(connector_id, purpose)
            if answer.get("status") not in ("Accepted", "Unknown"):
                raise CallRejected(cp_id, "ClearChargingProfile", str(answer.get("status")), answer)
        self.hub.set_limit(cp_id, connector_id, None)

    async def set_safe_limit(
        self,
        cp_id: str,
        amps: float,
        valid_for: timedelta,
        normal_amps: float | None = None,
        ceiling_amps: float | None = None,
    ) -> CurrentLimit:
        """The charger's dead-man switch: `normal_amps` (default: no cap) for `valid_for`, then
        `amps` with no end, so it falls back by itself when nobody renews this in time.

        A charger that takes one schedule period only (ChargingScheduleMaxPeriods = 1) gets
        the older ceiling instead: `ceiling_amps` (default `amps`) until `valid_for` ends,
        nothing afterwards."""
        session, hub = self.session(cp_id), self.hub
        await hub.admission.wait_ready(session)
        state, voltage = hub.state(cp_id), hub.config.nominal_voltage
        two_periods = takes_fallback_period(state)
        spec = build_limit(
            state,
            hub.quirks(cp_id),
            purpose=CHARGE_POINT_MAX_PROFILE,
            connector_id=0,
            amps=UNLIMITED_AMPS if normal_amps is None else normal_amps,
            phases=None,
            now=hub.clock(),
            wanted_stack_level=hub.config.profile_stack_level,
            nominal_voltage=voltage,
            valid_for=valid_for,
        )
        if two_periods:
            spec = with_fallback(spec, amps, valid_for, voltage)
        else:
            amps = amps if ceiling_amps is None else ceiling_amps
            spec = replace(spec, limit=in_unit(amps, spec.unit, None, voltage))
            if cp_id not in self._single_period_logged:
                self._single_period_logged.add(cp_id)
                _LOGGER.warning(
                    "%s takes one schedule period only: its safe limit of %.1f A is a ceiling "
                    "that ends after %s, not a fallback",
                    cp_id,
                    amps,
                    valid_for,
                )
        answer = await session.set_charging_profile(0, spec)
        limit = CurrentLimit(
            one_decimal(amps),
            None,
            CHARGE_POINT_MAX_PROFILE,
            hub.clock(),
            str(answer.get("status")),
        )
        hub.states[cp_id] = replace(hub.state(cp_id), safe_limit=limit)
        _require(cp_id, "SetChargingProfile", answer, ("Accepted",))
        return limit


def _require(cp_id: str, action: str, answer: dict[str, Any], ok: tuple[str, ...]) -> str:
    status = str(answer.get("status"))
    if status not in ok:
        raise CallRejected(cp_id, action, status, answer)
    return status
