"""Properties of the balancer over random sites, loads and cars (hypothesis).

Each check is made against `reference`, an independent model of the circuit tree, not against the
balancer's own bookkeeping.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custom_components.eflux.core.balancing import (
    IEC_MIN_CURRENT_A,
    BalanceResult,
    BalancerState,
    Charger,
    ChargerAllocation,
    ChargerInput,
    ChargerStatus,
    Circuit,
    MeterLossPolicy,
    Mode,
    Phase,
    Reason,
    Site,
    SiteInputs,
    balance,
    compile_site,
)
from tests.balancing.reference import (
    chargers_below,
    household,
    net_reading,
    phase_loads,
    violations,
)
from tests.balancing.strategies import site_inputs, sites

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
TOL = 1e-6
PROPERTY = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


def modes(site: Site, inputs: SiteInputs) -> dict[str, Mode]:
    return {
        c.id: inputs.chargers.get(c.id, ChargerInput()).mode or site.default_mode
        for c in site.chargers
    }


def pv_surplus(site: Site, inputs: SiteInputs, before: BalancerState | None = None) -> float:
    root = next(c for c in site.circuits if c.parent is None)
    reading = inputs.meters.get(root.id)
    if not root.metered or reading is None:
        return 0.0
    net = sum(net_reading(site, inputs, root, p, before) for p in range(3))
    return max(0.0, -net - site.pv_reserve_a)


def check_pass(
    site: Site, inputs: SiteInputs, result: BalanceResult, before: BalancerState | None = None
) -> None:
    """What must hold after every pass, whatever happened before (`before`: its state)."""
    by_mode = modes(site, inputs)
    assert violations(site, inputs, result.chargers, by_mode, before) == []
    pv_used = 0.0
    for charger in site.chargers:
        allocation = result.chargers[charger.id]
        inp = inputs.chargers.get(charger.id, ChargerInput())
        target = allocation.target_a
        # IEC 61851: charging means at least 6 A (and the charger's own minimum), or a pause.
        assert target == 0 or target >= max(IEC_MIN_CURRENT_A, charger.min_current_a) - TOL
        assert target <= charger.max_current_a + TOL
        if inp.limit_a is not None:
            assert target <= max(inp.limit_a, 0.0) + TOL or target == 0
        if not inp.plugged or by_mode[charger.id] is Mode.OFF:
            assert target == 0
        if target > 0:
            assert set(allocation.grid_phases) <= set(charger.wiring)
            assert allocation.status is ChargerStatus.CHARGING
        width = len(allocation.grid_phases)
        if by_mode[charger.id] is Mode.PV and allocation.reason is not Reason.PV_STOP_DELAY:
            pv_used += target * width
        if by_mode[charger.id] is Mode.PV_MIN and target > 0:
            pv_used += (target - charger.min_current_a) * width
        if by_mode[charger.id] is Mode.SMART and inp.planned_w == 0:
            assert target == 0
    assert abs(result.site.pv_surplus_a - pv_surplus(site, inputs, before)) < TOL
    assert pv_used <= result.site.pv_surplus_a + TOL
    for p in range(3):
        if result.site.allocated_a[p] > 0:
            assert result.site.available_a[p] >= -TOL


@PROPERTY
@given(data=st.data(), instant=st.booleans())
def test_every_pass_respects_every_limit(data: st.DataObject, instant: bool) -> None:
    """Over a run of passes with household jumps, plugs, unplugs and mode changes."""
    site = data.draw(sites(instant=instant))
    compiled = compile_site(site)
    state, now = BalancerState(), T0
    for _ in range(data.draw(st.integers(min_value=1, max_value=6))):
        inputs = data.draw(site_inputs(site))
        result = balance(compiled, inputs, state, now)
        check_pass(site, inputs, result, state)
        state = result.state
        now += timedelta(seconds=data.draw(st.sampled_from([1, 10, 31, 61, 200, 901])))


@PROPERTY
@given(data=st.data())
def test_increases_wait_and_restarts_wait(data: st.DataObject) -> None:
    """Increases: at least the hysteresis, after the minimum interval, at most one ramp step.
    A charger paused after charging restarts no sooner than the start delay."""
    site = data.draw(sites())
    tuning = site.tuning
    compiled = compile_site(site)
    state, now = BalancerState(), T0
    last: dict[str, ChargerAllocation] = {}
    changed_at: dict[str, datetime] = {}
    paused_at: dict[str, datetime] = {}
    for _ in range(data.draw(st.integers(min_value=2, max_value=8))):
        inputs = data.draw(site_inputs(site))
        result = balance(compiled, inputs, state, now)
        for ident, allocation in result.chargers.items():
            before = last.get(ident)
            if allocation.reason is Reason.NO_CAR:
                last.pop(ident, None)
                changed_at.pop(ident, None)
                paused_at.pop(ident, None)
                continue
            if before is not None and before.target_a > 0 and allocation.target_a == 0:
                paused_at[ident] = now
            restarted = before is not None and before.target_a == 0 < allocation.target_a
            if restarted and ident in paused_at:
                assert now - paused_at[ident] >= tuning.start_delay
            same_phases = before is not None and before.grid_phases == allocation.grid_phases
            if same_phases and before and 0 < before.target_a < allocation.target_a:
                assert allocation.target_a - before.target_a >= tuning.hysteresis_a - TOL
                assert now - changed_at[ident] >= tuning.min_change_interval
                assert tuning.ramp_step_a is not None
                assert allocation.target_a - before.target_a <= tuning.ramp_step_a + TOL
            if before is None or (before.target_a, before.phases) != (
                allocation.target_a,
                allocation.phases,
            ):
                changed_at[ident] = now
            last[ident] = allocation
        state = result.state
        now += timedelta(seconds=data.draw(st.sampled_from([1, 10, 31, 61, 200])))


def at_minimum(charger: Charger, phases: tuple[int, ...]) -> ChargerAllocation:
    return ChargerAllocation(
        charger.id,
        charger.min_current_a,
        len(phases),
        phases,
        ChargerStatus.CHARGING,
        Reason.MAX_CURRENT,
    )


@PROPERTY
@given(data=st.data())
def test_a_charger_paused_for_capacity_could_not_fit_beside_those_ranked_above(
    data: st.DataObject,
) -> None:
    """Priority: a paused car could not be given its minimum next to the cars of equal or higher
    priority that charge (each at its minimum), so no lower-priority car took its place."""
    site = data.draw(sites(instant=True))
    inputs = data.draw(site_inputs(site))
    result = balance(compile_site(site), inputs, BalancerState(), T0)
    by_mode = modes(site, inputs)
    for paused in site.chargers:
        if result.chargers[paused.id].reason is not Reason.PAUSED_NO_CAPACITY:
            continue
        above = {
            c.id: at_minimum(c, result.chargers[c.id].grid_phases)
            for c in site.chargers
            if result.chargers[c.id].target_a > 0 and c.priority >= paused.priority
        }
        options = [tuple(sorted(paused.wiring))]
        if paused.can_switch_phases:
            options.append((paused.wiring[0],))
        for phases in options:
            trial = {**above, paused.id: at_minimum(paused, phases)}
            assert violations(site, inputs, trial, by_mode), (paused.id, phases)


flat_sites = st.builds(
    lambda limit, wiring, maxes, prios: Site(
        circuits=(Circuit("grid", (limit, limit, limit), metered=True),),
        chargers=tuple(
            Charger(f"cp{i}", "grid", wiring=wiring, max_current_a=m, priority=p)
            for i, (m, p) in enumerate(zip(maxes, prios, strict=False))
        ),
    ),
    limit=st.integers(min_value=8, max_value=80).map(float),
    wiring=st.sampled_from([(Phase.L1, Phase.L2, Phase.L3), (Phase.L2,)]),
    maxes=st.lists(st.sampled_from([6.0, 10.0, 16.0, 32.0]), min_size=1, max_size=8),
    prios=st.lists(st.integers(min_value=0, max_value=1), min_size=8, max_size=8),
)


def fresh_pass(site: Site, house: float) -> BalanceResult:
    inputs = SiteInputs(
        meters={"grid": (house, house, house)},
        chargers={c.id: ChargerInput(plugged=True) for c in site.chargers},
    )
    return balance(compile_site(site), inputs, BalancerState(), T0)


@PROPERTY
@given(site=flat_sites, house=st.integers(min_value=0, max_value=40), more=st.integers(1, 40))
def test_more_budget_never_pauses_or_lowers_a_charging_car(
    site: Site, house: int, more: int
) -> None:
    """Where it applies: one circuit, chargers wired alike with the same minimum. (With mixed
    wiring a higher-ranked car that now fits may rightly take a lower-ranked car's place.)"""
    before = fresh_pass(site, float(house))
    root = site.circuits[0]
    limit = root.limit_a
    bigger = replace(
        site,
        circuits=(replace(root, limit_a=(limit[0] + more, limit[1] + more, limit[2] + more)),),
    )
    after = fresh_pass(bigger, float(house))
    for ident, allocation in before.chargers.items():
        assert after.chargers[ident].target_a >= allocation.target_a - TOL


@PROPERTY
@given(site=flat_sites, house=st.integers(min_value=0, max_value=40))
def test_equals_share_equally(site: Site, house: int) -> None:
    """Max-min fairness within a priority: every charging car not at its own maximum gets the
    same current, and a car at its maximum gets no more than that."""
    result = fresh_pass(site, float(house))
    res = site.tuning.resolution_a
    for priority in {c.priority for c in site.chargers}:
        group = [c for c in site.chargers if c.priority == priority]
        charging = [(c, result.chargers[c.id].target_a) for c in group]
        charging = [(c, a) for c, a in charging if a > 0]
        below_max = [a for c, a in charging if a < c.max_current_a - TOL]
        if below_max:
            level = max(below_max)
            assert level - min(below_max) <= res + TOL
            assert all(a <= level + res + TOL for _, a in charging)


@PROPERTY
@given(data=st.data())
def test_household_matches_the_reference(data: st.DataObject) -> None:
    site = data.draw(sites())
    inputs = data.draw(site_inputs(site))
    result = balance(compile_site(site), inputs, BalancerState(), T0)
    root = next(c for c in site.circuits if c.parent is None)
    if root.metered:
        expected = household(site, inputs, root)
        signed = result.site.household_a
        for p in range(3):
            assert max(signed[p], 0.0) <= expected[p] + TOL


@PROPERTY
@given(data=st.data())
def test_silent_meters_apply_their_policy_in_the_same_pass(data: st.DataObject) -> None:
    """Below a silent meter: `stop` pauses, `safe_limit` keeps each charger at or below its safe
    current, `fixed_budget` keeps the chargers within the budget, `hold` allows no increase."""
    site = data.draw(sites())
    compiled = compile_site(site)
    before = balance(compiled, data.draw(site_inputs(site)), BalancerState(), T0)
    inputs = data.draw(site_inputs(site, silent=True))
    result = balance(compiled, inputs, before.state, T0 + timedelta(seconds=1))
    silent = [c for c in site.circuits if c.metered and c.id not in inputs.meters]
    assert set(result.site.meters_lost) == {c.label for c in silent}
    by_id = {c.id: c for c in site.chargers}
    for circuit in silent:
        below = chargers_below(site, circuit.id)
        targets = {ident: result.chargers[ident] for ident in below}
        policy = circuit.on_meter_loss
        for ident, allocation in targets.items():
            assert allocation.target_a == 0 or allocation.target_a >= 6.0
            if policy is MeterLossPolicy.STOP:
                assert allocation.target_a == 0
            elif policy is MeterLossPolicy.SAFE_LIMIT:
                assert allocation.target_a <= by_id[ident].safe_current_a + TOL
            elif policy is MeterLossPolicy.HOLD:
                assert allocation.target_a <= before.chargers[ident].target_a + TOL
        if policy is MeterLossPolicy.FIXED_BUDGET:
            assert circuit.fallback_budget_a is not None
            load = phase_loads(site, targets.values(), below)
            for p in range(3):
                usable = circuit.limit_a[p] - circuit.margin_a
                assert load[p] <= min(circuit.fallback_budget_a[p], usable) + TOL
