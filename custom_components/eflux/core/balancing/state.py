"""The balancer's memory between passes: explicit, immutable, handed back with every result.

Per charger it is a NamedTuple (cheap to build for thousands of chargers); a charger whose state
did not change keeps the very same object.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import NamedTuple

from .site import PhaseAmps


class ChargerState(NamedTuple):
    on: bool = False  # the balancer lets it charge
    target_a: float = 0.0  # the limit last given (0 while off)
    phases: int = 0  # phases commanded with that limit
    grid_phases: tuple[int, ...] = ()  # grid phases it loads while on
    changed_at: datetime | None = None  # last change of limit or phases
    switched_at: datetime | None = None  # last start or pause
    was_on: bool = False  # it charged before in this session (restarts wait for start_delay)
    ready_since: datetime | None = None  # paused, and would have fitted since then
    short_since: datetime | None = None  # pv, charging, and the surplus has been short since
    up_since: datetime | None = None  # on one phase, and three would have fitted since
    car_phases: tuple[int, ...] | None = None  # charger phases the car draws on, once seen
    raised_at: datetime | None = None  # last increase or start
    over_since: datetime | None = None  # drawing above limit + tolerance since (see overdraw)
    # The limit in force before the last change (0 while off): a sample taken before that change
    # had time to show is judged against the higher of the two (overdraw.excess_load).
    prior_target_a: float = 0.0
    owed_turn: bool = False  # charging a turn it was owed: a plan's pause waits for its end


FRESH = ChargerState()


class Peak(NamedTuple):
    since: datetime  # start of the bucket
    amps: PhaseAmps  # the highest household per phase seen in it


@dataclass(frozen=True, slots=True)
class BalancerState:
    """Start with `BalancerState()`; then pass each result's `state` into the next call."""

    chargers: Mapping[str, ChargerState] = field(default_factory=lambda: MappingProxyType({}))
    # Last household load seen per metered circuit.
    circuit_base: Mapping[str, PhaseAmps] = field(default_factory=lambda: MappingProxyType({}))
    # Per metered circuit, the highest household load per time bucket over the last
    # `tuning.meter_loss_window` (what its chargers may count on while the meter is silent).
    household_peaks: Mapping[str, tuple[Peak, ...]] = field(
        default_factory=lambda: MappingProxyType({})
    )
