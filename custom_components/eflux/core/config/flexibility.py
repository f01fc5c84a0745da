"""site.yaml `chargers[].flexibility:` -> `planning.FlexibilityTariff`, errors naming the key.

Prices go through `tariff.money` (Decimal from the YAML text, never via float); the tariff's own
`validate()` then judges the whole (prices ≥ 0, percents 0..100, a longer stay never dearer),
and its field names are mapped onto the key as written (`chargers[CP1].flexibility.discounts[1]
.percent`).
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from ..errors import ConfigError
from ..planning.flexibility import FlexDiscount, FlexibilityTariff
from ..planning.model import PlanInputError
from .reader import Section
from .tariff import money

# "4h", "90min", "1h30m", "45 m": hours and/or minutes; a bare number is minutes.
_STAY = re.compile(r"^(?:(\d+(?:\.\d+)?)\s*h)?\s*(?:(\d+)\s*m(?:in)?)?$")
_MAX_STAY = timedelta(days=31)


def parse_flexibility(sec: Section) -> FlexibilityTariff | None:
    """None when the block is absent (the charge point has no flexibility price)."""
    if not sec.data:
        return None
    per_hour = sec.raw("price_per_hour", 0)
    steps = sec.items("discounts")
    tariff = FlexibilityTariff(
        price_per_kwh=money(sec.raw("price_per_kwh"), sec.path("price_per_kwh")),
        price_per_hour=money(per_hour, sec.path("price_per_hour"), "per hour"),
        discounts=tuple(
            _step(item, f"{sec.path('discounts')}[{i}]") for i, item in enumerate(steps)
        ),
    )
    sec.done()
    try:
        tariff.validate()
    except PlanInputError as err:
        raise ConfigError(_key(sec.key, err.field), err.reason) from None
    return tariff


def _step(item: Any, key: str) -> FlexDiscount:
    sec = Section(item, key)
    step = FlexDiscount(
        min_stay=stay(sec.raw("min_stay"), sec.path("min_stay")),
        percent=_percent(sec.raw("percent"), sec.path("percent")),
    )
    sec.done()
    return step


def stay(value: Any, key: str) -> timedelta:
    """A stay: minutes as a whole number, or text such as "4h", "90min", "1h30m"."""
    if isinstance(value, bool):
        raise ConfigError(key, f"must be minutes or a duration like 4h or 90min, got {value!r}")
    if isinstance(value, int):
        minutes = value
        if minutes < 0:
            raise ConfigError(key, f"must not be negative, got {value!r}")
        found = timedelta(minutes=minutes)
    else:
        match = _STAY.match(value.strip().lower()) if isinstance(value, str) else None
        if match is None or not any(match.groups()):
            raise ConfigError(key, f"must be minutes or a duration like 4h or 90min, got {value!r}")
        hours, mins = match.groups()
        found = timedelta(hours=float(hours or 0), minutes=int(mins or 0))
    if found > _MAX_STAY:
        raise ConfigError(key, f"must be at most {_MAX_STAY.days} days, got {value!r}")
    return found


def _percent(value: Any, key: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ConfigError(key, f"must be a number (percent), got {type(value).__name__}")
    try:
        percent = Decimal(str(value).strip().rstrip("%").strip())
    except InvalidOperation:
        raise ConfigError(key, f"must be a number (percent), got {value!r}") from None
    return percent  # the range is the tariff's to judge (validate)


def _key(block: str, field: str) -> str:
    """`tariff.discounts[1].percent` (the tariff's name for it) -> the key in site.yaml."""
    prefix = "tariff"
    rest = field[len(prefix) :] if field.startswith(prefix) else f".{field}"
    return f"{block}{rest}"


def discounts_from_text(text: str, key: str = "flexibility.discounts") -> list[dict[str, str]]:
    """`discounts:` from a one-line form ("4h: 10, 8h: 25" = 10 % off from a 4-hour stay, 25 %
    from 8 hours); empty text is no discounts. Only the shape is checked here: the stays and
    percents are judged by `parse_flexibility` as site.yaml's are."""
    steps: list[dict[str, str]] = []
    for i, part in enumerate(p for p in text.split(",") if p.strip()):
        stay_text, colon, percent = part.partition(":")
        if not colon or not stay_text.strip() or not percent.strip():
            raise ConfigError(f"{key}[{i}]", f"must be stay: percent like 4h: 10, got {part!r}")
        steps.append({"min_stay": stay_text.strip(), "percent": percent.strip().rstrip("%")})
    return steps


def discounts_as_text(steps: list[dict[str, Any]]) -> str:
    """The one-line form of `discounts:` (what `discounts_from_text` reads)."""
    return ", ".join(f"{step['min_stay']}: {step['percent']}" for step in steps)
