"""Cars that ignore their limit: counted at what they draw, so the others make room.

A car drawing more than its limit + `tuning.overdraw_tolerance_a` on any phase (0 A while
paused) is over-drawing from that sample on; a sample taken before a change of its limit had
`tuning.follow_time` to show proves nothing (the car may still be following it, or the sample is
simply old: what was known before holds). From that sample on, what it draws above its limit
(`excess_load`) is taken off every constraint above it before anyone is admitted (the sum of
max(draw, limit) must fit in every pass, also on a circuit without a meter of its own, where
nothing else would see it), and it shares as before. After `tuning.overdraw_grace` of it, the
car leaves the sharing: its whole measured draw is taken off first, it is named (a warning), and
it keeps its limit (never raised, lowered only by its own bounds) where the part of that limit
above its draw still fits.
If not, or once it has gone on for `tuning.overdraw_pause_after`, the charger is paused (and its
draw, as long as it lasts, is still taken off). It rejoins the sharing with its first sample
within bounds.
"""

from __future__ import annotations

from datetime import datetime

from .memo import DrawHit
from .result import ChargerAllocation, ChargerStatus, Reason
from .site import Mode, Tuning
from .state import ChargerState
from .topology import EPS, POOL_PV, CompiledSite
from .work import Work


def over_since(
    hit: DrawHit | None, prev: ChargerState, now: datetime, tuning: Tuning
) -> datetime | None:
    """Since when the charger has been drawing above its limit (None: it is not)."""
    tolerance = tuning.overdraw_tolerance_a
    draw = hit.draw if hit is not None else None
    if not isinstance(draw, tuple):  # nothing (usable) measured: nothing new learnt
        return prev.over_since
    if prev.over_since is None:  # the common case first: within its limit
        limit, phases = (prev.target_a + tolerance, prev.grid_phases) if prev.on else (0.0, ())
        if all(amps <= (limit if p in phases else tolerance) for p, amps in draw):
            return None
    measured_at = hit.inp.measured_at if hit is not None else None
    changed_at = prev.changed_at or prev.switched_at
    if (
        measured_at is not None
        and changed_at is not None
        and measured_at < changed_at + tuning.follow_time
    ):
        return prev.over_since  # a sample from before its limit: no evidence either way
    if prev.on:
        limit, phases = prev.target_a + tolerance, prev.grid_phases
        over = any(amps > (limit if p in phases else tolerance) for p, amps in draw)
    else:
        over = any(amps > tolerance for _, amps in draw)
    if not over:
        return None
    return prev.over_since or now


def measured_load(cs: CompiledSite, work: Work) -> list[float]:
    """What an over-drawing charger really draws per grid phase (0 A where not measured)."""
    drawn = [0.0, 0.0, 0.0]
    hit = work.draw
    if hit is not None and isinstance(hit.draw, tuple):  # else (no sample now) its limit counts
        for p, amps in hit.draw:
            drawn[p] += amps
    return drawn


def excess_load(cs: CompiledSite, work: Work, tuning: Tuning) -> list[float]:
    """What a charger draws above its limit per grid phase (0 A while paused). A sample taken
    before the last change had time to show is judged against the higher of the limits before
    and after it: the car may still be at either (and judged against the lowered one only, the
    excess would grow with every decrease it causes)."""
    prev = work.prev
    drawn = measured_load(cs, work)
    limit = prev.target_a if prev.on else 0.0
    hit = work.draw
    measured_at = hit.inp.measured_at if hit is not None else None
    changed_at = prev.changed_at or prev.switched_at
    if (
        measured_at is not None
        and changed_at is not None
        and measured_at < changed_at + tuning.follow_time
    ):
        limit = max(limit, prev.prior_target_a)
    return [
        max(0.0, amps - limit) if p in prev.grid_phases or not prev.on else amps
        for p, amps in enumerate(drawn)
    ]


def take_measured(cs: CompiledSite, work: Work, drawn: list[float], left: list[float]) -> None:
    """Take its real draw off every circuit above it (before anyone's limit is decided)."""
    for cid, amps in _on_circuits(cs, work, drawn):
        left[cid] -= amps


def settle_overdraw(
    cs: CompiledSite,
    work: Work,
    drawn: list[float],
    left: list[float],
    now: datetime,
    tuning: Tuning,
) -> tuple[ChargerAllocation, ChargerState]:
    """The limit of an over-drawing charger whose real draw `drawn` is already off `left`:
    where its limit is above that draw, the difference must fit too (see module doc)."""
    prev, demand = work.prev, work.demand
    since = work.over_since
    assert since is not None
    keep = prev.on and demand.high >= demand.low and now - since < tuning.overdraw_pause_after
    target = min(prev.target_a, demand.high) if keep else 0.0
    option = next((o for o in demand.options if o.grid_phases == prev.grid_phases), None)
    if option is None:  # its phases are no longer an option (detected, switched): no limit
        target = 0.0
    if target > 0:
        assert option is not None
        grid = prev.grid_phases
        above = [max(0.0, target - drawn[p]) if p in grid else -1.0 for p in range(3)]
        # On its phases even 0 A more must fit: a circuit the real draws overload pauses it.
        taken = _on_circuits(cs, work, above) + _on_pools(cs, work, target, option.members)
        if any(left[cid] < amps - EPS for cid, amps in taken):
            target = 0.0  # it does not fit even so: pause it, perhaps it listens to that
        else:
            for cid, amps in taken:
                left[cid] -= amps
            allocation = ChargerAllocation(
                work.ident,
                target,
                prev.phases,
                grid,
                ChargerStatus.CHARGING,
                Reason.OVERDRAW,
            )
            state = prev._replace(over_since=since)
            if target != prev.target_a:
                state = state._replace(
                    target_a=target, changed_at=now, prior_target_a=prev.target_a
                )
            return allocation, state
    allocation = ChargerAllocation(
        work.ident, 0.0, 0, (), ChargerStatus.PAUSED, Reason.PAUSED_OVERDRAW
    )
    if prev.on:
        state = ChargerState(
            prior_target_a=prev.target_a,
            changed_at=now,
            switched_at=now,
            was_on=True,
            car_phases=prev.car_phases,
            raised_at=prev.raised_at,
            over_since=since,
        )
    else:
        state = prev._replace(ready_since=None, over_since=since)
    return allocation, state


def _on_circuits(cs: CompiledSite, work: Work, load: list[float]) -> list[tuple[int, float]]:
    """`load` (per grid phase; phases below 0 left out) on every circuit constraint above the
    charger."""
    taken: list[tuple[int, float]] = []
    total = sum(amps for amps in load if amps > 0)
    for node in cs.chains[work.index]:
        taken += [(3 * node + p, load[p]) for p in range(3) if load[p] >= 0]
        if cs.has_total[node]:
            taken.append((cs.total_cid(node), total))
    return taken


def _on_pools(
    cs: CompiledSite, work: Work, target: float, members: tuple[tuple[int, float], ...]
) -> list[tuple[int, float]]:
    """Its limit on the static budget and the PV surplus, as any charger takes them."""
    taken: list[tuple[int, float]] = []
    static_phase = 3 * cs.static_node
    pv_total = cs.total_cid(cs.pv_node)
    low = work.demand.low
    for cid, weight in members:
        if static_phase <= cid < static_phase + 3:
            taken.append((cid, target * weight))
        elif cid == pv_total and work.demand.pool == POOL_PV:
            above = target if work.demand.mode is Mode.PV else max(0.0, target - low)
            taken.append((cid, above * weight))
    return taken
