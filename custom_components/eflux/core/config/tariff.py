"""site.yaml `timezone:` and `tariff:` -> `planning.tariff.Tariff`, errors naming the key.

Money is Decimal: a YAML number or string goes through its text (`0.30` -> Decimal("0.3")),
never through float arithmetic.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..errors import ConfigError
from ..planning.model import PlanInputError
from ..planning.tariff import WEEKDAYS, Tariff, TariffZone, check_price
from .reader import Section

_FULL_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAYS = {name: i for names in (WEEKDAYS, _FULL_NAMES) for i, name in enumerate(names)}


def parse_timezone(top: Section) -> str | None:
    name: str | None = top.text("timezone", None)
    if name is not None:
        zone_info(name, top.path("timezone"))
    return name


def zone_info(name: str, key: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ConfigError(
            key, f"unknown time zone {name!r} (an IANA name: Europe/Amsterdam)"
        ) from None


def parse_tariff(sec: Section, timezone: str | None) -> Tariff | None:
    """`price` (where no zone applies) and `zones` (the first that covers an hour wins)."""
    price = sec.raw("price", None)
    base = None if price is None else money(price, sec.path("price"))
    zones = tuple(
        _zone(item, f"{sec.path('zones')}[{i}]") for i, item in enumerate(sec.items("zones"))
    )
    sec.done()
    if base is None and not zones:
        return None
    if zones and timezone is None:
        raise ConfigError(
            "timezone", "is required for tariff zones: the site's IANA time zone (Europe/Amsterdam)"
        )
    return Tariff(timezone=zone_info(timezone or "UTC", "timezone"), price=base, zones=zones)


def _zone(item: Any, key: str) -> TariffZone:
    sec = Section(item, key)
    hours = sec.raw("hours", None)
    days = sec.raw("days", None)
    zone = TariffZone(
        price=money(sec.raw("price"), sec.path("price")),
        hours=None if hours is None else hour_range(hours, sec.path("hours")),
        days=None if days is None else day_set(days, sec.path("days")),
    )
    sec.done()
    if zone.hours is None and zone.days is None:
        raise ConfigError(key, "needs hours and/or days (for every hour use tariff.price)")
    return zone


def money(value: Any, key: str, unit: str = "per kWh") -> Decimal:
    """A price per kWh (or per `unit`): finite, negative allowed (paid to consume), from the
    value's text."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ConfigError(key, f"must be a number ({unit}), got {type(value).__name__}")
    try:
        return check_price(Decimal(str(value).strip()), key)
    except InvalidOperation:
        raise ConfigError(key, f"must be a number ({unit}), got {value!r}") from None
    except PlanInputError as err:
        raise ConfigError(key, err.reason) from None


def hour_range(value: Any, key: str) -> tuple[int, int]:
    """ "23-7": from 23:00 to 07:00 local time (over midnight); whole hours, 0-24 is all day."""
    parts = str(value).replace(" ", "").split("-") if isinstance(value, str) else []
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        raise ConfigError(key, f"must be a range of whole hours like 23-7, got {value!r}")
    start, end = int(parts[0]), int(parts[1])
    if not (0 <= start <= 23 and 0 <= end <= 24):
        raise ConfigError(key, f"hours run from 0 to 24, got {value!r}")
    if start == end % 24 and not (start == 0 and end == 24):
        raise ConfigError(key, f"is empty (from and to are the same hour), got {value!r}")
    return start, end


def day_set(value: Any, key: str) -> frozenset[int]:
    """ "sat,sun", "mon-fri" (a range may wrap: "fri-mon") or a list of those."""
    items = value if isinstance(value, list) else str(value).split(",")
    days: set[int] = set()
    for item in items:
        text = str(item).strip().lower()
        first, _, last = text.partition("-")
        a, b = _day(first, key, value), _day(last or first, key, value)
        days.update((a + i) % 7 for i in range((b - a) % 7 + 1))
    if not days:
        raise ConfigError(key, "must name at least one day")
    return frozenset(days)


def _day(name: str, key: str, value: Any) -> int:
    day = _DAYS.get(name.strip())
    if day is None:
        raise ConfigError(key, f"unknown day {name!r} in {value!r} (mon, tue, … sun)")
    return day


def zones_from_text(text: str, key: str = "tariff.zones") -> list[dict[str, str]]:
    """`zones:` from one line, as a form takes them: "mon-fri 17-21: 0.40; sat,sun 10-16: 0.18"
    (each zone its days and/or hours, a colon and its price; zones apart by semicolons; empty
    text is no zones). Only the shape is checked here: days, hours and prices are judged by
    `parse_tariff` as site.yaml's are."""
    zones: list[dict[str, str]] = []
    for i, part in enumerate(p for p in text.split(";") if p.strip()):
        where, colon, price = part.rpartition(":")
        hours = [t for t in where.split() if t[:1].isdigit()]
        days = [t.strip(",") for t in where.split() if not t[:1].isdigit()]
        if not colon or not price.strip() or len(hours) > 1 or not (hours or days):
            raise ConfigError(
                f"{key}[{i}]", f"must be days and/or hours, a colon and a price, got {part!r}"
            )
        zone = {"price": price.strip()}
        if days:
            zone["days"] = ",".join(d for d in days if d)
        if hours:
            zone["hours"] = hours[0]
        zones.append(zone)
    return zones


def zones_as_text(zones: list[dict[str, Any]]) -> str:
    """The one-line form of `zones:` (what `zones_from_text` reads)."""
    return "; ".join(
        " ".join(str(z[k]) for k in ("days", "hours") if z.get(k) is not None) + f": {z['price']}"
        for z in zones
    )
