"""site.yaml `central.rate_limit` and `central.cost_update_interval_s` (the central system's
flood protection and 2.0.1 running-cost updates)."""

from __future__ import annotations

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
