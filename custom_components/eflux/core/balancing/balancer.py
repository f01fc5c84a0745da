"""One balancing pass: meter readings and charger sessions in, a limit per charger out.

Pure and synchronous: time comes in as `now`, memory as `state`, and the new state goes out in
the result. The controller calls `balance` on every meter reading and charger event, keeps
`result.state`, sends `result.changed`, and calls again at `result.next_check_at`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, timedelta
from operator import attrgetter
from types import MappingProxyType

from .admission import admit_all
from .allocation import water_fill
from .demand import TAKES_TURNS, Ranking, demand_for
from .draws import Draws, charger_draws
from .household import Loads, site_loads
from .inputs import ChargerInput, SiteInputs
from .memo import PassMemo
from .overdraw import excess_load, measured_load, over_since, settle_overdraw, take_measured
from .result import BalanceResult, ChargerAllocation, ChargerStatus, Reason, SiteStatus
from .site import Mode
from .stability import pause_state, settle_admitted, settle_paused
from .state import BalancerState, ChargerState
from .topology import EPS, CompiledSite
from .work import Work

_KEY = attrgetter("key")


def balance(
    cs: CompiledSite,
    inputs: SiteInputs,
    state: BalancerState,
    now: datetime,
    memo: PassMemo | None = None,
) -> BalanceResult:
    """Share the site's capacity among its chargers for this moment (see the module doc).

    `memo` (a `PassMemo` of this very `cs`, kept by the caller between passes) only saves time;
    without it the pass works everything out afresh and answers the same."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    if memo is None:
        memo = PassMemo(cs)
    elif memo.compiled is not cs:
        raise ValueError("memo belongs to another compiled site")
    draws = charger_draws(cs, memo, inputs, state, now)
    loads = site_loads(cs, inputs.meters, draws, state.circuit_base, state.household_peaks, now)
    warnings = draws.warnings + loads.warnings
    ranking = Ranking(cs, memo, loads, bool(loads.lost_labels), now.timestamp())
    out = _Outcome()
    works = _sessions(ranking, draws, inputs, state, now, out)
    left = loads.caps.copy()
    given = [0.0] * (4 * cs.node_count)  # the new limits per circuit and phase (_site_status)
    overdrawing = _overdrawing(cs, works, left, given, now, out, warnings)
    works.sort(key=_KEY)
    _allocate(cs, memo, works, left, now)
    _settle(cs, memo, works, given, now, out)
    turn_ends = _turn_end(works, cs.site.tuning.rotation_interval)
    if turn_ends is not None:
        out.wakes.append(turn_ends)
    new_states = MappingProxyType(out.states)
    return BalanceResult(
        chargers=MappingProxyType(out.allocations),
        site=_site_status(
            cs, memo, loads, state, new_states, _up_the_tree(cs, given), warnings, overdrawing
        ),
        state=BalancerState(
            new_states, MappingProxyType(loads.bases), MappingProxyType(loads.peaks)
        ),
        changed=tuple(out.changed),
        next_check_at=min((w for w in out.wakes if w > now), default=None),
    )


class _Outcome:
    """What a pass decides, filled in step by step."""

    __slots__ = ("allocations", "changed", "drawing_paused", "states", "wakes")

    def __init__(self) -> None:
        self.drawing_paused: list[Work] = []  # paused within the grace, yet drawing
        self.allocations: dict[str, ChargerAllocation] = {}
        self.states: dict[str, ChargerState] = {}
        self.changed: list[str] = []  # chargers whose limit or phases changed
        self.wakes: list[datetime] = []


