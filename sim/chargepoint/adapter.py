"""What both protocol adapters share: the library's client side plus the charger's rules."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ocpp.charge_point import ChargePoint

from .profiles import TX, SimProfile
from .transaction import SimSample, SimTransaction

if TYPE_CHECKING:
    from websockets.asyncio.client import ClientConnection

    from .core import SimChargePoint


class ProtocolAdapter(ChargePoint):  # type: ignore[misc]  # the library is untyped
    subprotocol: str

    def __init__(self, sim: SimChargePoint, connection: ClientConnection) -> None:
        super().__init__(sim.id, connection, response_timeout=sim.call_timeout)
        self.sim = sim
        self.connection = connection
        for key, value in self.defaults().items():
            sim.configuration.setdefault(key, value)

    def defaults(self) -> dict[str, str]:
        """The configuration keys (1.6) or variables (2.0.1) a fresh charger has."""
        raise NotImplementedError

    last_frame_bytes = 0  # the size of the newest frame from the central system

    async def route_message(self, raw_msg: str) -> None:
        self.last_frame_bytes = len(raw_msg.encode())
        try:
            message = json.loads(raw_msg)
        except ValueError:
            message = None
        if isinstance(message, list) and len(message) == 4 and message[0] == 2:
            self.sim.received.append((str(message[2]), message[3]))
        await super().route_message(raw_msg)

    async def request(self, payload: Any) -> Any:
        """A CALL to the central system; a CALLERROR raises."""
        # A charger sending units outside the schema would fail our own client-side check.
        off_schema = self.sim.behaviour.frequency_unit is not None
        return await self.call(payload, suppress=False, skip_schema_validation=off_schema)

    def apply_profile(self, profile: SimProfile) -> str:
        sim, behaviour = self.sim, self.sim.behaviour
        if behaviour.rejects_stack_level_above_zero and profile.stack_level > 0:
            return "Rejected"
        if behaviour.rejects_zero_limit and 0 in profile.limits:
            return "Rejected"
        if len(profile.limits) > self.max_periods():
            return "Rejected"
        tx = sim.transaction
        if profile.purpose == TX and (
            tx is None
            or profile.connector_id != tx.connector_id
            or profile.transaction_id not in (None, tx.id, tx.local_id)
        ):
            return "Rejected"
        if (
            tx is not None
            and profile.transaction_id is not None
            and tx.tx_profiles_seen < behaviour.late_transaction_id
        ):
            # Still busy with StartTransaction's answer: the id it names is not known yet.
            tx.tx_profiles_seen += 1
            return "Rejected"
        if behaviour.ignores_first_limit_after_zero:
            if profile.limit == 0:
                sim._ignore_next_limit = True
            elif sim._ignore_next_limit:
                sim._ignore_next_limit = False
                return "Accepted"  # and ignored: what go-e does when resuming from 0 A
        sim.profiles.install(profile)
        sim.advance()
        return "Accepted"

    def max_periods(self) -> int:
        """ChargingScheduleMaxPeriods (1.6) or PeriodsPerSchedule (2.0.1) as configured."""
        config = self.sim.configuration
        raw = config.get("ChargingScheduleMaxPeriods") or config.get(
            "SmartChargingCtrlr.PeriodsPerSchedule"
        )
        return int(raw) if raw and raw.strip().isdigit() else 24

    def clear_profiles(self, **criteria: Any) -> str:
        if self.sim.behaviour.clear_profile_is_noop:
            return "Accepted"
        removed = self.sim.profiles.clear(**criteria)
        self.sim.advance()
        return "Accepted" if removed else "Unknown"

    def store_local_list(self, version: int, update_type: str, entries: dict[str, str]) -> str:
        if update_type == "Full":
            self.sim.local_list = entries
        else:
            self.sim.local_list.update(entries)
        self.sim.local_list_version = version
        return "Accepted"

    # ---- per version ------------------------------------------------------------------------
    async def boot(self) -> int:
        raise NotImplementedError

    async def heartbeat(self) -> None:
        raise NotImplementedError

    async def status(self, connector_id: int, status: str) -> None:
        raise NotImplementedError

    async def authorize(self, id_tag: str) -> str:
        raise NotImplementedError

    def start_message(self, tx: SimTransaction) -> Any:
        raise NotImplementedError

    def start_result(self, tx: SimTransaction, result: Any) -> None:
        raise NotImplementedError

    def update_message(self, tx: SimTransaction, sample: SimSample, tx_id: str) -> Any:
        raise NotImplementedError

    def stop_message(self, tx: SimTransaction, sample: SimSample, reason: str) -> Any:
        raise NotImplementedError

    def meter_message(self, connector_id: int, sample: SimSample, tx_id: str | None) -> Any:
        raise NotImplementedError


def adapter_class(version: str) -> type[ProtocolAdapter]:
    """The adapter of an OCPP version (imported late: each one imports this module)."""
    if version == "1.6":
        from .v16 import V16Adapter

        return V16Adapter
    from .v201 import V201Adapter

    return V201Adapter
