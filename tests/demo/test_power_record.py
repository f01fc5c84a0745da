"""The demo summary's "kW delivered against kW that fit" (issue 16): the room computation
against a brute force, and the record kept from the meter's own ticks."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from sim.chargepoint import Car, SimChargePoint
from sim.chargepoint.transaction import SimTransaction
from sim.demo.grid import GridMeter, MeteredCharger, PowerRecord, Want, power_that_fits
from sim.demo.report import summary
from sim.household import HouseholdProfile, SimClock

AMS = ZoneInfo("Europe/Amsterdam")


def brute_force(cars: list[Want], room: tuple[float, float, float]) -> float:
    """Every car at 0 A or at each half amp from its minimum to its maximum: the most cars
    charging, then the most amps."""
    steps = [
        [0.0, *(car.low + k / 2 for k in range(int(2 * (car.high - car.low)) + 1))] for car in cars
    ]
    best = (0, 0.0)
    for amps in itertools.product(*steps):
        load = [0.0, 0.0, 0.0]
        for car, a in zip(cars, amps, strict=True):
            for p in car.grid_phases:
                load[p] += a
        if all(load[p] <= room[p] + 1e-9 for p in range(3)):
            best = max(best, (sum(1 for a in amps if a > 0), sum(load)))
    return best[1]


wants = st.builds(
    lambda name, phases, high: Want(name, phases, 6.0, high),
    st.text("abc", min_size=1, max_size=1),
    st.sampled_from([(0, 1, 2), (0,), (1,), (2,)]),
    st.sampled_from([6.0, 8.0, 10.0]),
)


@settings(deadline=None, max_examples=150)
@given(
    st.lists(wants, min_size=1, max_size=3),
    st.tuples(*[st.integers(min_value=0, max_value=24).map(float) for _ in range(3)]),
)
def test_the_power_that_fits_is_the_best_of_every_assignment(
    cars: list[Want], room: tuple[float, float, float]
) -> None:
    assert abs(power_that_fits(cars, room) - brute_force(cars, room)) < 1e-6


def test_the_demo_case_of_issue_16() -> None:
    """3 x 35 A less a 3 A margin, the household at 4.7, 4.4 and 12.4 A: both three-phase cars
    and the single-phase one on L3 fit at 6 A, the three-phase ones rise to 6.8 A (L3 full):
    46.8 A over the phases (10.8 kW), not the 16 A of the single-phase car alone (3.7 kW).
    (Both three-phase cars alone would draw more, 58.8 A, with Chris's car left at 0 A.)"""
    cars = [
        Want("Anna", (0, 1, 2), 6.0, 16.0),
        Want("Bram", (0, 1, 2), 6.0, 16.0),
        Want("Chris", (2,), 6.0, 16.0),
    ]
    room = (32.0 - 4.7, 32.0 - 4.4, 32.0 - 12.4)
    assert abs(power_that_fits(cars, room) - 46.8) < 1e-6


def sim(amps: float, phases: int, *, charging: bool) -> SimChargePoint:
    cp = SimChargePoint(
        "ws://127.0.0.1:1", "T", car=Car(phases=phases, max_current_a=amps), max_current_a=amps
    )
    cp.plugged = True
    if charging:
        cp.transaction = SimTransaction(1, "CARD", datetime.now(UTC), 0.0)
    return cp


def test_the_record_follows_the_meter_ticks_and_names_a_car_left_waiting() -> None:
    now = [0.0]
    clock = SimClock(datetime(2026, 12, 1, 3, 0, tzinfo=AMS), 1.0)
    house = HouseholdProfile(base_w=(230.0, 230.0, 230.0), runs=(), timezone="Europe/Amsterdam")
    one = MeteredCharger(sim(16.0, 1, charging=True), (2,), "Chris")
    three = MeteredCharger(sim(16.0, 3, charging=False), (0, 1, 2), "Anna")
    grid = GridMeter(clock, [one, three], 35.0, house, margin_a=3.0, monotonic=lambda: now[0])
    grid.power.reset()
    for _ in range(10):
        now[0] += 1.0
        grid.tick()
    power: PowerRecord = grid.power
    assert abs(power.seconds - 10.0) < 1e-9
    assert abs(power.delivered_kw - 16.0 * 230.0 / 1000.0) < 0.01  # Chris's car at 16 A
    # L3: 31 A of room (household 1 A): Anna 16 A on three phases, Chris 15 A on L3.
    assert abs(power.fit_kw - (48.0 + 15.0) * 230.0 / 1000.0) < 0.01
    assert power.idle_s == {"Anna": 10.0}
    text = summary(grid.record, [], AMS, {}, power)
    assert "power: 3.7 kW delivered against 14.5 kW that fit (25 %)" in text
    assert "at 0 A while their minimum fit on every phase they use: Anna 10 s" in text
