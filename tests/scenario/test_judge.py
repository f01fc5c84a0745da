"""The scenario's judge on hand-made draws: it must catch what it claims to catch."""

from __future__ import annotations

from datetime import timedelta

import pytest

from sim.scenarios.record import CarTrack, household_a, judge
from sim.scenarios.report import verdict
from sim.scenarios.spec import ScenarioError, duration, load, parse


def small(bound: str = "1s") -> dict[str, object]:
    return {
        "name": "t",
        "start": "2026-06-15T06:00:00+00:00",
        "reaction_bound": bound,
        "meter": {"circuit": "grid"},
        "site": {
            "circuits": [
                {"id": "grid", "limit_a": 25},
                {"id": "garage", "limit_a": 16, "parent": "grid"},
            ]
        },
        "household": {"base_a": [10, 0, 0], "steps": [{"at": 60, "phase": "L1", "add_a": 8}]},
        "chargers": [
            {
                "id": "c1",
                "circuit": "garage",
                "wiring": ["L1"],
                "car": {"battery_kwh": 50, "soc": 10},
            }
        ],
    }


def track(draws: list[tuple[float, float]], plugged: tuple[float, float] = (0, 120)) -> CarTrack:
    return CarTrack("c1", "garage", (0,), draws=draws, plugged=[plugged])


@pytest.mark.parametrize(("over_s", "ok"), [(0.9, True), (1.5, False)])
def test_an_overload_longer_than_the_bound_fails_the_run(over_s: float, ok: bool) -> None:
    scenario = parse(small())
    # 10 A household + 14 A car = 24 A; the +8 A step at 60 s overloads L1 (32 A) until the
    # car goes down to 6 A (24 A) `over_s` later.
    j = judge(scenario, [track([(0, 14.0), (60 + over_s, 6.0)])], until_s=120)
    grid_l1 = j.phases[("grid", 0)]
    assert grid_l1.highest_a == pytest.approx(32.0)
    assert grid_l1.longest_s == pytest.approx(over_s, abs=0.11)
    assert grid_l1.longest_at == pytest.approx(60.0)
    assert j.steps[0].answered_after_s == pytest.approx(over_s)
    assert j.phases[("garage", 0)].seconds_over == 0.0  # 14 A on a 16 A garage
    result = verdict(scenario, j)
    assert result.ok is ok
    if not ok:
        assert result.problems == (
            "grid L1 over its 25 A fuse for 1.5 s from +0:01:00 (bound 1 s)",
        )


def test_a_sub_circuit_overload_counts_on_its_own_fuse() -> None:
    scenario = parse(small())
    j = judge(scenario, [track([(10, 17.0), (20, 0.0)])], until_s=30)
    assert j.phases[("garage", 0)].longest_s == pytest.approx(10.0, abs=0.11)
    assert not verdict(scenario, j).ok


def test_a_car_that_waits_the_whole_window_is_starved() -> None:
    data = small()
    data["starvation_window"] = "30m"
    scenario = parse(data)
    waited = judge(scenario, [track([(10, 6.0), (20, 0.0), (1820, 6.0)], (0, 3600))], 3600)
    assert waited.waits["c1"] == pytest.approx(1800.0)
    assert verdict(scenario, waited).problems == ("car c1 starved: waited 30.0 min with demand",)
    fine = judge(scenario, [track([(10, 6.0), (20, 0.0), (1700, 6.0)], (0, 3600))], 3600)
    assert fine.waits["c1"] == pytest.approx(1680.0)
    assert verdict(scenario, fine).ok
    full = track([(10, 6.0), (20, 0.0)], (0, 3600))
    full.full_at = 20.0  # a full car has no demand: not starved
    assert judge(scenario, [full], 3600).waits["c1"] == pytest.approx(10.0)  # before it began


def test_household_follows_its_steps() -> None:
    h = parse(small()).household
    assert household_a(h, 59.9) == pytest.approx((10.0, 0.0, 0.0))
    assert household_a(h, 60.0) == pytest.approx((18.0, 0.0, 0.0))


def test_the_building_file_is_the_building_of_issue_15() -> None:
    b = load("building")
    assert b.fuses == {"grid": (63, 63, 63), "garage_a": (32, 32, 32), "garage_b": (40, 40, 40)}
    assert len(b.chargers) == 20
    three = [c for c in b.chargers if c.phases == 3]
    single = [c for c in b.chargers if c.phases == 1]
    assert len(three) == 14
    assert all(c.max_current_a == 16 for c in three)
    assert len(single) == 6
    assert all(c.max_current_a == 32 for c in single)
    assert {c.wiring for c in three} == {("L1", "L2", "L3"), ("L2", "L3", "L1"), ("L3", "L1", "L2")}
    assert sorted(c.wiring[0] for c in single) == ["L1", "L1", "L2", "L2", "L3", "L3"]
    assert sum(c.ocpp == "1.6" for c in b.chargers) == 10
    assert {f.kind for f in b.faults} == {"meter_silent", "charger_offline", "overdraw"}
    assert b.household.steps[0].add_a == 20
    assert b.household.steps[0].phase == 1
    assert any(c.depart is not None for c in b.chargers)
    house = load("house")
    assert len(house.chargers) == 2


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"chargers": [{"id": "x", "circuit": "grid", "wiring": ["L4"], "car": {}}]}, "wiring"),
        ({"faults": [{"at": 5}]}, "faults[0]"),
        ({"start": "2026-06-15T06:00:00"}, "UTC offset"),
        ({"colour": "red"}, "colour: unknown key"),
    ],
)
def test_a_bad_scenario_file_is_refused_naming_the_key(
    change: dict[str, object], message: str
) -> None:
    with pytest.raises(ScenarioError, match=message.replace("[", r"\[")):
        parse({**small(), **change})


def test_durations() -> None:
    assert duration("1h30m", "d") == timedelta(minutes=90)
    assert duration(45, "d") == timedelta(seconds=45)
    with pytest.raises(ScenarioError, match="not a duration"):
        duration("soon", "d")
    with pytest.raises(ScenarioError, match="no scenario 'castle'"):
        load("castle")
