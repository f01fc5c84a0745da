"""One balancing pass: meter readings and charger sessions in, a limit per charger out.

Pure and synchronous: time comes in as `now`, memory as `state`, and the new state goes out in
the result. The controller calls `balance` on every meter reading and charger event, keeps
`result.state`, sends `result.changed`, and calls again at `result.next_check_at`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from operator import attrgetter
from types import MappingProxyType

from .admission import admit_all
from .allocation import water_fill
from .demand import demand_for
from .household import Loads, site_loads
from .inputs import ChargerInput, SiteInputs
from .result import BalanceResult, ChargerAllocation, ChargerStatus, Reason, SiteStatus
from .site import Mode
from .stability import pause_state, settle_admitted, settle_paused
from .state import BalancerState, ChargerState
from .topology import EPS, CompiledSite
from .work import Demand, Work

_KEY = attrgetter("key")


def balance(
    cs: CompiledSite, inputs: SiteInputs, state: BalancerState, now: datetime
) -> BalanceResult:
    """Share the site's capacity among its chargers for this moment (see the module doc)."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    site, tuning = cs.site, cs.site.tuning
    draws, assumed, warnings = _charger_draws(cs, inputs, state)
    loads = site_loads(cs, inputs.meters, draws, state.circuit_base, assumed)
    warnings += loads.warnings
    any_lost = bool(loads.lost_labels)
    left = loads.caps.copy()
    allocations: dict[str, ChargerAllocation] = {}
    states: dict[str, ChargerState] = {}
    works: list[Work] = []
    wakes: list[datetime] = []
    get_input, get_state = inputs.chargers.get, state.chargers.get
    now_ts, turn_cutoff = now.timestamp(), now - tuning.rotation_interval
    scratch = cs.work_cache
    changed: list[str] = []
    for index, charger in enumerate(site.chargers):
        ident = charger.id
        inp = get_input(ident)
        prev_or_none = get_state(ident)
        if inp is None or not inp.plugged:  # no car: the session (and its state) ends
            allocations[ident] = cs.idle[index]
            if prev_or_none is not None and (prev_or_none.target_a or prev_or_none.phases):
                changed.append(ident)
            continue
        prev = prev_or_none or ChargerState(switched_at=now)
        mode = inp.mode or site.default_mode
        if mode is Mode.OFF:
            allocations[ident] = ChargerAllocation(ident, 0.0, 0, (), ChargerStatus.OFF, Reason.OFF)
            states[ident] = pause_state(prev, now, None, prev.car_phases)
            if prev_or_none is None or prev.target_a or prev.phases:
                changed.append(ident)
            continue
        work = scratch[index]
        if work is None:
            work = scratch[index] = Work(index, ident)
        since = prev.switched_at
        in_turn = since is None or since > turn_cutoff
        if not (  # else the demand and the rank of the last pass still hold
            work.inp is inp
            and work.prev is prev
            and work.in_turn is in_turn
            and work.reusable
            and since is not None
            and not any_lost
        ):
            _rank(cs, work, inp, prev, mode, loads, any_lost, in_turn, now_ts)
        demand = work.demand
        work.fresh = prev_or_none is None
        work.admitted = False
        work.reason, work.detail = Reason.PAUSED_NO_CAPACITY, ""
        work.ready_since = work.short_since = work.up_since = None
        if demand.high < demand.low:
            allocation, states[ident], _ = settle_paused(
                cs, work, demand.high_reason, demand.high_detail, now, tuning
            )
            allocations[ident] = allocation
            if work.fresh or prev.target_a or prev.phases:
                changed.append(ident)
            continue
        works.append(work)
    works = _in_last_order(cs, works)
    works.sort(key=_KEY)  # nearly sorted already: the order rarely changes between passes
    cs.order_cache[:] = [work.index for work in works]
    admit_all(cs, works, left, now, tuning)
    tiers: dict[int, list[Work]] = {}
    for work in works:
        if work.admitted:
            tiers.setdefault(work.demand.tier, []).append(work)
    for tier in sorted(tiers, reverse=True):
        water_fill(tiers[tier], left, cs.fill_plans, tier)
    someone_waits = False
    given = [0.0] * (4 * cs.node_count)  # the new limits per circuit and phase (_site_status)
    chains = cs.chains
    for work in works:
        if work.admitted:
            allocation, new_state, wake = settle_admitted(cs, work, now, tuning)
            base, target = 3 * chains[work.index][0], new_state.target_a
            for p in new_state.grid_phases:
                given[base + p] += target
        else:
            someone_waits = someone_waits or work.reason is Reason.PAUSED_NO_CAPACITY
            allocation, new_state, wake = settle_paused(
                cs, work, work.reason, work.detail, now, tuning
            )
        ident = work.ident
        allocations[ident] = allocation
        states[ident] = new_state
        prev = work.prev
        if work.fresh or prev.target_a != allocation.target_a or prev.phases != allocation.phases:
            changed.append(ident)
        if wake is not None:
            wakes.append(wake)
    if someone_waits:  # a turn that ends may let a paused charger in
        # Only turns still running end after now: those of group 0 (see _rank).
        turn_started = min(
            (
                since
                for w in works
                if w.admitted and w.key[1] == 0 and (since := w.prev.switched_at) is not None
            ),
            default=None,
        )
        if turn_started is not None:
            wakes.append(turn_started + tuning.rotation_interval)
    new_states = MappingProxyType(states)
    return BalanceResult(
        chargers=MappingProxyType(allocations),
        site=_site_status(cs, loads, state, new_states, _up_the_tree(cs, given), warnings),
        state=BalancerState(new_states, MappingProxyType(loads.bases)),
        changed=tuple(changed),
        next_check_at=min((w for w in wakes if w > now), default=None),
    )


