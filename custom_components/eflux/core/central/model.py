"""The version-neutral model of chargers and transactions the rest of the product reads.

Every object is frozen: the central system replaces them on change, so a consumer holding one
(the HA coordinator, the load balancer) has a consistent snapshot.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# Stop reason of a transaction the central system closed because a newer one started on its
# connector (ledger.supersede).
SUPERSEDED = "Superseded"
# A phase drawing less than this is counted as unused (car electronics, measurement noise).
PHASE_IN_USE_AMPS = 1.0


@dataclass(frozen=True, slots=True)
class PhaseValues:
    """One value per phase (amps or volts); None where the charger did not report it."""

    l1: float | None = None
    l2: float | None = None
    l3: float | None = None

    def as_tuple(self) -> tuple[float | None, float | None, float | None]:
        return (self.l1, self.l2, self.l3)

    @property
    def known(self) -> bool:
        return any(value is not None for value in self.as_tuple())

    def max(self) -> float | None:
        values = [value for value in self.as_tuple() if value is not None]
        return max(values) if values else None

    def phases_in_use(self, threshold: float = PHASE_IN_USE_AMPS) -> int:
        return sum(1 for value in self.as_tuple() if value is not None and value >= threshold)


@dataclass(frozen=True, slots=True)
class MeterSample:
    """One meter reading of a connector, in SI units, from either OCPP version."""

    timestamp: datetime
    context: str | None = None
    energy_wh: float | None = None  # Energy.Active.Import.Register
    power_w: float | None = None  # Power.Active.Import (total)
    current_a: PhaseValues = field(default_factory=PhaseValues)  # Current.Import
    voltage_v: PhaseValues = field(default_factory=PhaseValues)
    soc: float | None = None
    current_offered_a: float | None = None

    @property
    def empty(self) -> bool:
        return (
            self.energy_wh is None
            and self.power_w is None
            and not self.current_a.known
            and not self.voltage_v.known
            and self.soc is None
            and self.current_offered_a is None
        )


@dataclass(frozen=True, slots=True)
class CurrentLimit:
    """The last limit the central system set on a connector, and whether it was seen to hold.

    `verified` stays None until a meter sample arrives after `sent_at`; then it says whether
    the measured current stayed within the limit (some chargers accept a profile and ignore it).
    """

    amps: float
    phases: int | None
    purpose: str  # TxProfile, TxDefaultProfile, ChargePointMaxProfile or "paused"
    sent_at: datetime
    status: str  # the charger's answer
    verified: bool | None = None


@dataclass(frozen=True, slots=True)
class Transaction:
    id: str  # as the charger knows it (1.6: our integer as text; 2.0.1: the charger's id)
    charge_point_id: str
    connector_id: int
    id_tag: str | None
    card_status: str  # idTagInfo status given: Accepted, Blocked, Expired, Invalid
    started_at: datetime
    record_id: int = 0  # row in the central system's database
    stopped_at: datetime | None = None
    meter_start_wh: float | None = None
    meter_stop_wh: float | None = None
    energy_wh: float = 0.0
    power_w: float | None = None
    current_a: PhaseValues = field(default_factory=PhaseValues)
    voltage_v: PhaseValues = field(default_factory=PhaseValues)
    soc: float | None = None
    energy_flagged: bool = False
    stop_reason: str | None = None
    last_sample_at: datetime | None = None
    last_register_wh: float | None = None
    last_register_at: datetime | None = None
    orphan: bool = False  # a stop for a transaction this central system never saw start

    @property
    def is_open(self) -> bool:
        return self.stopped_at is None

    @property
    def phases_in_use(self) -> int:
        return self.current_a.phases_in_use()

    @property
    def superseded(self) -> bool:
        """Closed by the central system when a newer transaction started on its connector
        (SUPERSEDED); its own late stop may still come and corrects it."""
        return self.stop_reason == SUPERSEDED


@dataclass(frozen=True, slots=True)
class Reservation:
    """A connector held for one card until `expires_at` (OCPP ReserveNow).

    `id` is the central system's reservationId (unique for good: SQLite AUTOINCREMENT). A
    reservation is open until it is used by a transaction, cancelled, or expires.
    """

    id: int
    charge_point_id: str
    connector_id: int  # 2.0.1: the EVSE id; 0: any connector of the charger
    id_tag: str
    expires_at: datetime
    created_at: datetime
    parent_id_tag: str | None = None
    status: str | None = None  # the charger's answer to ReserveNow
    ended_at: datetime | None = None
    # Used, Cancelled, Expired, Removed (2.0.1 charger), or the charger's refusal
    end_reason: str | None = None
    transaction_id: str | None = None  # the transaction that used it

    @property
    def is_open(self) -> bool:
        return self.ended_at is None


@dataclass(frozen=True, slots=True)
class EvChargingNeeds:
    """What the car said it needs (2.0.1 NotifyEVChargingNeeds, ISO 15118): for the planner."""

    received_at: datetime
    energy_transfer: str  # requestedEnergyTransfer: AC_single_phase, AC_three_phase, DC ...
    departure_at: datetime | None = None
    energy_wh: float | None = None  # energyAmount
    max_current_a: float | None = None  # AC: evMaxCurrent
    min_current_a: float | None = None
    max_power_w: float | None = None  # DC: evMaxPower


@dataclass(frozen=True, slots=True)
class ExternalLimit:
    """A limit set on the charger by someone else (2.0.1 NotifyChargingLimit: EMS, SO, CSO):
    the balancer keeps a charger's share within it. `periods` are (seconds from
    `start`, limit) in `unit` ("A" per phase or "W" total), as the charger reported them."""

    source: str  # chargingLimitSource: EMS, Other, SO, CSO
    received_at: datetime
    grid_critical: bool | None = None
    unit: str | None = None
    start: datetime | None = None
    periods: tuple[tuple[int, float], ...] = ()

    def limit_at(self, at: datetime) -> float | None:
        """The limit in force at `at` (None: no schedule, or before it starts)."""
        begin = self.start or self.received_at
        offset = (at - begin).total_seconds()
        current = None
        for start_s, limit in self.periods:
            if start_s <= offset:
                current = limit
        return current


@dataclass(frozen=True, slots=True)
class FirmwareUpdate:
    """The newest firmware update: what the central sent and the charger's latest status."""

    request_id: int
    file_name: str
    requested_at: datetime
    status: str  # "Requested" until the charger reports; then its FirmwareStatus
    status_at: datetime
    signed: bool = False
    version_before: str | None = None


