"""Solar charging: start on a lasting surplus, stop after the stop delay, minimum plus PV,
and switching between one and three phases."""

from __future__ import annotations

from datetime import timedelta

from custom_components.eflux.core.balancing import (
    Charger,
    Circuit,
    Mode,
    Phase,
    Reason,
    Site,
    per_phase,
)
from tests.balancing.driver import Driver


def solar(**charger: object) -> Site:
    return Site(
        circuits=(Circuit("grid", per_phase(25.0), metered=True),),
        chargers=(Charger("cp", "grid", max_current_a=16.0, **charger),),  # type: ignore[arg-type]
    )


def test_pv_starts_on_a_lasting_surplus_and_uses_only_the_export() -> None:
    driver = Driver(solar(), house=(-8.0, -8.0, -8.0))  # 24 A exported (5.5 kW)
    driver.plug("cp", mode=Mode.PV)
    result = driver.step()
    assert result.site.pv_surplus_a == 24.0
    assert result.site.pv_surplus_w == 24.0 * 230
    assert driver.at("cp").text == "waiting: start delay"
    driver.run(60)
    assert driver.at("cp").target_a == 6.0
    driver.run(120)
    assert driver.at("cp").target_a == 8.0  # 24 A of export over three phases
    assert driver.at("cp").text == "limited by the PV surplus"


def test_a_short_burst_of_sun_does_not_start_pv() -> None:
    driver = Driver(solar(), house=(-8.0, -8.0, -8.0))
    driver.plug("cp", mode=Mode.PV)
    driver.run(30)
    driver.house = (1.0, 1.0, 1.0)  # a cloud
    driver.step()
    assert driver.at("cp").text == "paused: not enough PV surplus"
    driver.house = (-8.0, -8.0, -8.0)
    driver.run(59)
    assert driver.at("cp").target_a == 0  # the start delay begins again


def test_pv_keeps_the_minimum_through_the_stop_delay_then_pauses() -> None:
    driver = Driver(solar(), house=(-8.0, -8.0, -8.0))
    driver.plug("cp", mode=Mode.PV)
    driver.run(200)
    assert driver.at("cp").target_a == 8.0
    driver.house = (1.0, 1.0, 1.0)
    result = driver.step()
    assert driver.at("cp").target_a == 6.0
    assert driver.at("cp").reason is Reason.PV_STOP_DELAY
    assert result.next_check_at == driver.now + timedelta(minutes=3)
    driver.run(179)
    assert driver.at("cp").target_a == 6.0
    driver.step()  # three minutes without surplus
    assert driver.at("cp").target_a == 0
    assert driver.at("cp").reason is Reason.PAUSED_NO_PV


def test_pv_with_minimum_always_charges_and_adds_the_surplus() -> None:
    driver = Driver(solar(), house=(2.0, 2.0, 2.0))
    driver.plug("cp", mode=Mode.PV_MIN)
    driver.run(60)
    assert driver.at("cp").target_a == 6.0  # no export: the minimum from the grid
    driver.house = (-4.0, -4.0, -4.0)  # 12 A exported on top of the minimum
    driver.run(120)
    assert driver.at("cp").target_a == 10.0


def test_a_phase_switching_charger_runs_on_one_phase_on_little_sun() -> None:
    driver = Driver(solar(can_switch_phases=True), house=(-3.0, -3.0, -3.0))  # 9 A export
    driver.plug("cp", mode=Mode.PV)
    driver.run(61)
    assert (driver.at("cp").phases, driver.at("cp").grid_phases) == (1, (Phase.L1,))
    assert driver.at("cp").target_a == 6.0
    driver.run(120)
    assert driver.at("cp").target_a == 9.0
    driver.house = (-8.0, -8.0, -8.0)  # now three phases at 6 A fit: after the switch delay
    driver.run(100)
    assert driver.at("cp").phases == 1
    driver.run(30)
    assert driver.at("cp").phases == 3
    assert driver.at("cp").grid_phases == (Phase.L1, Phase.L2, Phase.L3)
    driver.house = (0.0, -4.0, -4.0)  # 8 A export: one phase fits, three do not
    driver.step()
    assert driver.at("cp").phases == 1  # switched down at once rather than drawing from the grid


def test_pv_without_a_grid_meter_never_starts() -> None:
    site = Site(
        circuits=(Circuit("grid", per_phase(25.0)),),
        chargers=(Charger("cp", "grid"),),
    )
    driver = Driver(site, house=(-8.0, -8.0, -8.0))
    driver.plug("cp", mode=Mode.PV)
    driver.run(300)
    assert driver.at("cp").target_a == 0
    assert driver.result is not None
    assert driver.result.site.pv_surplus_a == 0
