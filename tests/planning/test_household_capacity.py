"""The planner's capacity per circuit, phase and quarter-hour: the household history in a real
SQLite file (median of the same weekday and quarter over four weeks, plus the margin; the last
hour's peak before there is history) and the limits built from it for a circuit tree."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from custom_components.eflux.core.balancing import Charger, Circuit, Phase, Site, per_phase
from custom_components.eflux.core.loadcontrol.household_history import WEEK, HouseholdHistory
from custom_components.eflux.core.loadcontrol.plan_capacity import car_shape, plan_limits
from custom_components.eflux.core.planning import SLOT

MONDAY = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)


def record_week(
    history: HouseholdHistory, start: datetime, amps: tuple[float, float, float]
) -> None:
    """One quarter-hour of readings at `start`, closed by a reading in the next quarter."""
    for minute in range(0, 15, 5):
        history.observe({"grid": amps}, start + timedelta(minutes=minute))
    history.observe({"grid": (0.0, 0.0, 0.0)}, start + SLOT)


def test_forecast_is_the_median_of_four_weeks_plus_margin_and_survives_a_restart(
    tmp_path: Path,
) -> None:
    db = tmp_path / "site.sqlite"
    history = HouseholdHistory(db, margin_a=2.0)
    for k, l2 in enumerate((10.0, 30.0, 12.0, 11.0)):  # one odd week (30 A) does not count
        record_week(history, MONDAY - (k + 1) * WEEK, (4.0, l2, 1.0))
    history.close()
    rows = sqlite3.connect(db).execute("SELECT COUNT(*) FROM household_load").fetchone()[0]
    assert rows == 7  # each quarter once, when a reading of a later one closes it
    again = HouseholdHistory(db, margin_a=2.0)
    assert again.forecast("grid", MONDAY) == pytest.approx((6.0, 13.5, 3.0))
    # A quarter with no history: the last hour's peak plus the margin (nothing seen: margin).
    assert again.forecast("grid", MONDAY + 2 * SLOT) == (2.0, 2.0, 2.0)
    again.observe({"grid": (9.0, 1.0, -5.0)}, MONDAY)  # export counts as nothing
    assert again.forecast("grid", MONDAY + 2 * SLOT) == (11.0, 3.0, 2.0)
    again.observe({"grid": (1.0, 1.0, 1.0)}, MONDAY + timedelta(minutes=61))
    assert again.peak("grid") == (1.0, 1.0, 1.0)  # an hour later the 9 A is forgotten


def test_an_unusable_database_leaves_the_forecast_in_memory(tmp_path: Path) -> None:
    bad = tmp_path / "not-a-db.sqlite"
    bad.write_bytes(b"this is not SQLite" * 100)
    history = HouseholdHistory(bad, margin_a=1.0)
    record_week(history, MONDAY - WEEK, (5.0, 5.0, 5.0))
    assert history.forecast("grid", MONDAY) == (6.0, 6.0, 6.0)
    assert bad.read_bytes().startswith(b"this is not SQLite")  # nothing overwritten


def building() -> Site:
    return Site(
        circuits=(
            Circuit("grid", per_phase(35.0), metered=True, margin_a=1.0),
            Circuit("garage", (16.0, 16.0, 16.0), parent="grid", total_limit_a=40.0),
        ),
        chargers=(
            Charger("three", "garage"),
            Charger("rotated", "garage", wiring=(Phase.L2, Phase.L3, Phase.L1)),
            Charger("single", "grid", wiring=(Phase.L3,), max_current_a=32.0),
        ),
    )


def test_limits_per_circuit_and_phase_follow_the_forecast_per_quarter() -> None:
    site = building()
    household = {0: (4.0, 4.0, 12.0), 1: (4.0, 4.0, 4.0)}  # L3 busy now, quiet later

    def forecast(circuit: str, q: int) -> tuple[float, float, float]:
        assert circuit == "grid"  # only metered circuits are forecast
        return household[min(q, 1)]

    reserved = {"grid": [0.0, 6.0, 0.0], "garage": [0.0, 0.0, 0.0]}
    limits = {lim.key: lim.capacity for lim in plan_limits(site, forecast, 3, reserved)}
    assert limits["grid L1"] == (30.0, 30.0, 30.0)  # 35 - margin 1 - household 4
    assert limits["grid L2"] == (24.0, 30.0, 30.0)  # 6 A a car without a departure has now
    assert limits["grid L3"] == (22.0, 30.0, 30.0)
    assert limits["garage L1"] == (16.0, 16.0, 16.0)  # unmetered, nothing below it metered
    assert limits["garage total"] == (40.0, 40.0, 40.0)


def test_a_car_loads_the_phases_its_wiring_and_its_own_phase_count_give_it() -> None:
    site = building()
    three, rotated, single = site.chargers
    full = car_shape(site, three, None, None, 16.0, None)
    assert full.grid_phases == (0, 1, 2)
    assert full.max_kw == pytest.approx(16 * 3 * 230 / 1000)
    weight = 1000 / (230 * 3)
    assert dict(full.loads) == pytest.approx(
        {
            "garage L1": weight,
            "garage L2": weight,
            "garage L3": weight,
            "garage total": 3 * weight,
            "grid L1": weight,
            "grid L2": weight,
            "grid L3": weight,
        }
    )
    one = car_shape(site, rotated, 1, None, 16.0, 7.4)  # a one-phase car: the charger's L1
    assert one.grid_phases == (1,)  # which is the grid's L2 on a rotated charger
    assert one.max_kw == pytest.approx(16 * 230 / 1000)
    assert dict(one.loads)["grid L2"] == pytest.approx(1000 / 230)
    seen = car_shape(site, three, 3, (0, 2), 16.0, None)  # the balancer saw two phases
    assert seen.grid_phases == (0, 2)
    assert car_shape(site, single, 3, None, 32.0, 11.0).grid_phases == (2,)


@given(
    st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=900),  # seconds after the previous reading
            st.tuples(*[st.floats(min_value=-20.0, max_value=80.0)] * 3),
        ),
        max_size=60,
    )
)
def test_the_hour_peak_is_the_highest_reading_of_the_last_hour(
    readings: list[tuple[int, tuple[float, float, float]]],
) -> None:
    """`peak` (kept as a sliding maximum, read in O(1) on every pass) equals the highest
    reading per phase of the last hour, export counting as 0."""
    history = HouseholdHistory(None)
    now = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    seen: list[tuple[datetime, tuple[float, float, float]]] = []
    for gap, amps in readings:
        now += timedelta(seconds=gap)
        history.observe({"grid": amps}, now)
        seen.append((now, amps))
        recent = [a for at, a in seen if at >= now - timedelta(hours=1)]
        expected = tuple(max([0.0, *(a[p] for a in recent)]) for p in range(3))
        assert history.peak("grid") == expected
