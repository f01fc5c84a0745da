"""The balancer's per-charger scratch record for one pass (mutable, never leaves the package)."""

from __future__ import annotations

from datetime import datetime

from .inputs import ChargerInput
from .result import Reason
from .site import Charger, Mode
from .state import ChargerState
from .topology import Membership

AT_HIGH = -1  # `limited_by`: the charger's own upper bound (see `high_reason`), not a constraint


class Option:
    """One way to run a charger: on these grid phases (a single phase after a phase switch)."""

    __slots__ = ("grid_phases", "members", "phases")

    def __init__(self, phases: int, grid_phases: tuple[int, ...], members: Membership) -> None:
        self.phases = phases
        self.grid_phases = grid_phases
        self.members = members


class Work:
    __slots__ = (
        "admitted",
        "car_phases",
        "charger",
        "detail",
        "extra",
        "frozen",
        "high",
        "high_detail",
        "high_reason",
        "ident",
        "index",
        "inp",
        "key",
        "limited_by",
        "low",
        "members",
        "mode",
        "option",
        "options",
        "pool",
        "prev",
        "ready_since",
        "reason",
        "room",
        "short_since",
        "tier",
        "up_probe",
        "up_since",
    )

    def __init__(
        self, index: int, charger: Charger, inp: ChargerInput, prev: ChargerState, mode: Mode
    ) -> None:
        self.index = index
        self.charger = charger
        self.ident = charger.id
        self.inp = inp
        self.prev = prev
        self.mode = mode
        self.low = charger.min_current_a
        self.high = charger.max_current_a
        self.high_reason = Reason.MAX_CURRENT
        self.high_detail = ""
        self.pool = 0
        self.tier = 0
        self.key: tuple[float, ...] = ()
        self.options: list[Option] = []
        self.up_probe: Option | None = None
        self.option: Option | None = None
        self.members: Membership = ()
        self.car_phases: tuple[int, ...] | None = prev.car_phases
        self.admitted = False
        self.room = 0.0
        self.extra = 0.0
        self.frozen = False
        self.limited_by = AT_HIGH
        self.reason = Reason.PAUSED_NO_CAPACITY
        self.detail = ""
        self.ready_since: datetime | None = None
        self.short_since: datetime | None = None
        self.up_since: datetime | None = None
