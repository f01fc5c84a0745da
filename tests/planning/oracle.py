"""Brute force over slot assignments for small, whole-kWh cases: the planner's referee.

With whole numbers everywhere, a fractional schedule exists exactly when a whole-kWh one does
(flows with integer capacities have integral optima), so enumerating whole kWh per car per slot
decides feasibility, the most energy deliverable and the cheapest full schedule.
"""

from __future__ import annotations

import itertools
import math
from functools import cache


def _choices(
    caps: tuple[int, ...], remaining: tuple[int, ...], slot_cap: int
) -> list[tuple[int, ...]]:
    ranges = [range(min(c, r) + 1) for c, r in zip(caps, remaining, strict=True)]
    return [e for e in itertools.product(*ranges) if sum(e) <= slot_cap]


def max_delivered(
    edge_caps: list[list[int]], slot_caps: list[int], needs: list[int], slots: int | None = None
) -> int:
    """The most kWh all cars together can get (using only the first `slots` slots)."""
    last = len(slot_caps) if slots is None else slots

    @cache
    def best(s: int, remaining: tuple[int, ...]) -> int:
        if s == last:
            return 0
        caps = tuple(row[s] for row in edge_caps)
        return max(
            sum(e) + best(s + 1, tuple(r - x for r, x in zip(remaining, e, strict=True)))
            for e in _choices(caps, remaining, slot_caps[s])
        )

    return best(0, tuple(needs))


def min_cost(
    edge_caps: list[list[int]], slot_caps: list[int], needs: list[int], prices: list[int]
) -> float:
    """The cheapest schedule that serves every car in full (inf when none does)."""

    @cache
    def cheapest(s: int, remaining: tuple[int, ...]) -> float:
        if s == len(slot_caps):
            return 0.0 if not any(remaining) else math.inf
        caps = tuple(row[s] for row in edge_caps)
        return min(
            sum(e) * prices[s]
            + cheapest(s + 1, tuple(r - x for r, x in zip(remaining, e, strict=True)))
            for e in _choices(caps, remaining, slot_caps[s])
        )

    return cheapest(0, tuple(needs))
