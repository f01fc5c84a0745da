"""The site as the installer describes it: a tree of circuits and the chargers hanging from it.

A circuit is anything with a limit per phase: the grid connection (its main fuse), a distribution
board such as a garage floor, or a master charger with its slaves (the group limit of a Keba or
Mennekes master/slave installation). Chargers hang from exactly one circuit. Everything here is
configuration: it changes when the installer edits the site, not on every meter reading, so it is
validated and compiled once (see `topology.compile_site`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from enum import IntEnum, StrEnum

# Amps per phase, L1..L3. Signed where a meter measures it (import positive, export negative).
PhaseAmps = tuple[float, float, float]

# IEC 61851-1: a car is offered at least 6 A per phase while charging, or nothing.
IEC_MIN_CURRENT_A = 6.0


class Phase(IntEnum):
    """A phase of the grid connection; the value is its index in `PhaseAmps`."""

    L1 = 0
    L2 = 1
    L3 = 2

    def __str__(self) -> str:
        return f"L{self.value + 1}"


ALL_PHASES: tuple[Phase, ...] = (Phase.L1, Phase.L2, Phase.L3)


def per_phase(amps: float) -> PhaseAmps:
    """The same limit on all three phases."""
    return (amps, amps, amps)


class Mode(StrEnum):
    """How a charger (or, as the default, the whole site) charges."""

    OFF = "off"  # never charge
    FAST = "fast"  # as fast as the circuits allow, served before the other modes
    STATIC = "static"  # an equal share of the fixed static budget (no meter needed)
    DYNAMIC = "dynamic"  # what the circuits leave after the measured household load
    PV = "pv"  # only on exported solar power
    PV_MIN = "pv_min"  # at least the minimum current, plus exported solar power
    SMART = "smart"  # the departure-time planner decides the power


class MeterLossPolicy(StrEnum):
    """What a circuit does while its meter is silent (the controller decides what is silent)."""

    SAFE_LIMIT = "safe_limit"  # chargers below fall back to their safe current
    FIXED_BUDGET = "fixed_budget"  # chargers below share `fallback_budget_a`
    STOP = "stop"  # chargers below pause
    HOLD = "hold"  # chargers below keep their current limit at most (no increases, no starts)


class SiteConfigError(ValueError):
    """The site configuration is invalid; `key` says where (e.g. `circuits[garage].limit_a`)."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"{key}: {reason}")
        self.key = key
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Circuit:
    """A node of the circuit tree; the root (no parent) is the grid connection."""

    id: str
    limit_a: PhaseAmps
    parent: str | None = None
    name: str = ""
    # Kept free on every phase: the allocation never goes above `limit_a - margin_a`.
    margin_a: float = 0.0
    # Optional cap on the sum over the phases (a contracted capacity, e.g. a capacity tariff).
    total_limit_a: float | None = None
    # A meter measures this circuit; its reading is the household load (plus the chargers below
    # when `meter_includes_chargers`, whose own measured draw is then subtracted first).
    metered: bool = False
    meter_includes_chargers: bool = True
    on_meter_loss: MeterLossPolicy = MeterLossPolicy.SAFE_LIMIT
    fallback_budget_a: PhaseAmps | None = None

    @property
    def label(self) -> str:
        return self.name or self.id


@dataclass(frozen=True, slots=True)
class Charger:
    """A charge point (one connector) and how it is wired."""

    id: str
    circuit: str
    # wiring[k] is the grid phase that the charger's phase k+1 is connected to: (L2, L3, L1) is a
    # rotated three-phase charger, (L3,) a single-phase charger on L3.
    wiring: tuple[Phase, ...] = ALL_PHASES
    min_current_a: float = IEC_MIN_CURRENT_A
    max_current_a: float = 16.0
    priority: int = 0
    # Can switch between one and three phases while a session runs (go-e, some OCPP 2.0.1 boxes).
    can_switch_phases: bool = False
    # What the charger may draw while a meter above it is silent (0 pauses it).
    safe_current_a: float = IEC_MIN_CURRENT_A
    name: str = ""

    @property
    def label(self) -> str:
        return self.name or self.id


@dataclass(frozen=True, slots=True)
class Tuning:
    """Timing and step sizes that keep contactors and cars from being cycled."""

    hysteresis_a: float = 1.0  # an increase smaller than this waits
    min_change_interval: timedelta = timedelta(seconds=30)  # between two increases of a charger
    ramp_step_a: float | None = 6.0  # largest increase in one change (None: no limit)
    start_delay: timedelta = timedelta(seconds=60)  # a pause or a pv start must hold this long
    stop_delay: timedelta = timedelta(minutes=3)  # pv keeps charging this long without surplus
    rotation_interval: timedelta = timedelta(minutes=15)  # turn length when not all fit
    # A car paused this long is owed a turn: it goes before urgency and its plan (no car
    # starves while others are urgent); None: never.
    max_wait: timedelta | None = timedelta(minutes=20)
    phase_switch_delay: timedelta = timedelta(minutes=2)  # 1 → 3 phases must fit this long
    resolution_a: float = 0.1  # targets are rounded down to this (OCPP: one decimal)
    detect_min_a: float = 2.0  # a car drawing at least this shows its phases
    # While a meter is silent its circuit counts the highest household load seen this long.
    meter_loss_window: timedelta = timedelta(minutes=15)
    # A car drawing more than its limit + the tolerance for longer than the grace is counted
    # at its measured draw (the others make room); still so after `overdraw_pause_after`: paused.
    overdraw_tolerance_a: float = 1.0
    overdraw_grace: timedelta = timedelta(seconds=30)
    overdraw_pause_after: timedelta = timedelta(minutes=2)
    # A current sample taken less than this after a limit change may still show the old draw.
    follow_time: timedelta = timedelta(seconds=5)
    # After a raise under a meter, other raises there wait for the raised chargers' next
    # samples (taken `follow_time` after it), at most this long.
    raise_hold: timedelta = timedelta(seconds=30)


@dataclass(frozen=True, slots=True)
class Site:
    circuits: tuple[Circuit, ...]
    chargers: tuple[Charger, ...]
    default_mode: Mode = Mode.DYNAMIC
    # The fixed budget that `static` chargers share; None: the grid connection's limit - margin.
    static_budget_a: PhaseAmps | None = None
    voltage_v: float = 230.0
    # Export (summed over the phases) left to the grid before `pv` chargers use any.
    pv_reserve_a: float = 0.0
    tuning: Tuning = field(default_factory=Tuning)
