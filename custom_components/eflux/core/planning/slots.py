"""The planning grid: quarter-hours from now to the last departure, split at every departure."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from .model import PlanInputError

SLOT = timedelta(minutes=15)
MAX_HORIZON = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Slot:
    start: datetime
    end: datetime
    capacity_kw: float  # what the planned cars may draw together (inf: only the limits)
    price: Decimal | None  # per kWh, None when not known

    @property
    def hours(self) -> float:
        return (self.end - self.start).total_seconds() / 3600.0


def quarter_floor(moment: datetime) -> datetime:
    return moment.replace(minute=moment.minute - moment.minute % 15, second=0, microsecond=0)


def quarter_index(first: datetime, moment: datetime) -> int:
    """Which quarter-hour after `first` (a quarter's start) `moment` is in."""
    return int((moment - first) / SLOT)


def hourly_prices(prices: Mapping[datetime, Decimal] | None) -> dict[datetime, Decimal]:
    """Prices per kWh keyed by the UTC start of their hour (validated: aware, on the hour,
    Decimal; negative prices are real and allowed)."""
    checked: dict[datetime, Decimal] = {}
    for start, price in (prices or {}).items():
        key = f"prices[{start!r}]"
        if not isinstance(start, datetime) or start.tzinfo is None:
            raise PlanInputError(key, "hour must be a timezone-aware datetime")
        hour = start.astimezone(UTC)
        if (hour.minute, hour.second, hour.microsecond) != (0, 0, 0):
            raise PlanInputError(key, "must start on a whole hour")
        raw: object = price  # typed Decimal, but it comes from configuration and APIs
        if isinstance(raw, bool) or not isinstance(raw, Decimal | int):
            raise PlanInputError(
                key, f"must be a Decimal per kWh (money is never float), got {price!r}"
            )
        if not Decimal(raw).is_finite():
            raise PlanInputError(key, "must be finite")
        checked[hour] = Decimal(raw)
    return checked


def build_slots(
    now: datetime,
    departures: Iterable[datetime],
    capacity_kw: float | Sequence[float],
    prices: Mapping[datetime, Decimal],
) -> tuple[Slot, ...]:
    """Slots from `now` to the last departure after it. `capacity_kw` is one value, or one per
    quarter-hour starting with the one `now` is in (the last value holds beyond the list)."""
    ahead = sorted({d for d in departures if d > now})
    if not ahead:
        return ()
    end = ahead[-1]
    if end - now > MAX_HORIZON:
        raise PlanInputError("departure_at", f"more than {MAX_HORIZON.days} days ahead: {end}")
    capacities = _capacities(capacity_kw)
    first = quarter_floor(now)
    bounds = {now, *ahead}
    tick = first + SLOT
    while tick < end:
        bounds.add(tick)
        tick += SLOT
    ordered = sorted(bounds)
    slots = []
    for start, stop in itertools.pairwise(ordered):
        index = quarter_index(first, start)
        capacity = capacities[min(index, len(capacities) - 1)]
        hour = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        slots.append(Slot(start, stop, capacity, prices.get(hour)))
    return tuple(slots)


def _capacities(capacity_kw: float | Sequence[float]) -> list[float]:
    values = [capacity_kw] if isinstance(capacity_kw, int | float) else list(capacity_kw)
    if not values:
        raise PlanInputError("capacity_kw", "needs at least one value")
    for i, value in enumerate(values):
        if not isinstance(value, int | float) or math.isnan(value) or value < 0:
            raise PlanInputError(f"capacity_kw[{i}]", f"must be a number ≥ 0, got {value!r}")
    return [float(v) for v in values]
