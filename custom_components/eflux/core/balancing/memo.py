"""What a pass keeps for the next one to save time: `PassMemo`, the balancer's scratch memory.

The balancer is pure: what it decided lives in `BalancerState`, handed back with every result.
Beside it, a caller that runs many passes on one site (the controller, the bench) keeps one
`PassMemo` per `CompiledSite` and hands it to every `balance` call. The memo holds work that
does not need redoing for chargers whose input and state are the very same objects as in the
last pass (the controller replaces a `ChargerInput` only when something in it changed, and the
balancer keeps a `ChargerState` that did not change). A memo never changes a result: a miss only
costs time, and `balance` without one answers the same (tests/balancing/test_memos.py).

Only memos that `benches/bench_balancer.py` shows paying for themselves are kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import NamedTuple

from .allocation import FillPlan
from .inputs import ChargerInput
from .result import ChargerAllocation, Reason
from .state import ChargerState
from .topology import CompiledSite, Membership
from .work import Demand, Option, Work

Settled = tuple[ChargerAllocation, ChargerState, datetime | None]
# A charger's measured draw as (grid phase, amps) pairs; a warning if unusable; None if unmeasured.
Draw = tuple[tuple[int, float], ...] | str | None
# (circuit, phases commanded, grid phases, pool, minimum current, pv_min)
OptionKey = tuple[int, int, tuple[int, ...], int, float, bool]


class DrawHit(NamedTuple):
    """A charger's measured draw (draws._draw_of) for the input it was worked out from."""

    inp: ChargerInput
    draw: Draw


class HeldHit(NamedTuple):
    """The answer for a charging car that keeps its limit (stability._held)."""

    prev: ChargerState
    option: Option
    demand: Demand
    limited_by: int
    settled: Settled


class PausedHit(NamedTuple):
    prev: ChargerState
    reason: Reason
    detail: str
    settled: Settled


class PassMemo:
    """Per charger (by its index in the site) and per site: what the last pass worked out."""

    __slots__ = (
        "compiled",
        "draws",
        "fill_plans",
        "held",
        "in_force",
        "members",
        "options",
        "paused",
        "step_amps",
        "works",
    )

    def __init__(self, compiled: CompiledSite) -> None:
        count = len(compiled.site.chargers)
        self.compiled = compiled  # the site the indices below belong to
        self.draws: list[DrawHit | None] = [None] * count
        # Each charger's scratch, kept so an unchanged charger keeps its demand and rank.
        self.works: list[Work | None] = [None] * count
        # The limits the last pass gave and the load they put per constraint (its `now_loads`),
        # so the next pass checks them for an overload without summing them again.
        self.in_force: tuple[Mapping[str, ChargerState], list[float]] | None = None
        self.fill_plans: dict[int, FillPlan] = {}  # per tier (allocation.FillPlan)
        self.held: list[HeldHit | None] = [None] * count
        self.paused: list[PausedHit | None] = [None] * count
        # Ways to run a charger by value (chargers of one circuit share them: see water_fill).
        self.options: dict[OptionKey, Option] = {}
        # One tuple per (circuit, grid phases, pool): chargers that share it move as one cohort.
        self.members: dict[tuple[int, tuple[int, ...], int], Membership] = {}
        self.step_amps: dict[int, float] = {}  # resolution steps -> amps (stability)
