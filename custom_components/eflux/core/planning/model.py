"""What the planner is told about each car, and the sums everyone needs (energy, urgency)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from ..domain import DepartureRequest


class PlanInputError(ValueError):
    """A car or a planning input is invalid; `field` names it (e.g. `cars[CP1].soc_now`)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True, slots=True)
class CarDemand:
    """One parked car: when it leaves, how full it is and must be, how fast it can charge."""

    charger_id: str
    departure_at: datetime
    battery_kwh: float
    soc_now: float  # percent
    max_power_kw: float  # what the car and its charger can take together
    target_soc: float = 100.0  # percent
    efficiency: float = 0.9  # battery energy per grid energy
    priority: int = 0
    # The shared limits it draws on (`Limit.key`) and how much of each one kW of its power takes:
    # 1000 / (V x its phases) amps on each phase it uses. Empty: only the overall budget.
    loads: tuple[tuple[str, float], ...] = ()
    # Promised ready by the last plan: kept ahead of cars of its priority class that were not
    # (a car arriving later does not take a promise back; only a surprise can).
    promised: bool = False

    @property
    def energy_needed_kwh(self) -> float:
        return energy_needed_kwh(self.battery_kwh, self.soc_now, self.target_soc, self.efficiency)

    def validate(self) -> None:
        key = f"cars[{self.charger_id}]"
        if self.departure_at.tzinfo is None:
            raise PlanInputError(f"{key}.departure_at", "must be timezone-aware")
        _number(self.battery_kwh, f"{key}.battery_kwh", low=0.0, low_open=True)
        _number(self.soc_now, f"{key}.soc_now", low=0.0, high=100.0)
        _number(self.target_soc, f"{key}.target_soc", low=0.0, high=100.0)
        _number(self.max_power_kw, f"{key}.max_power_kw", low=0.0)
        _number(self.efficiency, f"{key}.efficiency", low=0.0, low_open=True, high=1.0)


@dataclass(frozen=True, slots=True)
class Limit:
    """A limit the planned cars share (a circuit's phase in amps, a total): its capacity per
    quarter-hour from the one `now` is in (the last value holds beyond the list)."""

    key: str
    capacity: tuple[float, ...]

    def at(self, index: int) -> float:
        return self.capacity[min(index, len(self.capacity) - 1)]

    def validate(self) -> None:
        if not self.capacity:
            raise PlanInputError(f"limits[{self.key}]", "needs at least one value")
        for i, value in enumerate(self.capacity):
            if not isinstance(value, int | float) or math.isnan(value) or value < 0:
                raise PlanInputError(
                    f"limits[{self.key}].capacity[{i}]", f"must be a number ≥ 0, got {value!r}"
                )


def energy_needed_kwh(
    battery_kwh: float, soc_now: float, target_soc: float, efficiency: float
) -> float:
    """Grid energy to take a battery from `soc_now` to `target_soc` (percent):
    capacity * (target - SoC) / efficiency; nothing when it is already there."""
    return max(0.0, battery_kwh * (target_soc - soc_now) / 100.0 / efficiency)


def urgency_kw(energy_kwh: float, now: datetime, departure_at: datetime) -> float:
    """Energy still needed per hour left: the balancer serves higher urgency first among equals.
    A departure that has passed (or is under a minute away) counts as one minute left."""
    hours = max((departure_at - now).total_seconds() / 3600.0, 1.0 / 60.0)
    return energy_kwh / hours


def demand_from_request(
    request: DepartureRequest,
    *,
    max_power_kw: float,
    battery_kwh: float | None = None,
    soc_now: float | None = None,
    efficiency: float = 0.9,
    priority: int = 0,
) -> CarDemand:
    """A `CarDemand` from what the driver stated; what the request leaves open comes from the
    keyword arguments (the car profile, the charger's own SoC reading), else a clear error."""
    battery = request.battery_kwh if request.battery_kwh is not None else battery_kwh
    soc = request.soc_now if request.soc_now is not None else soc_now
    key = f"cars[{request.charge_point_id}]"
    if battery is None:
        raise PlanInputError(f"{key}.battery_kwh", "unknown: neither stated nor configured")
    if soc is None:
        raise PlanInputError(f"{key}.soc_now", "unknown: neither stated nor measured")
    power = max_power_kw
    if request.max_power_kw is not None:
        power = min(request.max_power_kw, max_power_kw)
    demand = CarDemand(
        charger_id=request.charge_point_id,
        departure_at=request.departure_at,
        battery_kwh=battery,
        soc_now=soc,
        max_power_kw=power,
        target_soc=request.target_soc,
        efficiency=efficiency,
        priority=priority,
    )
    demand.validate()
    return demand


def _number(
    value: float, key: str, *, low: float, high: float = math.inf, low_open: bool = False
) -> None:
    ok = isinstance(value, int | float) and math.isfinite(value)
    ok = ok and (value > low if low_open else value >= low) and value <= high
    if not ok:
        bound = f"> {low:g}" if low_open else f"≥ {low:g}"
        upper = "" if high == math.inf else f" and ≤ {high:g}"
        raise PlanInputError(key, f"must be a number {bound}{upper}, got {value!r}")
