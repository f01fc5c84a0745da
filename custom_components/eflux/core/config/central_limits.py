"""site.yaml `central.rate_limit` and `central.cost_update_interval_s` (the central system's
flood protection and 2.0.1 running-cost updates)."""

from __future__ import annotations

from typing import Any

from ..central.config import CentralConfig
from ..central.ratelimit import ACTIONS, RateLimit
from ..errors import ConfigError
from .reader import Section


def parse_rate_limit(sec: Section) -> RateLimit:
    """`rate` CALLs/s sustained (0: off), `burst` at once, `action` error | close | delay."""
    base = RateLimit()
    action = sec.text("action", base.action)
    if action not in ACTIONS:
        raise ConfigError(
            sec.path("action"), f"must be one of {', '.join(ACTIONS)}, got {action!r}"
        )
    limit = RateLimit(
        rate=sec.number("rate", base.rate, low=0.0),
        burst=sec.integer("burst", base.burst, low=1),
        action=action,
    )
    sec.done()
    return limit


def parse_cost(sec: Section) -> dict[str, Any]:
    """`currency` (ISO 4217, the tariff's) and `cost_update_interval_s` (0: only the total)."""
    base = CentralConfig()
    currency = sec.text("currency", base.currency)
    if not (len(currency) == 3 and currency.isascii() and currency.isalpha()):
        raise ConfigError(
            sec.path("currency"), f"must be an ISO 4217 code like EUR, got {currency!r}"
        )
    interval = sec.number("cost_update_interval_s", base.cost_update_interval, low=0.0)
    if 0 < interval < 60:
        raise ConfigError(sec.path("cost_update_interval_s"), "must be 0 (off) or at least 60")
    return {"currency": currency.upper(), "cost_update_interval": float(interval)}
