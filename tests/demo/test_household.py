"""The household load model: deterministic, per phase, following the daily profile."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from sim.household import (
    HouseholdProfile,
    Run,
    SimClock,
    household_load,
    max_rise_a,
    washing_programme,
)

AMS = ZoneInfo("Europe/Amsterdam")


def at(hhmm: str, day: int = 1) -> datetime:
    hours, minutes = hhmm.split(":")
    return datetime(2026, 12, day, int(hours), int(minutes), tzinfo=AMS)


def test_same_instant_same_load_whatever_the_timezone_it_is_given_in() -> None:
    local = at("18:50")
    assert household_load(local) == household_load(local.astimezone(UTC))
    # and the next day at the same local time too (a daily profile)
    assert household_load(local).power_w == household_load(at("18:50", day=2)).power_w


def test_night_is_base_load_plus_cycling_appliances_only() -> None:
    profile = HouseholdProfile(runs=())
    load = household_load(at("03:00"), profile)
    assert load.power_w == profile.base_w
    assert load.current_a == tuple(round(w / 230.0, 2) for w in profile.base_w)
    assert load.running == ()


def test_heat_pump_cycles_on_all_three_phases() -> None:
    profile = HouseholdProfile()
    # Daytime cycle: on 20 min, off 25 min from 07:00: on at 07:10, off at 07:30.
    on = household_load(at("07:10"), profile)
    off = household_load(at("07:30"), profile)
    assert "heat pump" in on.running
    assert "heat pump" not in off.running
    for phase in range(3):
        assert on.power_w[phase] - off.power_w[phase] == pytest.approx(900.0, abs=0.2)


def test_washing_machine_heats_on_its_one_phase() -> None:
    profile = HouseholdProfile(runs=washing_programme("18:40", phase=1))
    heating = household_load(at("18:55"), profile)
    assert "washing machine (heat)" in heating.running
    assert heating.power_w == (profile.base_w[0], profile.base_w[1] + 2000.0, profile.base_w[2])
    spinning = household_load(at("19:50"), profile)
    assert spinning.running == ("washing machine (spin)",)
    assert household_load(at("20:30"), profile).running == ()


def test_evening_cooking_peak_on_l1_l2_and_oven_on_l3() -> None:
    evening = household_load(at("18:10"))
    afternoon = household_load(at("16:00"))
    assert {"induction hob", "oven"} <= set(evening.running)
    assert evening.current_a[0] > afternoon.current_a[0] + 4
    assert evening.current_a[2] > afternoon.current_a[2] + 7


def test_pv_exports_midday_as_negative_current_and_nothing_at_night() -> None:
    profile = HouseholdProfile(runs=(), pv_peak_w=6000.0)
    noon = household_load(at("14:00"), profile)
    assert all(a < 0 for a in noon.current_a)
    assert noon.total_w == pytest.approx(sum(profile.base_w) - 6000.0, abs=1.0)
    assert household_load(at("23:00"), profile).total_w == pytest.approx(sum(profile.base_w))


def test_appliances_ramp_so_the_rise_per_window_is_bounded() -> None:
    profile = HouseholdProfile(runs=(Run("heater", 3600.0, 600.0, 2300.0, (0,)),), ramp_s=60.0)
    halfway = household_load(datetime(2026, 12, 1, 1, 0, 30, tzinfo=AMS), profile)
    assert halfway.power_w[0] == pytest.approx(profile.base_w[0] + 1150.0)
    # 10 A over a 60 s ramp: at most 10 A in any window of 60 s or more, 5 A in 30 s
    assert max_rise_a(profile, 60.0) == pytest.approx(10.0, abs=0.05)
    assert max_rise_a(profile, 30.0) == pytest.approx(5.0, abs=0.05)
    assert max_rise_a(profile, 30.0, phases=(1, 2)) == 0.0


def test_runs_crossing_midnight_wrap_around() -> None:
    profile = HouseholdProfile(runs=(Run("dryer", 23.5 * 3600, 3600.0, 1000.0, (2,)),), ramp_s=0)
    assert household_load(at("00:15"), profile).running == ("dryer",)
    assert household_load(at("23:45"), profile).running == ("dryer",)
    assert household_load(at("00:45"), profile).running == ()


@pytest.mark.parametrize(
    "bad",
    [
        {"ramp_s": -1.0},
        {"pv_peak_w": -5.0},
        {"runs": (Run("x", 0.0, 60.0, 100.0, (3,)),)},
        {"runs": (Run("x", 0.0, 0.0, 100.0, (0,)),)},
    ],
)
def test_invalid_profiles_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="must"):
        HouseholdProfile(**bad)  # type: ignore[arg-type]


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        household_load(datetime(2026, 12, 1, 12, 0))
    with pytest.raises(ValueError, match="timezone-aware"):
        SimClock(datetime(2026, 12, 1, 12, 0))


def test_sim_clock_runs_speed_times_faster() -> None:
    real = [100.0]
    start = at("17:30")
    clock = SimClock(start, speed=60.0, monotonic=lambda: real[0])
    assert clock.now() == start
    real[0] += 2.5
    assert clock.now() == start + timedelta(minutes=2, seconds=30)
    assert clock.to_sim(1.0) == timedelta(minutes=1)
    with pytest.raises(ValueError, match="speed"):
        SimClock(start, speed=0)


def test_a_held_sim_clock_stands_still_until_run() -> None:
    real = [10.0]
    start = at("18:15")
    clock = SimClock(start, speed=60.0, monotonic=lambda: real[0], running=False)
    real[0] += 30
    assert clock.now() == start
    clock.run()
    real[0] += 1
    assert clock.now() == start + timedelta(minutes=1)
    clock.run()  # a second run() does not restart it
    assert clock.now() == start + timedelta(minutes=1)


async def test_sim_clock_is_a_site_clock_in_simulated_seconds() -> None:
    from custom_components.eflux.core.clock import Clock

    real = [0.0]
    clock = SimClock(datetime(2026, 6, 21, 18, 0, tzinfo=UTC), 60.0, lambda: real[0])
    assert isinstance(clock, Clock)
    real[0] = 2.0  # two real seconds: two simulated minutes
    assert clock.monotonic() == 120.0
    assert clock() == clock.now() == datetime(2026, 6, 21, 18, 2, tzinfo=UTC)