def _rank(
    cs: CompiledSite,
    work: Work,
    inp: ChargerInput,
    prev: ChargerState,
    mode: Mode,
    loads: Loads,
    any_lost: bool,
    in_turn: bool,
    now_ts: float,
) -> None:
    """A charger's demand and its place in the order of admission (see the admission module),
    for a new input or state."""
    hit = cs.demand_cache[work.index]
    if (  # the demand of the last pass still holds (see demand.demand_for)
        not any_lost
        and hit is not None
        and hit[0] is inp
        and hit[1] == prev.on
        and hit[2] == prev.phases
        and hit[3] == prev.car_phases
    ):
        demand: Demand = hit[4]
    else:
        demand = demand_for(cs, work.index, inp, prev, mode, loads, any_lost)
    since = prev.switched_at
    if since is None:
        since_ts = now_ts
    elif since is not work.since:
        since_ts = since.timestamp()
        work.since, work.since_ts = since, since_ts
    else:
        since_ts = work.since_ts
    if prev.on:
        group, tie = (0, since_ts) if in_turn else (2, -since_ts)
    elif not prev.was_on or not in_turn:
        group, tie = 1, since_ts
    else:
        group, tie = 3, since_ts
    work.key = (-demand.tier, group, -inp.urgency_kw, tie, work.index)
    work.inp, work.prev, work.demand, work.in_turn = inp, prev, demand, in_turn
    work.reusable = not any_lost  # meter-loss caps depend on the loads of this pass


def _in_last_order(cs: CompiledSite, works: list[Work]) -> list[Work]:
    """`works` (in charger order) in the order of the last pass, new ones at the end."""
    slot: list[Work | None] = [None] * len(cs.site.chargers)
    for work in works:
        slot[work.index] = work
    ordered = [found for i in cs.order_cache if (found := slot[i]) is not None]
    if len(ordered) < len(works):
        known = set(cs.order_cache)
        ordered.extend(work for work in works if work.index not in known)
    return ordered


def _charger_draws(
    cs: CompiledSite, inputs: SiteInputs, state: BalancerState
) -> tuple[list[list[float]], list[list[float]] | None, list[str]]:
    """The chargers' own draw per circuit and grid phase (validating the inputs): measured, and
    apart from it, for charging ones not measured yet, their last limit (household.site_loads
    counts that only as far as the meter can have seen it)."""
    draws = [[0.0, 0.0, 0.0] for _ in cs.site.circuits]
    assumed: list[list[float]] | None = None
    unmeasured: list[str] = []
    warnings: list[str] = []
    cache = cs.draw_cache
    index_of = cs.charger_index
    for ident, inp in inputs.chargers.items():
        index = index_of.get(ident)
        if index is None:
            raise ValueError(f"input for unknown charger {ident!r}")
        hit = cache[index]
        if hit is None or hit[0] is not inp:
            hit = cache[index] = (inp, _draw_of(cs, index, inp))
        contribution = hit[1]
        if isinstance(contribution, str):
            warnings.append(contribution)
        elif contribution is not None:
            draw = draws[cs.chains[index][0]]
            for phase, amps in contribution:
                draw[phase] += amps
        elif (
            inp.plugged
            and cs.metered_above[index]
            and (prev := state.chargers.get(ident))
            and prev.on
        ):
            # A session that just started, or a charger between samples: the meter above may
            # already see the car, and counting its draw as household load would pause it
            # again (6 -> 0 -> 6 A flapping).
            unmeasured.append(ident)
            if assumed is None:
                assumed = [[0.0, 0.0, 0.0] for _ in cs.site.circuits]
            draw = assumed[cs.chains[index][0]]
            for phase in prev.grid_phases:
                draw[phase] += prev.target_a
    if unmeasured:
        warnings.append(
            f"no measured current from {', '.join(sorted(unmeasured))} yet: their last limit"
            " counts as their draw"
        )
    return draws, assumed, warnings


