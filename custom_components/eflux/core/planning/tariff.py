"""Hourly prices for the planner: from a tariff (fixed and time-of-use) and from pushed prices.

Pure functions over frozen dataclasses, no clock. The planner wants a price per kWh keyed by the
UTC start of each hour (`planner.plan(prices=...)`); a tariff speaks local wall-clock time
(`hours: "23-7"`, `days: "sat,sun"`) and pushed day-ahead prices may come per quarter-hour, so
both are turned into that shape here.

Time-of-use zones: the **first** zone in the list that covers an hour wins (write the special
ones first); hours no zone covers cost the fixed `price` (none: the hour has no price, and the
planner uses priced hours before it). A zone is tested on the local wall-clock time at the start
of the UTC hour, so DST days have 23 or 25 hours and a "23-7" night is 7 or 9 hours long then;
in a zone with a half-hour offset an hour takes the price of the local hour it starts in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from .model import PlanInputError

HOUR = timedelta(hours=1)
QUARTER = timedelta(minutes=15)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # datetime.weekday() order
MICRO = Decimal("0.000001")
MAX_ABS_PRICE = Decimal(1_000_000)  # per kWh: anything beyond is a unit or parsing mistake


@dataclass(frozen=True, slots=True)
class TariffZone:
    """A price for some local hours and/or weekdays (both absent: every hour)."""

    price: Decimal
    hours: tuple[int, int] | None = None  # local [from, to): 23-7 spans midnight; 0-24 all day
    days: frozenset[int] | None = None  # 0 = Monday, the local date of the hour

    def covers(self, local: datetime) -> bool:
        if self.days is not None and local.weekday() not in self.days:
            return False
        if self.hours is None:
            return True
        start, end = self.hours
        if start < end:
            return start <= local.hour < end
        return local.hour >= start or local.hour < end  # over midnight


@dataclass(frozen=True, slots=True)
class Tariff:
    timezone: ZoneInfo
    price: Decimal | None = None  # per kWh, where no zone applies
    zones: tuple[TariffZone, ...] = ()

    def price_at(self, moment: datetime) -> Decimal | None:
        local = moment.astimezone(self.timezone)
        for zone in self.zones:
            if zone.covers(local):
                return zone.price
        return self.price


@dataclass(frozen=True, slots=True)
class PriceEntry:
    """A pushed price per kWh for [start, end) (a day-ahead hour or quarter-hour)."""

    start: datetime
    end: datetime
    price: Decimal


def hour_floor(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def hours_between(start: datetime, end: datetime) -> list[datetime]:
    """UTC hour starts from the hour `start` is in up to (not including) `end`."""
    hour, found = hour_floor(start), []
    while hour < end:
        found.append(hour)
        hour += HOUR
    return found


def tariff_prices(tariff: Tariff | None, start: datetime, end: datetime) -> dict[datetime, Decimal]:
    """The tariff's price of every UTC hour from the one `start` is in until `end` (hours with
    no price are left out)."""
    if tariff is None:
        return {}
    prices = {}
    for hour in hours_between(start, end):
        price = tariff.price_at(hour)
        if price is not None:
            prices[hour] = price
    return prices


def check_price(value: object, key: str) -> Decimal:
    """A finite Decimal per kWh (negative prices are real: paid to consume)."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise PlanInputError(
            key, f"must be a Decimal per kWh (money is never float), got {value!r}"
        )
    price = Decimal(value)
    if not price.is_finite():
        raise PlanInputError(key, f"must be a finite number, got {value!r}")
    if abs(price) > MAX_ABS_PRICE:
        raise PlanInputError(key, f"must be a price per kWh (not per MWh), got {value}")
    return price


def hourly_from_entries(entries: Iterable[PriceEntry]) -> dict[datetime, Decimal]:
    """Pushed entries -> a price per UTC hour: the time-weighted mean of the entries in it (what
    the hour costs at a steady power). Only hours the entries cover completely get a price; the
    others keep the tariff's. Entries must start and end on quarter-hours and not overlap."""
    minutes: dict[datetime, int] = {}
    weighted: dict[datetime, Decimal] = {}
    previous: tuple[int, PriceEntry] | None = None
    ordered = sorted(enumerate(entries), key=lambda item: item[1].start)
    for index, entry in ordered:
        key = f"prices[{index}]"
        start, end = _check_span(entry, key)
        price = check_price(entry.price, f"{key}.price")
        if previous is not None and start < previous[1].end:
            raise PlanInputError(key, f"overlaps prices[{previous[0]}] (from {previous[1].start})")
        previous = (index, entry)
        moment = start
        while moment < end:
            hour = hour_floor(moment)
            step = min(end, hour + HOUR) - moment
            span = int(step.total_seconds()) // 60
            minutes[hour] = minutes.get(hour, 0) + span
            weighted[hour] = weighted.get(hour, Decimal(0)) + price * span
            moment += step
    return {hour: _mean(weighted[hour]) for hour, covered in minutes.items() if covered == 60}


def _mean(price_minutes: Decimal) -> Decimal:
    exact = price_minutes / 60
    rounded = exact.quantize(MICRO)  # a mean of quarter-hours may not end: 6 places is plenty
    return exact if rounded == exact else rounded


def _check_span(entry: PriceEntry, key: str) -> tuple[datetime, datetime]:
    for name, moment in (("start", entry.start), ("end", entry.end)):
        if not isinstance(moment, datetime) or moment.tzinfo is None:
            raise PlanInputError(f"{key}.{name}", "must be a time with a UTC offset")
        utc = moment.astimezone(UTC)
        if utc.minute % 15 or utc.second or utc.microsecond:
            raise PlanInputError(f"{key}.{name}", f"must be on a quarter-hour, got {moment}")
    start, end = entry.start.astimezone(UTC), entry.end.astimezone(UTC)
    if not start < end <= start + timedelta(days=1):
        raise PlanInputError(f"{key}.end", "must be after start, and at most a day later")
    return start, end
