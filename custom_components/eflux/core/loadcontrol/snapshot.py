"""`SiteSnapshot`: one consistent, immutable picture of the site for HA entities and the API.

Built from the central system's charger states, the controller's decisions and the meters; plain
values only (str, float, Decimal, datetime, tuples), so `as_dict` turns it into JSON without
surprises (Decimal as text).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from .flex_price import FlexibilityPrice

Phases = tuple[float | None, float | None, float | None]


@dataclass(frozen=True, slots=True)
class MeterStatus:
    name: str
    circuit: str
    kind: str
    quality: str  # ok | stale | implausible
    last_reading_at: datetime | None
    current_a: Phases
    power_w: float | None
    # Per phase (import positive) and the meter's energy registers (the Energy dashboard's
    # grid consumption and return to grid); None where the meter does not measure them.
    phase_power_w: Phases = (None, None, None)
    import_kwh: float | None = None
    export_kwh: float | None = None


@dataclass(frozen=True, slots=True)
class ReservationStatus:
    """An open OCPP reservation of the charger's connector (held for one card)."""

    id: int
    id_tag: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class ChargerSnapshot:
    id: str
    name: str
    charge_point_id: str
    connector_id: int
    # From the charger (OCPP)
    online: bool
    status: str | None  # the connector's OCPP status (Available, Charging, SuspendedEV …)
    ocpp_version: str | None
    vendor: str | None
    model: str | None
    firmware: str | None
    power_w: float | None
    current_a: Phases
    session_energy_kwh: float | None
    total_energy_kwh: float | None  # the charger's register
    soc: float | None
    card: str | None
    transaction_id: str | None
    # From the controller
    mode: str  # in force (the site default when none is set)
    mode_setting: str | None  # what the user set (None: follow the site default)
    max_current_a: float | None  # the user's cap
    target_soc: float | None
    limit_a: float | None  # the balancer's limit for this charger (0: paused)
    limit_sent_a: float | None  # the last limit the charger accepted
    balancer_status: str | None  # charging | paused | waiting | idle | off
    reason: str | None  # why it has this limit ("limited by circuit garage L2")
    limit_error: str | None  # the last failed attempt to set a limit
    # From the planner
    departure_at: datetime | None
    expected_finish: datetime | None
    ready_by_departure: bool | None
    shortfall_kwh: float | None
    plan_error: str | None
    # Per the prices the planner used (tariff or pushed); None when an hour it charges in has
    # no price. JSON: a decimal string ("1.00"), money is never float.
    estimated_cost: Decimal | None = None
    # The charge point's flexibility-discount price for this stay (`control.flex_price`); None
    # without a flexibility tariff, a departure or a session.
    flexibility: FlexibilityPrice | None = None
    # The connector's open reservation (ReserveNow), if any.
    reservation: ReservationStatus | None = None
    # How its connection authenticated: OCPP security profile 1-3, 0 without any password.
    security_profile: int | None = None
    # The driver and car the session's card names (site.yaml `cards`, API, cloud), if any.
    driver: str | None = None
    car: str | None = None
    # 1p/3p switching (chargers with can_switch_phases): the user's choice (auto, 1, 3) and
    # the phases it runs on now; None for a charger that cannot switch.
    phase_mode: str | None = None
    phases_in_use: int | None = None


@dataclass(frozen=True, slots=True)
class SiteSnapshot:
    at: datetime
    grid_current_a: Phases  # signed, import positive, from the grid connection's meter
    fuse_a: tuple[float, float, float]
    household_a: tuple[float, float, float]  # chargers excluded; negative = export
    household_power_w: float
    allocated_a: tuple[float, float, float]
    available_a: tuple[float, float, float]
    pv_surplus_w: float
    balancer_status: str  # ok | overload | meter_lost
    overloaded: tuple[str, ...]
    meters_lost: tuple[str, ...]
    warnings: tuple[str, ...]
    meters: tuple[MeterStatus, ...]
    chargers: Mapping[str, ChargerSnapshot]
    # Chargers whose car draws more than its limit for longer than the grace (counted at their
    # draw; see docs/load-balancing.md): the HA layer raises a repair issue for each.
    overdrawing: tuple[str, ...] = ()
    # Capacity tariff (`planner.capacity_tariff`): the running quarter-hour's average import so
    # far, the month's highest quarter-hour and the target in force; None without one.
    capacity_quarter_average_kw: float | None = None
    capacity_month_peak_kw: float | None = None
    capacity_target_kw: float | None = None
    # Circuit limits set while running, by circuit: limit_a, total_limit_a, expires_at, reason.
    circuit_limits: Mapping[str, Mapping[str, Any]] | None = None
    # Charge points connected without any password or certificate (HA: a repair, "charger X
    # connects without a password"), and those whose boot waits for approval (boot policy).
    unprotected: tuple[str, ...] = ()
    pending_approval: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: datetimes as ISO 8601 text, enums as their values."""
        fields = {k: getattr(self, k) for k in self.__slots__ if k != "chargers"}
        fields["chargers"] = {k: asdict(v) for k, v in self.chargers.items()}
        plain: dict[str, Any] = _plain(fields)
        return plain

    def site_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.as_dict().items() if k != "chargers"}


def charger_dict(charger: ChargerSnapshot) -> dict[str, Any]:
    plain: dict[str, Any] = _plain(asdict(charger))
    return plain


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, MeterStatus):
        return _plain(asdict(value))
    return value
