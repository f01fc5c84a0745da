"""Silent meters fall back by policy and recover; bad input gets a clear error."""

from __future__ import annotations

from datetime import datetime

import pytest

from custom_components.eflux.core.balancing import (
    BalancerState,
    Charger,
    ChargerInput,
    Circuit,
    MeterLossPolicy,
    Mode,
    Reason,
    Site,
    SiteInputs,
    balance,
    compile_site,
    per_phase,
)
from tests.balancing.driver import T0, Driver


def metered(policy: MeterLossPolicy, **circuit: object) -> Site:
    return Site(
        circuits=(
            Circuit("grid", per_phase(25.0), metered=True, on_meter_loss=policy, **circuit),  # type: ignore[arg-type]
        ),
        chargers=(
            Charger("a", "grid", max_current_a=16.0, safe_current_a=8.0),
            Charger("b", "grid", max_current_a=16.0, safe_current_a=0.0),
        ),
    )


def charging(site: Site) -> Driver:
    driver = Driver(site, house=(3.0, 3.0, 3.0))
    driver.plug("a")
    driver.plug("b")
    driver.run(120)
    assert driver.at("a").target_a == driver.at("b").target_a == 11.0
    return driver


def test_a_silent_meter_drops_to_the_safe_limit_at_once_and_recovers() -> None:
    driver = charging(metered(MeterLossPolicy.SAFE_LIMIT))
    driver.meters_silent.add("grid")
    result = driver.step()
    assert (driver.at("a").target_a, driver.at("b").target_a) == (8.0, 0.0)
    assert driver.at("a").text == "meter grid silent: fallback"
    assert result.site.meters_lost == ("grid",)
    assert set(result.changed) == {"a", "b"}
    driver.meters_silent.clear()
    driver.run(200)
    assert driver.at("a").target_a == driver.at("b").target_a == 11.0
    assert driver.result is not None
    assert driver.result.site.meters_lost == ()


def test_stop_policy_pauses_everything_below_the_meter() -> None:
    driver = charging(metered(MeterLossPolicy.STOP))
    driver.meters_silent.add("grid")
    driver.step()
    assert driver.at("a").target_a == driver.at("b").target_a == 0
    assert driver.at("a").reason is Reason.METER_LOST


def test_fixed_budget_policy_shares_the_fallback_budget() -> None:
    driver = charging(metered(MeterLossPolicy.FIXED_BUDGET, fallback_budget_a=per_phase(14.0)))
    driver.meters_silent.add("grid")
    driver.step()
    assert driver.at("a").target_a == driver.at("b").target_a == 7.0


def test_hold_policy_allows_no_increase_and_no_start() -> None:
    site = Site(
        circuits=(
            Circuit("grid", per_phase(25.0), metered=True, on_meter_loss=MeterLossPolicy.HOLD),
        ),
        chargers=(Charger("a", "grid", max_current_a=16.0), Charger("b", "grid")),
    )
    driver = Driver(site, house=(12.0, 12.0, 12.0))
    driver.plug("a")
    driver.run(90)
    assert driver.at("a").target_a == 13.0
    driver.meters_silent.add("grid")
    driver.house = (0.0, 0.0, 0.0)  # unseen
    driver.plug("b")
    driver.run(120)
    assert driver.at("a").target_a == 13.0
    assert driver.at("b").target_a == 0
    assert driver.at("b").reason is Reason.METER_LOST


def test_an_unusable_reading_counts_as_a_silent_meter() -> None:
    site = metered(MeterLossPolicy.STOP)
    result = balance(
        compile_site(site),
        SiteInputs(
            meters={"grid": (float("nan"), 1.0, 1.0)},
            chargers={"a": ChargerInput(plugged=True)},
        ),
        BalancerState(),
        T0,
    )
    assert result.chargers["a"].target_a == 0
    assert result.site.meters_lost == ("grid",)
    assert any("unusable reading" in w for w in result.site.warnings)


def test_unusable_charger_currents_are_ignored_with_a_warning() -> None:
    site = metered(MeterLossPolicy.STOP)
    result = balance(
        compile_site(site),
        SiteInputs(
            meters={"grid": (1.0, 1.0, 1.0)},
            chargers={"a": ChargerInput(plugged=True, measured_a=(1.0, float("inf"), 0.0))},
        ),
        BalancerState(),
        T0,
    )
    assert result.chargers["a"].target_a > 0
    assert any("unusable measured currents" in w for w in result.site.warnings)


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        (SiteInputs(chargers={"nope": ChargerInput(plugged=True)}), "unknown charger 'nope'"),
        (SiteInputs(meters={"garage": (1.0, 1.0, 1.0)}), "'garage', which is not a metered"),
        (
            SiteInputs(chargers={"a": ChargerInput(plugged=True, measured_a=(1.0,))}),
            "1 measured currents for 3 phases",
        ),
    ],
)
def test_inputs_that_do_not_match_the_site_are_refused(inputs: SiteInputs, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        balance(compile_site(metered(MeterLossPolicy.STOP)), inputs, BalancerState(), T0)


def test_time_must_be_timezone_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        balance(
            compile_site(metered(MeterLossPolicy.STOP)),
            SiteInputs(),
            BalancerState(),
            datetime(2026, 1, 1, 12, 0),  # naive: the point of the test
        )


def test_smart_mode_follows_the_plan() -> None:
    site = Site(
        circuits=(Circuit("grid", per_phase(32.0), metered=True),), chargers=(Charger("a", "grid"),)
    )
    driver = Driver(site)
    driver.plug("a", mode=Mode.SMART, planned_w=0.0)
    driver.step()
    assert driver.at("a").text == "paused: planned later"
    driver.set("a", planned_w=6900.0)  # 10 A on three phases
    driver.run(120)
    assert driver.at("a").target_a == 10.0
    assert driver.at("a").reason is Reason.LIMITED_BY_PLAN
    driver.set("a", planned_w=2000.0)  # below 6 A: charges at the minimum instead
    driver.step()
    assert driver.at("a").target_a == 6.0