@dataclass(frozen=True, slots=True)
class ConnectorState:
    connector_id: int  # 2.0.1: the EVSE id
    status: str | None = None
    error_code: str | None = None
    info: str | None = None
    vendor_id: str | None = None
    vendor_error_code: str | None = None
    status_at: datetime | None = None
    transaction: Transaction | None = None
    meter: MeterSample | None = None  # newest sample by the charger's own timestamp
    limit: CurrentLimit | None = None
    reservation: Reservation | None = None  # the open one, if any
    ev_needs: EvChargingNeeds | None = None  # 2.0.1 only; cleared when the transaction ends


@dataclass(frozen=True, slots=True)
class ChargePointState:
    id: str
    ocpp_version: str | None = None
    vendor: str | None = None
    model: str | None = None
    firmware: str | None = None
    serial: str | None = None
    online: bool = False
    last_seen: datetime | None = None
    booted_at: datetime | None = None
    connectors: Mapping[int, ConnectorState] = field(default_factory=dict)
    # The ChargePointMaxProfile fallback last written (set_safe_limit).
    safe_limit: CurrentLimit | None = None
    # Read back from the charger: 1.6 GetConfiguration keys, 2.0.1 "Component.Variable".
    configuration: Mapping[str, str] = field(default_factory=dict)
    # How its current (or last) connection authenticated: OCPP security profile 1 (password),
    # 2 (password over TLS), 3 (client certificate), 0 (nothing: see `unprotected`).
    security_profile: int | None = None
    # The last BootNotification's answer: Accepted, or Pending until approved (admission.py).
    boot_status: str | None = None
    # 2.0.1 NotifyChargingLimit per EVSE (0: the whole station) and source, until cleared.
    external_limits: Mapping[tuple[int, str], ExternalLimit] = field(default_factory=dict)
    # 2.0.1 ReportChargingProfiles: the profiles installed on each EVSE, as reported (raw).
    reported_profiles: Mapping[int, tuple[Mapping[str, Any], ...]] = field(default_factory=dict)
    firmware_update: FirmwareUpdate | None = None

    @property
    def unprotected(self) -> bool:
        """Connected without any password or certificate: anyone on the LAN could use its id
        (HA raises a repair: "charger X connects without a password")."""
        return self.security_profile == 0

    @property
    def allowed_rate_units(self) -> tuple[str, ...]:
        """Units the charger takes in charging schedules ("A", "W"); both when unknown."""
        raw = self.configuration.get("ChargingScheduleAllowedChargingRateUnit") or (
            self.configuration.get("SmartChargingCtrlr.RateUnit")
        )
        if not raw:
            return ("A", "W")
        units = []
        for part in raw.replace(";", ",").split(","):
            word = part.strip().lower()
            if word in ("a", "current"):
                units.append("A")
            elif word in ("w", "power"):
                units.append("W")
        return tuple(units) or ("A", "W")

    @property
    def max_stack_level(self) -> int | None:
        raw = self.configuration.get("ChargeProfileMaxStackLevel") or (
            self.configuration.get("SmartChargingCtrlr.ProfileStackLevel")
        )
        return _int_or_none(raw)

    @property
    def max_schedule_periods(self) -> int | None:
        raw = self.configuration.get("ChargingScheduleMaxPeriods") or (
            self.configuration.get("SmartChargingCtrlr.PeriodsPerSchedule")
        )
        return _int_or_none(raw)

    @property
    def current_a(self) -> PhaseValues:
        """Measured current per phase, summed over the connectors (what the fuse sees)."""
        totals: list[float | None] = [None, None, None]
        for connector in self.connectors.values():
            if connector.connector_id == 0 or connector.meter is None:
                continue
            for index, value in enumerate(connector.meter.current_a.as_tuple()):
                if value is not None:
                    totals[index] = (totals[index] or 0.0) + value
        return PhaseValues(*totals)

    @property
    def phases_in_use(self) -> int:
        return self.current_a.phases_in_use()

    def external_limit(self, connector_id: int, at: datetime) -> tuple[float, str] | None:
        """The lowest external limit (value, unit) on this connector or the whole charger now."""
        found = [
            (value, limit.unit or "A")
            for (evse, _), limit in self.external_limits.items()
            if evse in (0, connector_id) and (value := limit.limit_at(at)) is not None
        ]
        return min(found) if found else None

    @property
    def active_transactions(self) -> list[Transaction]:
        return [c.transaction for c in self.connectors.values() if c.transaction is not None]


def _int_or_none(raw: Any) -> int | None:
    try:
        return int(str(raw).strip())
    except (TypeError, ValueError):
        return None
