"""Who gets what when not everyone fits: priority, fast, static, urgency, fair rotation."""

from __future__ import annotations

from datetime import timedelta

from custom_components.eflux.core.balancing import (
    Charger,
    ChargerStatus,
    Circuit,
    Mode,
    Phase,
    Reason,
    Site,
    Tuning,
    per_phase,
)
from tests.balancing.driver import Driver


def three(limit: float, **charger: object) -> Site:
    return Site(
        circuits=(Circuit("grid", per_phase(limit), metered=True),),
        chargers=tuple(Charger(f"cp{i}", "grid", **charger) for i in range(3)),  # type: ignore[arg-type]
    )


def test_paused_cars_take_turns_every_rotation_interval() -> None:
    driver = Driver(three(13.0))  # room for two cars at 6 A, not three
    for i in range(3):
        driver.plug(f"cp{i}")
    charged = dict.fromkeys(("cp0", "cp1", "cp2"), 0)
    switches = dict.fromkeys(charged, 0)
    was_on = dict.fromkeys(charged, False)
    rotation_seen = False
    for _ in range(3 * 60):  # three hours, one pass a minute
        driver.step(60)
        for ident in charged:
            on = driver.at(ident).target_a > 0
            charged[ident] += on
            switches[ident] += on != was_on[ident]
            was_on[ident] = on
            rotation_seen |= driver.at(ident).reason is Reason.PAUSED_ROTATION
    assert rotation_seen
    # Everyone charged about two thirds of the time (two of three slots), give or take a turn.
    assert all(100 <= minutes <= 140 for minutes in charged.values()), charged
    # A turn lasts at least the rotation interval: few contactor cycles in three hours.
    assert all(switches[ident] <= 3 * 60 / 15 for ident in switches), switches


def test_a_paused_car_waits_for_the_start_delay_before_restarting() -> None:
    driver = Driver(three(20.0, max_current_a=16.0))
    driver.plug("cp0")
    driver.run(60)
    driver.house = (16.0, 0.0, 0.0)  # only 4 A left on L1: pause
    driver.step()
    assert driver.at("cp0").target_a == 0
    assert driver.at("cp0").reason is Reason.PAUSED_NO_CAPACITY
    driver.house = (0.0, 0.0, 0.0)
    result = driver.step()
    assert driver.at("cp0").status is ChargerStatus.WAITING
    assert driver.at("cp0").text == "waiting: start delay"
    assert result.next_check_at == driver.now + timedelta(seconds=60)
    driver.run(59)
    assert driver.at("cp0").target_a == 0
    driver.step()
    assert driver.at("cp0").target_a == 6.0  # restarts at the minimum, then ramps


def test_priority_first_then_equal_shares() -> None:
    site = Site(
        circuits=(Circuit("grid", per_phase(20.0), metered=True),),
        chargers=(
            Charger("boss", "grid", priority=1, max_current_a=16.0),
            Charger("guest1", "grid", max_current_a=16.0),
            Charger("guest2", "grid", max_current_a=16.0),
        ),
    )
    driver = Driver(site)
    for ident in ("guest1", "guest2", "boss"):
        driver.plug(ident)
    driver.run(300)
    assert driver.at("boss").target_a == 8.0  # the guests keep their minimum: 20 - 6 - 6
    assert driver.at("guest1").target_a == driver.at("guest2").target_a == 6.0
    driver.house = (4.0, 4.0, 4.0)  # 16 A: the boss and one guest
    driver.step()
    assert driver.at("boss").target_a == 10.0
    paused = [g for g in ("guest1", "guest2") if driver.at(g).target_a == 0]
    assert len(paused) == 1


def test_fast_is_served_before_dynamic() -> None:
    site = Site(
        circuits=(Circuit("grid", per_phase(25.0), metered=True),),
        chargers=(
            Charger("a", "grid", max_current_a=16.0),
            Charger("b", "grid", max_current_a=16.0),
        ),
    )
    driver = Driver(site)
    driver.plug("a", mode=Mode.FAST)
    driver.plug("b", mode=Mode.DYNAMIC)
    driver.run(300)
    assert (driver.at("a").target_a, driver.at("b").target_a) == (16.0, 9.0)
    assert driver.at("a").text == "at its maximum current"


def test_static_shares_a_fixed_budget_equally_without_a_meter() -> None:
    site = Site(
        circuits=(Circuit("grid", per_phase(40.0)),),
        chargers=tuple(Charger(f"cp{i}", "grid", max_current_a=32.0) for i in range(3)),
        default_mode=Mode.STATIC,
        static_budget_a=per_phase(30.0),
    )
    driver = Driver(site, house=(35.0, 35.0, 35.0))  # no meter: the house is not seen
    for i in range(3):
        driver.plug(f"cp{i}")
    driver.run(300)
    assert [driver.at(f"cp{i}").target_a for i in range(3)] == [10.0] * 3
    assert driver.at("cp0").text == "limited by the static budget L1"


