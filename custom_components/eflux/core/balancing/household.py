"""Household load per circuit and phase, from the meters, and the capacity it leaves to chargers.

A meter that also measures the chargers (the usual grid meter) reads household + chargers; their
own measured draw is subtracted first. A circuit without a meter carries the household load of the
metered circuits below it. Export is never counted as extra capacity for a fuse: the sun can drop
in a second, the balancer would only notice at the next reading.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .draws import Draws
from .site import MeterLossPolicy, PhaseAmps
from .state import Peak
from .topology import CompiledSite

INF = math.inf


@dataclass(slots=True)
class Loads:
    caps: list[float]  # per constraint id: capacity before any charger draws
    household_a: PhaseAmps  # signed, at the grid connection
    pv_surplus_a: float
    lost: list[MeterLossPolicy | None]  # per circuit: the policy in force for its silent meter
    lost_labels: list[str] = field(default_factory=list)
    bases: dict[str, PhaseAmps] = field(default_factory=dict)  # last good household per meter
    peaks: dict[str, tuple[Peak, ...]] = field(default_factory=dict)  # see BalancerState
    warnings: list[str] = field(default_factory=list)


def valid_reading(reading: object) -> bool:
    return (
        isinstance(reading, tuple)
        and len(reading) == 3
        and all(isinstance(v, int | float) and math.isfinite(v) for v in reading)
    )


def site_loads(
    cs: CompiledSite,
    meters: Mapping[str, PhaseAmps],
    chargers: Draws,
    last_bases: Mapping[str, PhaseAmps],
    last_peaks: Mapping[str, tuple[Peak, ...]],
    now: datetime,
) -> Loads:
    """Capacity per constraint for this pass, from the chargers' own draw (`chargers`, see
    draws): `by_circuit[circuit]` per grid phase of the chargers hanging directly from that
    circuit, what may have been added since (`assumed`: the last limits of charging ones not
    measured yet, raises their samples cannot show yet) and taken away (`released`: decreases).

    Where samples and readings may disagree (`_within_doubt`): for a raise, the household is
    the one seen before (the last pass's) as far as the uncertainty allows, so a car the meter
    already sees at its new limit is not counted as household; a decrease is counted as made,
    the safe side.

    A silent meter's circuit counts the highest household load of its last good readings
    (`last_peaks`, kept over `tuning.meter_loss_window` up to `now`)."""
    circuits = cs.site.circuits
    for ident in meters:
        index = cs.circuit_index.get(ident)
        if index is None or not circuits[index].metered:
            raise ValueError(f"meter reading for {ident!r}, which is not a metered circuit")
    n_nodes = cs.node_count
    caps = [INF] * (4 * n_nodes)
    lost: list[MeterLossPolicy | None] = [None] * len(circuits)
    loads = Loads(caps=caps, household_a=(0.0, 0.0, 0.0), pv_surplus_a=0.0, lost=lost)
    if last_peaks:
        loads.peaks.update(last_peaks)
    window = cs.site.tuning.meter_loss_window
    base: list[list[float]] = [[0.0, 0.0, 0.0] for _ in circuits]
    sub_draw: list[list[float]] = [list(d) for d in chargers.by_circuit]
    assumed, released = chargers.assumed, chargers.released
    sub_assumed = [list(d) for d in assumed] if assumed is not None else None
    sub_released = [list(d) for d in released] if released is not None else None
    root = cs.root
    root_signed: list[float] | None = None
    for n in cs.bottom_up:
        circuit = circuits[n]
        below = base[n]
        for child in cs.children[n]:
            child_base, child_draw = base[child], sub_draw[child]
            for p in range(3):
                below[p] += child_base[p]
                sub_draw[n][p] += child_draw[p]
            if sub_assumed is not None:
                for p in range(3):
                    sub_assumed[n][p] += sub_assumed[child][p]
            if sub_released is not None:
                for p in range(3):
                    sub_released[n][p] += sub_released[child][p]
        if circuit.metered:
            reading = meters.get(circuit.id)
            if reading is not None and not valid_reading(reading):
                loads.warnings.append(f"meter {circuit.label}: unusable reading {reading!r}")
                reading = None
            if reading is not None:
                signed = [
                    reading[p] - (sub_draw[n][p] if circuit.meter_includes_chargers else 0.0)
                    for p in range(3)
                ]
                if circuit.meter_includes_chargers and (sub_assumed or sub_released):
                    _within_doubt(
                        signed,
                        sub_assumed[n] if sub_assumed else (0.0, 0.0, 0.0),
                        sub_released[n] if sub_released else (0.0, 0.0, 0.0),
                        last_bases.get(circuit.id),
                    )
                for p in range(3):
                    below[p] = max(below[p], signed[p], 0.0)
                seen = (below[0], below[1], below[2])
                loads.bases[circuit.id] = seen
                peaks = loads.peaks.get(circuit.id)
                loads.peaks[circuit.id] = _record(peaks, seen, now, window)
                if n == root:
                    root_signed = signed
            else:
                _meter_lost(cs, n, below, last_bases, loads)
        limit, margin = circuit.limit_a, circuit.margin_a
        for p in range(3):
            caps[3 * n + p] = limit[p] - margin - below[p]
        if circuit.total_limit_a is not None:
            caps[cs.total_cid(n)] = circuit.total_limit_a - margin - sum(below)
    static = cs.site.static_budget_a
    for p in range(3):
        top = circuits[root]
        budget = top.limit_a[p] - top.margin_a if static is None else static[p]
        caps[3 * cs.static_node + p] = budget
    if root_signed is not None:
        loads.household_a = (root_signed[0], root_signed[1], root_signed[2])
        loads.pv_surplus_a = max(0.0, -sum(root_signed) - cs.site.pv_reserve_a)
    caps[cs.total_cid(cs.pv_node)] = loads.pv_surplus_a
    if root_signed is None and not circuits[root].metered:
        loads.household_a = (base[root][0], base[root][1], base[root][2])
    return loads


def _within_doubt(
    signed: list[float],
    assumed: Sequence[float],
    released: Sequence[float],
    last: PhaseAmps | None,
) -> None:
    """The household between `signed - assumed` and `signed + released` (see site_loads): the
    one seen before where it lies in between, else the nearest bound; but when a decrease is in
    transit and even the lower bound is above the one seen before by more than that decrease,
    the household has grown whatever the meter saw, and it is the upper bound (a
    household step that comes with a pause must not hide behind the paused car's stale sample:
    issue 15's building went 30 s over its fuse so). Taking the upper bound always would count
    every decrease the meter has not seen yet as if it had, and lower the other cars for it,
    pass after pass. (A decrease older than `follow_time` is in no doubt: draws counts it as
    made.)"""
    for p in range(3):
        low, high = signed[p] - assumed[p], signed[p] + released[p]
        if last is None:
            seen = signed[p] if assumed[p] > 0 or released[p] == 0 else high
        elif released[p] > 0 and low - last[p] > released[p]:
            seen = high
        else:
            seen = last[p]
        signed[p] = min(max(seen, low), high)


def _meter_lost(
    cs: CompiledSite,
    n: int,
    below: list[float],
    last_bases: Mapping[str, PhaseAmps],
    loads: Loads,
) -> None:
    """Apply a silent meter's policy to the household load assumed for circuit `n`."""
    circuit = cs.site.circuits[n]
    policy = circuit.on_meter_loss
    loads.lost[n] = policy
    loads.lost_labels.append(circuit.label)
    if policy is MeterLossPolicy.STOP:
        for p in range(3):
            below[p] = max(below[p], circuit.limit_a[p])
        return
    # Every policy's budget is capped by the highest household seen recently: the house may
    # have grown since the last reading, and the chargers cannot tell.
    peaks = loads.peaks.get(circuit.id)
    last = last_bases.get(circuit.id)
    if last is not None:
        loads.bases[circuit.id] = last
    seen = _highest(peaks) if peaks else last
    if seen is not None:
        for p in range(3):
            below[p] = max(below[p], seen[p])
    if policy is MeterLossPolicy.FIXED_BUDGET and circuit.fallback_budget_a is not None:
        budget = circuit.fallback_budget_a
        for p in range(3):
            usable = circuit.limit_a[p] - circuit.margin_a
            below[p] = max(below[p], usable - budget[p])


def _record(
    peaks: tuple[Peak, ...] | None, seen: PhaseAmps, now: datetime, window: timedelta
) -> tuple[Peak, ...]:
    """`peaks` with this reading's household: the maximum per bucket of 1/15 of the window,
    buckets older than the window dropped (so their maximum is never below the true one)."""
    width = window / 15
    if peaks:
        last = peaks[-1]
        if now < last.since + width:
            old = last.amps
            if seen[0] <= old[0] and seen[1] <= old[1] and seen[2] <= old[2]:
                return peaks
            merged = (max(seen[0], old[0]), max(seen[1], old[1]), max(seen[2], old[2]))
            return (*peaks[:-1], Peak(last.since, merged))
        start = now - window
        kept = tuple(peak for peak in peaks if peak.since + width > start)
        return (*kept, Peak(now, seen))
    return (Peak(now, seen),)


def _highest(peaks: tuple[Peak, ...]) -> PhaseAmps:
    return (
        max(peak.amps[0] for peak in peaks),
        max(peak.amps[1] for peak in peaks),
        max(peak.amps[2] for peak in peaks),
    )
