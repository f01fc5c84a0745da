"""The decision log: what the controller decided and why, readable by a person.

Built from consecutive balancing passes (no extra hook in the controller): a charger whose
limit or phases changed is a `limit` decision with its reason ("6.0 → 12.0 A, limited by
circuit garage L2"); a charger paused for or resumed after its rotation turn is a `rotation`
decision; the site going over a circuit's capacity and back, and a meter going silent and
answering again, are decisions too. Each is logged at INFO (one line a decision, so a building
manager can grep the log) and kept in a ring of the last `size` for the local API
(`GET /api/decisions`) and the console.
"""

from __future__ import annotations

import logging
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from .balancing import BalanceResult, ChargerAllocation

_LOGGER = logging.getLogger(__name__)
DEFAULT_SIZE = 500
FIRST_READ_GRACE = timedelta(seconds=10)  # a meter not read this long after the start is lost
# Reasons of a rotation turn (by value: `Reason` is a StrEnum).
_ROTATION = frozenset({"paused_rotation", "paused_next_in_line"})


class DecisionKind(StrEnum):
    LIMIT = "limit"
    ROTATION = "rotation"
    OVERLOAD = "overload"
    OVERLOAD_CLEARED = "overload_cleared"
    METER_LOST = "meter_lost"
    METER_RECOVERED = "meter_recovered"


@dataclass(frozen=True, slots=True)
class Decision:
    at: datetime
    kind: DecisionKind
    text: str  # the whole decision as one readable line
    charger_id: str | None = None
    from_a: float | None = None
    to_a: float | None = None
    phases: int | None = None
    reason: str | None = None  # `Reason` value of a limit or rotation decision
    subject: str | None = None  # circuit or constraint of a site decision

    def as_dict(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "kind": self.kind.value,
            "text": self.text,
            "charger": self.charger_id,
            "from_a": self.from_a,
            "to_a": self.to_a,
            "phases": self.phases,
            "reason": self.reason,
            "subject": self.subject,
        }


class DecisionLog:
    """Feed it every pass (`observe`); read the newest decisions with `recent`."""

    def __init__(self, clock: Callable[[], datetime], *, size: int = DEFAULT_SIZE) -> None:
        self._clock = clock
        self._ring: deque[Decision] = deque(maxlen=size)
        self._last: dict[str, ChargerAllocation] = {}
        self._overloaded: frozenset[str] = frozenset()
        self._meters_lost: frozenset[str] = frozenset()
        # Meters silent since the start and never read: not a loss (the first poll is on its
        # way when the site starts), so neither "lost" nor "recovered" is told for them.
        self._unheard: set[str] | None = None
        self._first_pass_at: datetime | None = None
        self._seen: BalanceResult | None = None
        self._counts: Counter[DecisionKind] = Counter()  # since start, for /metrics

    def observe(self, result: BalanceResult) -> None:
        # The controller's listeners also run after a limit is sent: the same pass again.
        if result is self._seen:
            return
        self._seen = result
        at = self._clock()
        self._site_changes(result, at)
        for charger_id in result.changed:
            allocation = result.chargers.get(charger_id)
            if allocation is not None:
                self._limit_change(allocation, self._last.get(charger_id), at)
        self._last = dict(result.chargers)

    def recent(self, limit: int | None = None) -> list[Decision]:
        """Newest last; at most `limit` (all that are kept when None)."""
        items = list(self._ring)
        return items if limit is None else items[-limit:] if limit > 0 else []

    # ---- what changed -------------------------------------------------------------------------
    def _site_changes(self, result: BalanceResult, at: datetime) -> None:
        overloaded = frozenset(result.site.overloaded) if result.site.overload else frozenset()
        for label in sorted(overloaded - self._overloaded):
            self._add(
                Decision(
                    at,
                    DecisionKind.OVERLOAD,
                    f"overload on {label}: lowered at once",
                    subject=label,
                )
            )
        for label in sorted(self._overloaded - overloaded):
            self._add(
                Decision(
                    at, DecisionKind.OVERLOAD_CLEARED, f"overload on {label} cleared", subject=label
                )
            )
        self._overloaded = overloaded
        lost = frozenset(result.site.meters_lost)
        if self._unheard is None:  # the first pass: a meter not read yet was never lost
            self._unheard, self._first_pass_at = set(lost), at
        self._unheard &= lost  # read once: from now on a silence is a loss
        first = self._first_pass_at
        if self._unheard and first is not None and at - first >= FIRST_READ_GRACE:
            self._unheard.clear()  # never read at all: that is a loss too
        for circuit in sorted(lost - self._meters_lost - self._unheard):
            self._add(
                Decision(
                    at,
                    DecisionKind.METER_LOST,
                    f"meter of circuit {circuit} silent: no start or raise there",
                    subject=circuit,
                )
            )
        for circuit in sorted(self._meters_lost - lost):
            self._add(
                Decision(
                    at,
                    DecisionKind.METER_RECOVERED,
                    f"meter of circuit {circuit} answers again",
                    subject=circuit,
                )
            )
        self._meters_lost = lost - self._unheard

    def _limit_change(
        self, now: ChargerAllocation, before: ChargerAllocation | None, at: datetime
    ) -> None:
        from_a = 0.0 if before is None else before.target_a
        rotation = now.reason in _ROTATION or (
            before is not None and before.reason in _ROTATION and now.target_a > 0
        )
        kind = DecisionKind.ROTATION if rotation else DecisionKind.LIMIT
        phases = f" on {now.phases} phase{'s' if now.phases != 1 else ''}" if now.phases else ""
        text = f"{now.charger_id}: {from_a:.1f} → {now.target_a:.1f} A{phases}, {now.text}"
        self._add(
            Decision(
                at,
                kind,
                text,
                charger_id=now.charger_id,
                from_a=from_a,
                to_a=now.target_a,
                phases=now.phases,
                reason=now.reason.value,
            )
        )

    def counts(self) -> dict[DecisionKind, int]:
        """Decisions of each kind since the start (the ring keeps only the newest)."""
        return {kind: self._counts[kind] for kind in DecisionKind}

    def _add(self, decision: Decision) -> None:
        self._counts[decision.kind] += 1
        self._ring.append(decision)
        # the time is the site clock's (simulated in a scenario), not the log record's
        _LOGGER.info(
            "decision %s: %s @%s",
            decision.kind.value,
            decision.text,
            decision.at.isoformat(timespec="milliseconds"),
        )
