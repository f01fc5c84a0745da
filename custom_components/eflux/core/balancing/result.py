"""What a balancer pass returns: a limit and a reason per charger, and the state of the site."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import NamedTuple

from .site import PhaseAmps
from .state import BalancerState


class ChargerStatus(StrEnum):
    CHARGING = "charging"
    PAUSED = "paused"  # a car wants to charge, the balancer holds it at 0 A
    WAITING = "waiting"  # paused, and about to start once a delay has passed
    IDLE = "idle"  # no car
    OFF = "off"  # mode off


class Reason(StrEnum):
    """Why a charger has its limit; `detail` in the allocation names the circuit or the delay."""

    MAX_CURRENT = "max_current"  # as much as the charger (or its user limit) allows
    LIMITED_BY_CIRCUIT = "limited_by_circuit"
    LIMITED_BY_BUDGET = "limited_by_budget"  # the static budget
    LIMITED_BY_PV = "limited_by_pv"
    LIMITED_BY_PLAN = "limited_by_plan"
    TURN_OWED = "turn_owed"  # planned later, but it waited `max_wait`: its minimum for a turn
    INCREASE_HELD = "increase_held"  # hysteresis or minimum interval between changes
    RAMPING = "ramping"
    PV_STOP_DELAY = "pv_stop_delay"  # surplus gone; keeps the minimum for the stop delay
    METER_LOST = "meter_lost"
    OVERDRAW = "overdraw"  # draws above its limit: counted at its draw, kept, never raised
    PAUSED_NO_CAPACITY = "paused_no_capacity"
    PAUSED_ROTATION = "paused_rotation"
    PAUSED_NEXT_IN_LINE = "paused_next_in_line"  # room kept for the first waiting (`detail`)
    PAUSED_NO_PV = "paused_no_pv"
    PAUSED_PLAN = "paused_plan"
    PAUSED_BELOW_MINIMUM = "paused_below_minimum"  # its limit is below its minimum current
    PAUSED_OVERDRAW = "paused_overdraw"  # kept drawing above its limit (see overdraw)
    WAITING_START_DELAY = "waiting_start_delay"
    OFF = "off"
    NO_CAR = "no_car"


_TEXT = {
    Reason.MAX_CURRENT: "at its maximum current",
    Reason.LIMITED_BY_CIRCUIT: "limited by circuit {}",
    Reason.LIMITED_BY_BUDGET: "limited by the {}",
    Reason.LIMITED_BY_PV: "limited by the PV surplus",
    Reason.LIMITED_BY_PLAN: "limited by the charging plan",
    Reason.TURN_OWED: "its turn: planned later, but it waited too long",
    Reason.INCREASE_HELD: "increase held: {}",
    Reason.RAMPING: "ramping up",
    Reason.PV_STOP_DELAY: "no PV surplus: stop delay",
    Reason.METER_LOST: "meter {} silent: fallback",
    Reason.OVERDRAW: "draws above its limit: counted at its draw",
    Reason.PAUSED_NO_CAPACITY: "paused: no capacity in {}",
    Reason.PAUSED_ROTATION: "paused: rotation",
    Reason.PAUSED_NEXT_IN_LINE: "paused: {} is next in line",
    Reason.PAUSED_NO_PV: "paused: not enough PV surplus",
    Reason.PAUSED_PLAN: "paused: planned later",
    Reason.PAUSED_BELOW_MINIMUM: "paused: limit below the minimum current",
    Reason.PAUSED_OVERDRAW: "paused: kept drawing above its limit",
    Reason.WAITING_START_DELAY: "waiting: start delay",
    Reason.OFF: "off",
    Reason.NO_CAR: "no car",
}


class ChargerAllocation(NamedTuple):
    charger_id: str
    target_a: float  # per phase; 0 = paused
    phases: int  # phases to command (1 after a switch to single phase), 0 while paused
    grid_phases: tuple[int, ...]  # grid phases it loads (0 = L1)
    status: ChargerStatus
    reason: Reason
    detail: str = ""

    @property
    def text(self) -> str:
        """A line for the UI, e.g. "limited by circuit garage L2"."""
        template = _TEXT[self.reason]
        return template.format(self.detail) if "{}" in template else template


@dataclass(frozen=True, slots=True)
class SiteStatus:
    household_a: PhaseAmps  # at the grid connection, chargers excluded; negative = export
    allocated_a: PhaseAmps  # given to chargers, per grid phase
    available_a: PhaseAmps  # still free at the grid connection (limit - margin - load)
    pv_surplus_a: float  # exported power summed over the phases, in amps
    pv_surplus_w: float
    overload: bool  # the limits in force were above a circuit's capacity: lowered in this pass
    overloaded: tuple[str, ...]  # labels of the constraints that were over
    meters_lost: tuple[str, ...]  # circuits whose meter is silent
    warnings: tuple[str, ...]
    # Chargers drawing above their limit for longer than the grace (counted at their draw).
    overdrawing: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class BalanceResult:
    chargers: Mapping[str, ChargerAllocation]
    site: SiteStatus
    state: BalancerState  # pass it into the next call
    changed: tuple[str, ...]  # chargers whose limit or phases changed: send these only
    # The earliest time a waiting decision (delay, interval, rotation) may change the outcome:
    # call again then even if no reading arrives. None: nothing is waiting.
    next_check_at: datetime | None

    def capacity_for(self, charger_ids: Iterable[str]) -> PhaseAmps:
        """Amps per phase at the grid connection these chargers could share if the others kept
        their limits: what is free plus what they have now (e.g. the planner's budget for the
        smart cars: min over the phases x 3 x voltage)."""
        free = list(self.site.available_a)
        for ident in charger_ids:
            allocation = self.chargers.get(ident)
            if allocation is not None:
                for p in allocation.grid_phases:
                    free[p] += allocation.target_a
        return (max(0.0, free[0]), max(0.0, free[1]), max(0.0, free[2]))