def _sessions(
    ranking: Ranking,
    draws: Draws,
    inputs: SiteInputs,
    state: BalancerState,
    now: datetime,
    out: _Outcome,
) -> list[Work]:
    """Step 1: settle the chargers with no car, off, or unable to charge at all; rank the others
    (their `Work`, in charger order) for admission, over-drawing ones marked (`over_since`)."""
    cs, memo = ranking.cs, ranking.memo
    site, tuning = cs.site, cs.site.tuning
    allocations, states, changed = out.allocations, out.states, out.changed
    works: list[Work] = []
    get_input, get_state = inputs.chargers.get, state.chargers.get
    turn_cutoff = now - tuning.rotation_interval
    owed_cutoff = None if tuning.max_wait is None else now - tuning.max_wait
    scratch, measured = memo.works, memo.draws
    any_lost = ranking.any_lost
    over_cutoff = now - tuning.overdraw_grace
    holding = draws.hold is not None
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
        owed = (  # waited too long: its turn comes before urgency and any plan (no starvation)
            owed_cutoff is not None
            and not prev.on
            and since is not None
            and since <= owed_cutoff
            and mode in TAKES_TURNS
        )
        if not (  # else the demand and the rank of the last pass still hold
            work.inp is inp
            and work.prev is prev
            and work.in_turn is in_turn
            and work.owed is owed
            and work.reusable
            and not work.fresh  # (of the last pass: its draw was not judged then)
            and since is not None
            and not any_lost
        ):
            _rank(ranking, work, inp, prev, mode, in_turn, owed)
            work.draw = hit = measured[index]
            # a new session was given no limit yet: what it draws is not over one
            fresh = prev_or_none is None
            work.over_since = None if fresh else over_since(hit, prev, now, tuning)
        elif work.over_since is not None:  # else still within its limit: same input and state
            work.over_since = over_since(work.draw, prev, now, tuning)
        demand = work.demand
        work.fresh = prev_or_none is None
        work.admitted = False
        work.reason, work.detail = Reason.PAUSED_NO_CAPACITY, ""
        work.ready_since = work.short_since = work.up_since = None
        work.hold_until = draws.hold_until(cs.chains[index]) if holding else None
        if demand.high < demand.low and (work.over_since is None or work.over_since > over_cutoff):
            allocation, states[ident], _ = settle_paused(
                cs, memo, work, demand.high_reason, demand.high_detail, now, tuning
            )
            allocations[ident] = allocation
            if work.fresh or prev.target_a or prev.phases:
                changed.append(ident)
            if work.over_since is not None:  # paused, yet drawing: counted (_overdrawing)
                out.drawing_paused.append(work)
            _wake_when_owed(work, mode, out.wakes, tuning.max_wait)
            continue
        if prev.owed_turn and prev.on and since is not None and in_turn:
            out.wakes.append(since + tuning.rotation_interval)  # the plan may take over then
        elif not work.owed:
            _wake_when_owed(work, mode, out.wakes, tuning.max_wait)
        works.append(work)
    return works


def _overdrawing(
    cs: CompiledSite,
    works: list[Work],
    left: list[float],
    given: list[float],
    now: datetime,
    out: _Outcome,
    warnings: list[str],
) -> tuple[str, ...]:
    """Step 2: before anyone is admitted, take off `left` what chargers draw above their limit
    (the sum of max(draw, limit) must fit in every pass, also under a circuit without a meter
    of its own). Within the grace only that excess counts and the charger shares as before;
    after it the charger is settled at its draw (see overdraw) and removed from `works`."""
    tuning = cs.site.tuning
    for work in out.drawing_paused:
        take_measured(cs, work, excess_load(cs, work, tuning), left)
    cutoff = now - tuning.overdraw_grace
    for work in works:
        if work.over_since is not None and work.over_since > cutoff:
            take_measured(cs, work, excess_load(cs, work, tuning), left)  # still shares
    over = [w for w in works if w.over_since is not None and w.over_since <= cutoff]
    if not over:
        return ()
    drawn = [measured_load(cs, work) for work in over]
    for work, load in zip(over, drawn, strict=True):
        take_measured(cs, work, load, left)
    for work, load in zip(over, drawn, strict=True):
        allocation, state = settle_overdraw(cs, work, load, left, now, tuning)
        out.allocations[work.ident] = allocation
        out.states[work.ident] = state
        base = 3 * cs.chains[work.index][0]
        for p in allocation.grid_phases:
            given[base + p] += allocation.target_a
        prev = work.prev
        if work.fresh or prev.target_a != allocation.target_a or prev.phases != allocation.phases:
            out.changed.append(work.ident)
        seconds = (now - work.over_since).total_seconds() if work.over_since else 0.0
        warnings.append(
            f"charger {cs.site.chargers[work.index].label} draws above its limit"
            f" ({prev.target_a:g} A + {tuning.overdraw_tolerance_a:g} A) for {seconds:.0f} s:"
            " counted at its draw"
        )
    works[:] = [w for w in works if w not in over]
    return tuple(w.ident for w in over)


def _allocate(
    cs: CompiledSite, memo: PassMemo, works: list[Work], left: list[float], now: datetime
) -> None:
    """Step 3: admit the ranked chargers at their minimum, then share what is left, tier by tier
    (updates `left` and each work)."""
    admit_all(cs, works, left, now, cs.site.tuning)
    tiers: dict[int, list[Work]] = {}
    for work in works:
        if work.admitted:
            tiers.setdefault(work.demand.tier, []).append(work)
    for tier in sorted(tiers, reverse=True):
        water_fill(tiers[tier], left, memo.fill_plans, tier)


