"""The memos a PassMemo keeps between passes (demands, ranks, fill plans, held and paused
answers, the last order) only save time: a memo that has seen many passes answers exactly what a
pass without one (and a freshly compiled site) answers for the same inputs, state and moment."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custom_components.eflux.core.balancing import (
    ALL_PHASES,
    BalanceResult,
    BalancerState,
    Charger,
    ChargerInput,
    Circuit,
    CompiledSite,
    Mode,
    PassMemo,
    Phase,
    Site,
    SiteInputs,
    balance,
    compile_site,
    per_phase,
)
from tests.balancing.strategies import charger_inputs, site_inputs, sites

T0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)


def same_as_fresh(
    warm: PassMemo, inputs: SiteInputs, state: BalancerState, now: datetime
) -> BalanceResult:
    got = balance(warm.compiled, inputs, state, now, warm)
    want = balance(compile_site(warm.compiled.site), inputs, state, now)
    assert got.chargers == want.chargers
    assert got.state == want.state
    assert got.changed == want.changed
    assert got.site == want.site
    assert got.next_check_at == want.next_check_at
    return got


def followed(site: Site, inputs: SiteInputs, result: BalanceResult) -> SiteInputs:
    """Every charger draws its new limit; unchanged chargers keep their very input object."""
    chargers = dict(inputs.chargers)
    for charger in site.chargers:
        inp = chargers.get(charger.id)
        if inp is None or charger.id not in result.changed:
            continue
        allocation = result.chargers[charger.id]
        drawn = tuple(
            allocation.target_a if k < allocation.phases else 0.0
            for k in range(len(charger.wiring))
        )
        chargers[charger.id] = replace(inp, measured_a=drawn)
    return SiteInputs(meters=inputs.meters, chargers=chargers)


@settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), instant=st.booleans())
def test_a_warm_site_answers_what_a_fresh_one_does(data: st.DataObject, instant: bool) -> None:
    site = data.draw(sites(instant=instant))
    warm = PassMemo(compile_site(site))
    state, now = BalancerState(), T0
    inputs = data.draw(site_inputs(site, silent=True))
    for _ in range(data.draw(st.integers(min_value=2, max_value=10))):
        result = same_as_fresh(warm, inputs, state, now)
        state = result.state
        now += timedelta(seconds=data.draw(st.sampled_from([0, 1, 5, 61, 400, 1000])))
        change = data.draw(st.sampled_from(["follow", "some chargers", "meters", "nothing"]))
        if change == "follow":
            inputs = followed(site, inputs, result)
        elif change == "some chargers":  # with samples from before or after their limits
            chargers = dict(inputs.chargers)
            for charger in site.chargers:
                if data.draw(st.booleans()):
                    chargers[charger.id] = data.draw(charger_inputs(charger, sampled_at=now))
            inputs = SiteInputs(meters=inputs.meters, chargers=chargers)
        elif change == "meters":  # some meters may fall silent or come back
            meters = data.draw(site_inputs(site, silent=True)).meters
            inputs = SiteInputs(meters=meters, chargers=inputs.chargers)


def test_a_busy_building_answers_what_a_fresh_one_does() -> None:
    """Sixty chargers on three floors that do not all fit, with sessions coming and going,
    modes changing, a meter that falls silent and turns that end: every pass is checked."""
    rng = random.Random(5)
    circuits = [Circuit("grid", per_phase(120.0), metered=True, margin_a=2.0)]
    circuits += [Circuit(f"floor{f}", per_phase(63.0), parent="grid") for f in range(3)]
    chargers = tuple(
        Charger(
            f"cp{i}",
            f"floor{i % 3}",
            wiring=ALL_PHASES if i % 4 else (Phase(i % 3),),
            max_current_a=rng.choice([16.0, 32.0]),
            priority=1 if i % 10 == 0 else 0,
            can_switch_phases=i % 8 == 1,
        )
        for i in range(60)
    )
    site = Site(circuits=tuple(circuits), chargers=chargers, static_budget_a=per_phase(40.0))
    warm = PassMemo(compile_site(site))
    modes = [Mode.DYNAMIC, Mode.DYNAMIC, Mode.FAST, Mode.PV_MIN, Mode.SMART, Mode.STATIC]
    cars = {
        c.id: ChargerInput(plugged=True, mode=rng.choice(modes), planned_w=4000.0) for c in chargers
    }
    state, now, house = BalancerState(), T0, [30.0, 20.0, 25.0]
    inputs = SiteInputs(meters={"grid": (30.0, 20.0, 25.0)}, chargers=cars)
    drawn = [0.0, 0.0, 0.0]
    for step in range(150):
        house = [h + rng.uniform(-4.0, 4.0) for h in house]
        silent = step % 40 == 39
        meters = (
            {}
            if silent
            else {"grid": (house[0] + drawn[0], house[1] + drawn[1], house[2] + drawn[2])}
        )
        if step % 25 == 24:
            for _ in range(5):
                ident = rng.choice(chargers).id
                cars[ident] = replace(cars[ident], plugged=not cars[ident].plugged, measured_a=None)
        inputs = SiteInputs(meters=meters, chargers=dict(cars))
        result = same_as_fresh(warm, inputs, state, now)
        state = result.state
        cars = dict(followed(site, inputs, result).chargers)
        drawn = [0.0, 0.0, 0.0]
        for allocation in result.chargers.values():
            for p in allocation.grid_phases:
                drawn[p] += allocation.target_a
        now += timedelta(seconds=rng.choice([1, 1, 1, 10, 120]))


def test_a_memo_of_another_site_is_refused() -> None:
    site = Site(circuits=(Circuit("grid", per_phase(25.0)),), chargers=(Charger("a", "grid"),))
    other: CompiledSite = compile_site(site)
    with pytest.raises(ValueError, match="another compiled site"):
        balance(compile_site(site), SiteInputs(), BalancerState(), T0, PassMemo(other))