def _draw_of(
    cs: CompiledSite, index: int, inp: ChargerInput
) -> tuple[tuple[int, float], ...] | str | None:
    """A charger's measured draw per grid phase; a warning if unusable; None if not measured."""
    measured = inp.measured_a
    if measured is None:
        return None
    ident, wiring = cs.site.chargers[index].id, cs.site.chargers[index].wiring
    if len(measured) != len(wiring):
        raise ValueError(
            f"charger {ident!r}: {len(measured)} measured currents for {len(wiring)} phases"
        )
    if not _finite_sum(measured):
        return f"charger {ident}: unusable measured currents {measured!r} ignored"
    return tuple((phase, amps) for phase, amps in zip(wiring, measured, strict=True) if amps > 0)


def _finite_sum(values: tuple[float, ...]) -> bool:
    """All numbers and finite (NaN and ±inf survive a sum, strings make it fail)."""
    try:
        return math.isfinite(sum(values))
    except TypeError:
        return False


def _circuit_loads(cs: CompiledSite, chargers: Mapping[str, ChargerState]) -> list[float]:
    """Per constraint id, the amps the chargers' limits put on each circuit (and its total)."""
    load = [0.0] * (4 * cs.node_count)
    index_of = cs.charger_index
    for ident, charger_state in chargers.items():
        index = index_of.get(ident)
        if charger_state.on and index is not None:
            base = 3 * cs.chains[index][0]
            target = charger_state.target_a
            for p in charger_state.grid_phases:
                load[base + p] += target
    return _up_the_tree(cs, load)


def _up_the_tree(cs: CompiledSite, load: list[float]) -> list[float]:
    """`load` summed per circuit and phase by the chargers' own circuit, now added up the tree
    (and per circuit over its phases); in place."""
    node_count, parents = cs.node_count, cs.parents
    for n in cs.bottom_up:
        parent = parents[n]
        if parent >= 0:
            for p in range(3):
                load[3 * parent + p] += load[3 * n + p]
        load[3 * node_count + n] = load[3 * n] + load[3 * n + 1] + load[3 * n + 2]
    return load


def _site_status(
    cs: CompiledSite,
    loads: Loads,
    old: BalancerState,
    new: Mapping[str, ChargerState],
    now_loads: list[float],  # _circuit_loads(cs, new), summed as the pass went
    warnings: list[str],
) -> SiteStatus:
    caps = loads.caps
    root = cs.root
    allocated = now_loads[3 * root : 3 * root + 3]
    # Were the limits in force (from the previous pass) above any circuit under today's load?
    memo = cs.loads_cache
    in_force = memo[1] if memo[0] is old.chargers else _circuit_loads(cs, old.chargers)
    overloaded = tuple(
        cs.labels[cid]
        for n in range(len(cs.site.circuits))
        for cid in (3 * n, 3 * n + 1, 3 * n + 2, cs.total_cid(n))
        if in_force[cid] > 0 and in_force[cid] > caps[cid] + EPS
    )
    memo[0], memo[1] = new, now_loads  # the next pass checks these limits against its loads
    return SiteStatus(
        household_a=loads.household_a,
        allocated_a=(allocated[0], allocated[1], allocated[2]),
        available_a=(
            caps[3 * root] - allocated[0],
            caps[3 * root + 1] - allocated[1],
            caps[3 * root + 2] - allocated[2],
        ),
        pv_surplus_a=loads.pv_surplus_a,
        pv_surplus_w=loads.pv_surplus_a * cs.site.voltage_v,
        overload=bool(overloaded),
        overloaded=overloaded,
        meters_lost=tuple(loads.lost_labels),
        warnings=tuple(warnings),
    )
