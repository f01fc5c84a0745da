"""Warnings the controller raises and clears as the balancer's passes go: for now, cars that
ignore their limit (balancing.overdraw). Listeners (the HA layer's repair issues, a log) get
one `ControlWarning` when a warning starts and one when it ends; the site snapshot lists the
chargers concerned in `overdrawing` and the text in `warnings`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..balancing import BalanceResult

OVERDRAW = "overdraw"


@dataclass(frozen=True, slots=True)
class ControlWarning:
    charger_id: str
    kind: str  # OVERDRAW
    active: bool  # True: it starts; False: it is over
    at: datetime
    message: str


def warning_changes(
    before: BalanceResult | None, after: BalanceResult, at: datetime
) -> list[ControlWarning]:
    """The warnings that start or end between two passes."""
    was = set(before.site.overdrawing) if before is not None else set()
    now = set(after.site.overdrawing)
    changes = [
        ControlWarning(
            ident,
            OVERDRAW,
            True,
            at,
            f"{ident} draws more than its limit: counted at its draw, paused if it goes on",
        )
        for ident in sorted(now - was)
    ]
    changes += [
        ControlWarning(ident, OVERDRAW, False, at, f"{ident} keeps to its limit again")
        for ident in sorted(was - now)
    ]
    return changes