def test_urgency_decides_who_waits_among_equals() -> None:
    driver = Driver(three(13.0))
    driver.plug("cp0", urgency_kw=1.0)
    driver.plug("cp1", urgency_kw=7.0)
    driver.plug("cp2", urgency_kw=3.0)
    driver.step()
    assert [driver.at(f"cp{i}").target_a > 0 for i in range(3)] == [False, True, True]


def test_a_single_phase_car_on_a_three_phase_charger_frees_the_other_phases() -> None:
    site = Site(
        circuits=(Circuit("grid", per_phase(16.0), metered=True),),
        chargers=(
            Charger("wallbox", "grid", max_current_a=16.0),
            Charger("l2", "grid", wiring=(Phase.L2,), max_current_a=16.0),
        ),
    )
    driver = Driver(site)
    driver.car_phases["wallbox"] = (0,)  # e.g. a single-phase car: draws on L1 only
    driver.plug("wallbox")
    driver.plug("l2")
    driver.step()
    assert driver.at("wallbox").grid_phases == (Phase.L1, Phase.L2, Phase.L3)  # car not known yet
    driver.run(120)
    assert driver.at("wallbox").grid_phases == (Phase.L1,)
    assert driver.at("wallbox").phases == 3  # still offered on three: the car takes one
    assert (driver.at("wallbox").target_a, driver.at("l2").target_a) == (16.0, 16.0)


def test_a_user_limit_below_the_minimum_pauses() -> None:
    driver = Driver(three(32.0))
    driver.plug("cp0", limit_a=4.0)
    driver.step()
    assert driver.at("cp0").target_a == 0
    assert driver.at("cp0").reason is Reason.PAUSED_BELOW_MINIMUM
    driver.set("cp0", limit_a=10.0)
    driver.run(120)
    assert driver.at("cp0").target_a == 10.0
    assert driver.at("cp0").text == "at its maximum current"


def test_off_mode_pauses_and_keeps_the_session() -> None:
    driver = Driver(three(32.0))
    driver.plug("cp0")
    driver.run(30)
    driver.set("cp0", mode=Mode.OFF)
    result = driver.step()
    assert (driver.at("cp0").status, driver.at("cp0").text) == (ChargerStatus.OFF, "off")
    assert "cp0" in result.changed
    assert "cp0" in driver.state.chargers


def _urgent_and_idle_site(max_wait_min: float | None) -> Site:
    """Room for two three-phase cars at 6 A; five urgent cars and one with no departure."""
    tuning = Tuning(
        rotation_interval=timedelta(minutes=5),
        max_wait=None if max_wait_min is None else timedelta(minutes=max_wait_min),
    )
    return Site(
        circuits=(Circuit("grid", per_phase(13.0), metered=True),),
        chargers=tuple(Charger(f"cp{i}", "grid") for i in range(6)),
        tuning=tuning,
    )


def _longest_wait_min(driver: Driver, ident: str, minutes: int) -> int:
    longest = waited = 0
    for _ in range(minutes):
        driver.step(60)
        waited = 0 if driver.at(ident).target_a > 0 else waited + 1
        longest = max(longest, waited)
    return longest


def test_a_car_without_urgency_is_owed_a_turn_after_max_wait() -> None:
    """Urgent cars go first among waiting ones; a car with none would wait for ever behind
    them (issue 15: 99 minutes in the building) but for its owed turn."""
    driver = Driver(_urgent_and_idle_site(max_wait_min=20))
    for i in range(5):
        driver.plug(f"cp{i}", urgency_kw=5.0 + i)
    driver.plug("cp5")  # no departure: urgency 0
    # max_wait, then at most a running turn, the start delay and a pass
    assert _longest_wait_min(driver, "cp5", 120) <= 20 + 5 + 1 + 1
    unfair = Driver(_urgent_and_idle_site(max_wait_min=None))
    for i in range(5):
        unfair.plug(f"cp{i}", urgency_kw=5.0 + i)
    unfair.plug("cp5")
    assert _longest_wait_min(unfair, "cp5", 120) >= 100  # what max_wait prevents


def test_an_owed_turn_lifts_a_pause_for_other_cars_but_not_one_for_the_price() -> None:
    driver = Driver(_urgent_and_idle_site(max_wait_min=20))
    driver.plug("cp0", mode=Mode.SMART, planned_w=0.0, urgency_kw=1.0)  # planned later
    driver.plug("cp1", mode=Mode.SMART, planned_w=0.0, urgency_kw=1.0, waits_for_price=True)
    driver.run(19 * 60)
    assert driver.at("cp0").reason is Reason.PAUSED_PLAN
    assert driver.at("cp1").reason is Reason.PAUSED_PLAN
    driver.run(2 * 60)
    assert driver.at("cp0").target_a == 6.0
    assert driver.at("cp0").reason is Reason.TURN_OWED
    assert driver.at("cp1").target_a == 0.0  # cheaper hours later: the driver's choice
    driver.run(4 * 60)  # the turn lasts a rotation interval, whatever the plan says meanwhile
    assert driver.at("cp0").target_a == 6.0
    driver.run(2 * 60)
    assert driver.at("cp0").reason is Reason.PAUSED_PLAN