def _settle(
    cs: CompiledSite,
    memo: PassMemo,
    works: list[Work],
    given: list[float],
    now: datetime,
    out: _Outcome,
) -> None:
    """Step 4: from each allocation to the limit given (increases held calmly, see stability);
    adds the new limits to `given` per circuit and phase of the chargers' own circuits."""
    tuning = cs.site.tuning
    chains = cs.chains
    allocations, states, changed, wakes = out.allocations, out.states, out.changed, out.wakes
    for work in works:
        if work.admitted:
            allocation, new_state, wake = settle_admitted(cs, memo, work, now, tuning)
            base, target = 3 * chains[work.index][0], new_state.target_a
            for p in new_state.grid_phases:
                given[base + p] += target
        else:
            allocation, new_state, wake = settle_paused(
                cs, memo, work, work.reason, work.detail, now, tuning
            )
        ident = work.ident
        allocations[ident] = allocation
        states[ident] = new_state
        prev = work.prev
        if work.fresh or prev.target_a != allocation.target_a or prev.phases != allocation.phases:
            changed.append(ident)
        if wake is not None:
            wakes.append(wake)


def _turn_end(works: list[Work], rotation_interval: timedelta) -> datetime | None:
    """Step 5: while a charger waits for capacity, the earliest end of a running turn (it may let
    the waiting one in). Only turns still running end after now: those of group 0 (_rank)."""
    if not any(not w.admitted and w.reason is Reason.PAUSED_NO_CAPACITY for w in works):
        return None
    started = min(
        (
            since
            for w in works
            if w.admitted and w.key[1] == 0 and (since := w.prev.switched_at) is not None
        ),
        default=None,
    )
    return None if started is None else started + rotation_interval


def _wake_when_owed(
    work: Work, mode: Mode, wakes: list[datetime], max_wait: timedelta | None
) -> None:
    """A paused charger is owed a turn at `max_wait` after its pause: the pass then must run."""
    since = work.prev.switched_at
    if max_wait is not None and not work.prev.on and since is not None and mode in TAKES_TURNS:
        wakes.append(since + max_wait)


def _rank(
    ranking: Ranking,
    work: Work,
    inp: ChargerInput,
    prev: ChargerState,
    mode: Mode,
    in_turn: bool,
    owed: bool,
) -> None:
    """A charger's demand and its place in the order of admission (see the admission module),
    for a new input or state."""
    # a turn it was owed lasts one rotation interval, whatever its plan says meanwhile
    owed_turn = owed or (prev.on and prev.owed_turn and in_turn)
    demand = demand_for(ranking, work.index, inp, prev, mode, owed=owed_turn)
    since = prev.switched_at
    if since is None:
        since_ts = ranking.now_ts
    elif since is not work.since:
        since_ts = since.timestamp()
        work.since, work.since_ts = since, since_ts
    else:
        since_ts = work.since_ts
    urgency = -inp.urgency_kw
    if owed:
        # First of those waiting for a turn, before urgency, the longest waiting first; after
        # the running turns (they end within a rotation interval: taking one would only start
        # a new wait, 20 ms after a start in the building).
        group, tie, urgency = 1, since_ts, -math.inf
    elif prev.on:
        group, tie = (0, since_ts) if in_turn else (2, -since_ts)
    elif not prev.was_on or not in_turn:
        group, tie = 1, since_ts
    else:
        group, tie = 3, since_ts
    work.key = (-demand.tier, group, urgency, tie, work.index)
    work.inp, work.prev, work.demand, work.in_turn, work.owed = inp, prev, demand, in_turn, owed
    work.reusable = not ranking.any_lost  # meter-loss caps depend on the loads of this pass


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
    memo: PassMemo,
    loads: Loads,
    old: BalancerState,
    new: Mapping[str, ChargerState],
    now_loads: list[float],  # _circuit_loads(cs, new), summed as the pass went
    warnings: list[str],
    overdrawing: tuple[str, ...],
) -> SiteStatus:
    caps = loads.caps
    root = cs.root
    allocated = now_loads[3 * root : 3 * root + 3]
    # Were the limits in force (from the previous pass) above any circuit under today's load?
    last = memo.in_force
    in_force = last[1] if last and last[0] is old.chargers else _circuit_loads(cs, old.chargers)
    overloaded = tuple(
        cs.labels[cid]
        for n in range(len(cs.site.circuits))
        for cid in (3 * n, 3 * n + 1, 3 * n + 2, cs.total_cid(n))
        if in_force[cid] > 0 and in_force[cid] > caps[cid] + EPS
    )
    memo.in_force = (new, now_loads)  # the next pass checks these limits against its loads
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
        overdrawing=overdrawing,
    )
