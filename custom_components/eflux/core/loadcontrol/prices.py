"""The prices the planner uses: the site's tariff, overridden by pushed (day-ahead) prices.

Dynamic prices (Nordpool, ENTSO-E, Tibber …) arrive from outside (the local API's `PUT
/api/prices`, HA's `eflux.set_prices`) as a list of {start, end?, price|value}; `parse_entries`
checks that shape and `PriceBook` keeps the hourly result. A push replaces the pushed prices of
the hours it covers and keeps the others (today's and tomorrow's prices can come separately);
hours that are over are dropped at every push.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Literal

from ..planning.model import PlanInputError
from ..planning.tariff import (
    HOUR,
    PriceEntry,
    Tariff,
    check_price,
    hour_floor,
    hourly_from_entries,
    hours_between,
    tariff_prices,
)

MAX_ENTRIES = 8 * 96  # eight days of quarter-hours
PUSH_AHEAD = timedelta(days=8)  # the planner looks 7 days ahead at most
TABLE_HOURS = 48
Source = Literal["pushed", "tariff"]
_START_KEYS = ("start", "time")  # "time": the ENTSO-E integration's name for it
_PRICE_KEYS = ("price", "value")  # "value": Nordpool's raw_today / raw_tomorrow
_KNOWN = frozenset({*_START_KEYS, *_PRICE_KEYS, "end"})


@dataclass(frozen=True, slots=True)
class HourPrice:
    start: datetime  # UTC
    price: Decimal | None  # per kWh; None: neither pushed nor in the tariff
    source: Source | None


class PriceBook:
    def __init__(self, tariff: Tariff | None = None) -> None:
        self.tariff = tariff
        self.pushed: dict[datetime, Decimal] = {}

    def push(self, entries: Sequence[PriceEntry], now: datetime, *, replace: bool = False) -> int:
        """Take these prices over the tariff (`replace`: instead of all pushed so far); returns
        the number of whole hours they cover. Nothing changes when any entry is invalid
        (PlanInputError names it)."""
        hourly = hourly_from_entries(entries)
        if entries and not hourly:
            raise PlanInputError("prices", "cover no whole hour (give `end` for quarter-hours)")
        latest = max(hourly, default=now)
        if latest > now + PUSH_AHEAD:
            raise PlanInputError("prices", f"more than {PUSH_AHEAD.days} days ahead: {latest}")
        kept = {} if replace else self.pushed
        self.pushed = {h: p for h, p in kept.items() if h + HOUR > now}
        self.pushed.update({h: p for h, p in hourly.items() if h + HOUR > now})
        return len(hourly)

    def clear(self) -> bool:
        had = bool(self.pushed)
        self.pushed.clear()
        return had

    def for_plan(self, now: datetime, until: datetime) -> dict[datetime, Decimal]:
        """Per UTC hour from the one `now` is in up to `until`: the planner's `prices`."""
        prices = tariff_prices(self.tariff, now, until)
        first = hour_floor(now)
        prices.update({h: p for h, p in self.pushed.items() if first <= h < until})
        return prices

    def table(self, now: datetime, hours: int = TABLE_HOURS) -> list[HourPrice]:
        """Every hour from the current one on, with its price and where it came from."""
        rows = []
        for hour in hours_between(now, hour_floor(now) + HOUR * hours):
            pushed = self.pushed.get(hour)
            if pushed is not None:
                rows.append(HourPrice(hour, pushed, "pushed"))
                continue
            price = self.tariff.price_at(hour) if self.tariff is not None else None
            rows.append(HourPrice(hour, price, None if price is None else "tariff"))
        return rows


def parse_entries(items: object) -> list[PriceEntry]:
    """[{start, end?, price}] as JSON or an HA attribute gives it: start/end ISO 8601 text with
    an offset (or aware datetimes), price a decimal string or a number (per kWh). Without `end`
    an entry lasts an hour. `time` and `value` are accepted for `start` and `price`."""
    if not isinstance(items, list | tuple):
        raise PlanInputError("prices", f"must be a list of {{start, price}}, got {_kind(items)}")
    if len(items) > MAX_ENTRIES:
        raise PlanInputError("prices", f"at most {MAX_ENTRIES} entries, got {len(items)}")
    return [_entry(item, f"prices[{i}]") for i, item in enumerate(items)]


def _entry(item: object, key: str) -> PriceEntry:
    if not isinstance(item, Mapping):
        raise PlanInputError(key, f"must be an object with start and price, got {_kind(item)}")
    unknown = sorted(str(k) for k in item if k not in _KNOWN)
    if unknown:
        raise PlanInputError(f"{key}.{unknown[0]}", "unknown field (start, end, price)")
    start = _time(_one_of(item, _START_KEYS, key), f"{key}.start")
    raw_end = item.get("end")
    end = start + HOUR if raw_end is None else _time(raw_end, f"{key}.end")
    price = _price(_one_of(item, _PRICE_KEYS, key), f"{key}.price")
    return PriceEntry(start, end, price)


def _one_of(item: Mapping[str, object], names: tuple[str, ...], key: str) -> object:
    given = [name for name in names if item.get(name) is not None]
    if len(given) != 1:
        wanted = " or ".join(names)
        problem = "is required" if not given else "given twice"
        raise PlanInputError(f"{key}.{names[0]}", f"{problem} ({wanted})")
    return item[given[0]]


def _time(value: object, key: str) -> datetime:
    moment = value
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise PlanInputError(key, f"is not an ISO 8601 time: {value!r}") from None
    if not isinstance(moment, datetime):
        raise PlanInputError(key, f"must be an ISO 8601 time, got {_kind(value)}")
    if moment.tzinfo is None:
        raise PlanInputError(key, "needs a UTC offset (e.g. +01:00 or Z)")
    return moment.astimezone(UTC)


def _price(value: object, key: str) -> Decimal:
    if isinstance(value, str | float) and not isinstance(value, bool):
        try:
            # A float (an HA attribute) through its shortest text: 0.21, not 0.2099999…
            value = Decimal(str(value).strip())
        except InvalidOperation:
            raise PlanInputError(key, f"is not a number: {value!r}") from None
    return check_price(value, key)


def _kind(value: object) -> str:
    return f"text {value!r}" if isinstance(value, str) else type(value).__name__
