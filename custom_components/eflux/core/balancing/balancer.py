"""One balancing pass: meter readings and charger sessions in, a limit per charger out.

Pure and synchronous: time comes in as `now`, memory as `state`, and the new state goes out in
the result. The controller calls `balance` on every meter reading and charger event, keeps
`result.state`, sends `result.changed`, and calls again at `result.next_check_at`.
"""

from __future__ import annotations

import math
from datetime import datetime
from operator import attrgetter
from types import MappingProxyType

from .admission import admit_all, order_key
from .allocation import EPS, water_fill
from .demand import build_work
from .household import Loads, site_loads
from .inputs import NO_CAR, SiteInputs
from .result import BalanceResult, ChargerAllocation, ChargerStatus, Reason, SiteStatus
from .site import Mode
from .stability import pause_state, settle_admitted, settle_paused
from .state import BalancerState, ChargerState
from .topology import POOL_NONE, CompiledSite
from .work import Work

_KEY = attrgetter("key")


def balance(
    cs: CompiledSite, inputs: SiteInputs, state: BalancerState, now: datetime
) -> BalanceResult:
    """Share the site's capacity among its chargers for this moment (see the module doc)."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    site, tuning = cs.site, cs.site.tuning
    draws, warnings = _charger_draws(cs, inputs, state)
    loads = site_loads(cs, inputs.meters, draws, state.circuit_base)
    warnings += loads.warnings
    any_lost = bool(loads.lost_labels)
    left = loads.caps.copy()
    allocations: dict[str, ChargerAllocation] = {}
    states: dict[str, ChargerState] = {}
    works: list[Work] = []
    wakes: list[datetime] = []
    for index, charger in enumerate(site.chargers):
        inp = inputs.chargers.get(charger.id, NO_CAR)
        if not inp.plugged:  # no car: the session (and its state) ends
            allocations[charger.id] = ChargerAllocation(
                charger.id, 0.0, 0, (), ChargerStatus.IDLE, Reason.NO_CAR
            )
            continue
        prev = state.chargers.get(charger.id) or ChargerState(switched_at=now)
        mode = inp.mode or site.default_mode
        if mode is Mode.OFF:
            allocations[charger.id] = ChargerAllocation(
                charger.id, 0.0, 0, (), ChargerStatus.OFF, Reason.OFF
            )
            states[charger.id] = pause_state(prev, now, None, prev.car_phases)
            continue
        work = build_work(cs, index, inp, prev, mode, loads, any_lost)
        if work.high < work.low:
            allocation, states[charger.id], _ = settle_paused(
                work, work.high_reason, work.high_detail, now, tuning
            )
            allocations[charger.id] = allocation
        else:
            works.append(work)
    now_ts, turn_cutoff = now.timestamp(), now - tuning.rotation_interval
    for work in works:
        work.key = order_key(work, now_ts, turn_cutoff)
    works.sort(key=_KEY)
    admit_all(cs, works, left, now, tuning)
    tiers: dict[int, list[Work]] = {}
    for work in works:
        if work.admitted:
            tiers.setdefault(work.tier, []).append(work)
    for tier in sorted(tiers, reverse=True):
        water_fill(tiers[tier], left)
    someone_waits = False
    for work in works:
        if work.admitted:
            allocation, new_state, wake = settle_admitted(cs, work, now, tuning)
        else:
            someone_waits = someone_waits or work.reason is Reason.PAUSED_NO_CAPACITY
            allocation, new_state, wake = settle_paused(work, work.reason, work.detail, now, tuning)
        allocations[work.ident] = allocation
        states[work.ident] = new_state
        if wake is not None:
            wakes.append(wake)
    if someone_waits:  # a turn that ends may let a paused charger in
        wakes.extend(
            w.prev.switched_at + tuning.rotation_interval
            for w in works
            if w.admitted and w.prev.on and w.prev.switched_at is not None
        )
    changed = tuple(
        ident
        for ident, allocation in allocations.items()
        if _changed(state.chargers.get(ident), allocation)
    )
    return BalanceResult(
        chargers=MappingProxyType(allocations),
        site=_site_status(cs, loads, state, states, warnings),
        state=BalancerState(MappingProxyType(states), MappingProxyType(loads.bases)),
        changed=changed,
        next_check_at=min((w for w in wakes if w > now), default=None),
    )


def _changed(prev: ChargerState | None, allocation: ChargerAllocation) -> bool:
    if prev is None:  # a new session gets its first limit (also 0), an ended one needs none
        return allocation.reason is not Reason.NO_CAR
    return prev.target_a != allocation.target_a or prev.phases != allocation.phases


def _charger_draws(
    cs: CompiledSite, inputs: SiteInputs, state: BalancerState
) -> tuple[list[list[float]], list[str]]:
    """The chargers' own measured draw per circuit and grid phase (validating the inputs)."""
    draws = [[0.0, 0.0, 0.0] for _ in cs.site.circuits]
    unmeasured: list[str] = []
    warnings: list[str] = []
    for ident, inp in inputs.chargers.items():
        index = cs.charger_index.get(ident)
        if index is None:
            raise ValueError(f"input for unknown charger {ident!r}")
        measured = inp.measured_a
        wiring = cs.site.chargers[index].wiring
        if measured is not None:
            if len(measured) != len(wiring):
                raise ValueError(
                    f"charger {ident!r}: {len(measured)} measured currents for {len(wiring)} phases"
                )
            if not all(isinstance(a, int | float) and math.isfinite(a) for a in measured):
                warnings.append(f"charger {ident}: unusable measured currents {measured!r} ignored")
                continue
            draw = draws[cs.chains[index][0]]
            for k, amps in enumerate(measured):
                if amps > 0:
                    draw[wiring[k]] += amps
        elif cs.metered_above[index] and (prev := state.chargers.get(ident)) and prev.on:
            unmeasured.append(ident)
    if unmeasured:
        warnings.append(
            f"no measured current from {', '.join(sorted(unmeasured))}: their draw counts as"
            " household load, which lowers their own limit"
        )
    return draws, warnings


def _site_status(
    cs: CompiledSite,
    loads: Loads,
    old: BalancerState,
    new: dict[str, ChargerState],
    warnings: list[str],
) -> SiteStatus:
    caps = loads.caps
    root = cs.root
    allocated = [0.0, 0.0, 0.0]
    for charger_state in new.values():
        if charger_state.on:
            for p in charger_state.grid_phases:
                allocated[p] += charger_state.target_a
    # Were the limits in force (from the previous pass) above any circuit under today's load?
    in_force = [0.0] * len(caps)
    for ident, charger_state in old.chargers.items():
        index = cs.charger_index.get(ident)
        if charger_state.on and index is not None:
            for cid, weight in cs.members(index, charger_state.grid_phases, POOL_NONE):
                in_force[cid] += charger_state.target_a * weight
    overloaded = tuple(
        cs.constraint_label(cid)
        for cid, load in enumerate(in_force)
        if load > 0 and load > caps[cid] + EPS
    )
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
