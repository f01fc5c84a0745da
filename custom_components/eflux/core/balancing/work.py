"""Per-charger records of one pass: the immutable `Demand` and the mutable `Work` scratch."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple

from .inputs import ChargerInput
from .result import Reason
from .site import Mode
from .state import FRESH, ChargerState
from .topology import Membership

if TYPE_CHECKING:
    from .memo import DrawHit

AT_HIGH = -1  # `limited_by`: the charger's own upper bound (see `high_reason`), not a constraint


class Option(NamedTuple):
    """One way to run a charger: on these grid phases (a single phase after a phase switch)."""

    phases: int  # phases commanded
    grid_phases: tuple[int, ...]
    members: Membership
    # Admission at the minimum current, worked out once per demand: it fits while
    # left[cid] >= threshold for every (cid, threshold) of `check`, and then takes the amps of
    # `take` from each constraint (see `admission`).
    check: tuple[tuple[int, float], ...]
    take: tuple[tuple[int, float], ...]


class Demand(NamedTuple):
    """What a charger asks for; depends only on its input and a few fields of its state, so a
    pass reuses the previous one when neither changed (see `balancer._rank`)."""

    mode: Mode
    low: float
    high: float  # below `low`: the charger must pause, for `high_reason`
    high_reason: Reason
    high_detail: str
    pool: int
    tier: int  # 2 * priority, +1 for fast: higher tiers are served first
    options: tuple[Option, ...]  # in order of preference
    up_probe: Option | None  # three phases to try once they have fitted long enough
    car_phases: tuple[int, ...] | None


# A placeholder until a pass works out the real demand (never used for a decision).
NO_DEMAND = Demand(Mode.OFF, 0.0, 0.0, Reason.OFF, "", 0, 0, (), None, None)


class Work:
    """One charger's scratch for a pass. Kept per charger between passes (`PassMemo.works`),
    so that a charger whose input and state are the very same objects keeps its
    demand and rank; everything a pass decides is reset at its start (`balancer.balance`)."""

    __slots__ = (
        "admitted",
        "demand",
        "detail",
        "draw",
        "extra",
        "fresh",
        "frozen",
        "hold_until",
        "ident",
        "in_turn",
        "index",
        "inp",
        "key",
        "limited_by",
        "members",
        "option",
        "over_since",
        "owed",
        "prev",
        "ready_since",
        "reason",
        "reusable",
        "room",
        "short_since",
        "since",
        "since_ts",
        "up_since",
    )

    def __init__(self, index: int, ident: str) -> None:
        self.index = index
        self.ident = ident
        # What the demand and the rank were worked out from (balancer._rank).
        self.inp: ChargerInput | None = None
        self.prev: ChargerState = FRESH
        self.in_turn = False
        self.owed = False  # waited `max_wait`: owed a turn (balancer._rank)
        self.reusable = False
        self.since: datetime | None = None
        self.since_ts = 0.0
        self.demand: Demand = NO_DEMAND
        self.key: tuple[float, ...] = ()
        # Decided by the pass.
        self.admitted = False
        self.option: Option | None = None
        self.members: Membership = ()
        self.room = 0.0
        self.extra = 0.0
        self.frozen = False
        self.fresh = False  # a new session (no state before this pass): always `changed`
        self.limited_by = AT_HIGH
        self.reason = Reason.PAUSED_NO_CAPACITY
        self.detail = ""
        self.ready_since: datetime | None = None
        self.short_since: datetime | None = None
        self.up_since: datetime | None = None
        self.draw: DrawHit | None = None  # its measured draw in this pass
        self.over_since: datetime | None = None  # drawing above its limit since (overdraw)
        # A raise under a meter above waits for samples until then (balancer._charger_draws).
        self.hold_until: datetime | None = None
