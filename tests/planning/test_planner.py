"""The planner on readable cases: the worked example of docs/load-balancing.md, what it reports,
and clear errors for bad input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from custom_components.eflux.core.domain import DepartureRequest
from custom_components.eflux.core.planning import (
    CarDemand,
    PlanInputError,
    demand_from_request,
    energy_needed_kwh,
    plan,
    urgency_kw,
)

EVENING = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)


def worked_example_cars() -> list[CarDemand]:
    return [
        # Anna: 60 kWh battery at 20 %, wants 80 % by 07:00, charges at 11 kW.
        CarDemand("anna", EVENING + timedelta(hours=13), 60.0, 20.0, 11.0, target_soc=80.0),
        # Bart: 40 kWh at 30 %, wants 90 % by 22:00, single phase 7.4 kW.
        CarDemand("bart", EVENING + timedelta(hours=4), 40.0, 30.0, 7.4, target_soc=90.0),
    ]


def test_energy_needed_is_capacity_times_soc_gap_over_efficiency() -> None:
    assert energy_needed_kwh(60.0, 20.0, 80.0, 0.9) == pytest.approx(40.0)
    assert energy_needed_kwh(60.0, 90.0, 80.0, 0.9) == 0.0
    assert urgency_kw(40.0, EVENING, EVENING + timedelta(hours=8)) == 5.0


def test_worked_example_both_cars_make_it_on_an_11_kw_budget() -> None:
    result = plan(worked_example_cars(), EVENING, 11.0)
    anna, bart = result.cars["anna"], result.cars["bart"]
    assert anna.energy_needed_kwh == pytest.approx(40.0)
    assert bart.energy_needed_kwh == pytest.approx(26.667, abs=1e-3)
    assert anna.will_make_it
    assert bart.will_make_it
    # Bart is most pressing (laxity 4 h - 3.6 h): 26.7 kWh at 7.4 kW, the rest of the quarter
    # 21:30-21:45 at the lower power it still needs. Anna takes the other 3.6 kW meanwhile, then
    # all 11 kW; she is done in the quarter 00:00-00:15.
    assert bart.expected_finish == datetime(2026, 3, 2, 21, 45, tzinfo=UTC)
    assert anna.expected_finish == datetime(2026, 3, 3, 0, 15, tzinfo=UTC)
    assert bart.energy_kwh[:15] == pytest.approx([1.85] * 14 + [26.6667 - 14 * 1.85], abs=1e-3)
    assert result.power_w_at("bart", EVENING) == pytest.approx(7400.0)
    assert result.power_w_at("anna", EVENING) == pytest.approx(3600.0)
    assert result.power_w_at("anna", EVENING + timedelta(hours=5)) == pytest.approx(11000.0)
    assert result.power_w_at("anna", EVENING + timedelta(hours=7)) == 0.0
    assert result.power_w_at("nobody", EVENING) == 0.0


def test_worked_example_with_prices_moves_anna_to_the_cheap_night() -> None:
    prices = {EVENING + timedelta(hours=h): Decimal("0.32") for h in range(13)}
    for h in range(6, 10):  # midnight to 04:00 is cheap
        prices[EVENING + timedelta(hours=h)] = Decimal("0.12")
    result = plan(worked_example_cars(), EVENING, 11.0, prices)
    anna, bart = result.cars["anna"], result.cars["bart"]
    assert anna.will_make_it
    assert bart.will_make_it
    night = [s for s in result.slots if s.price == Decimal("0.12")]
    at_night = sum(
        kwh for slot, kwh in zip(result.slots, anna.energy_kwh, strict=True) if slot in night
    )
    assert at_night == pytest.approx(40.0)  # 4 h x 11 kW = 44 kWh of room: all of Anna's 40
    assert anna.estimated_cost == Decimal("4.80")
    assert bart.estimated_cost == Decimal("8.53")  # 26.67 kWh at 0.32: he cannot wait


def test_worked_example_when_bart_leaves_at_nine() -> None:
    anna = worked_example_cars()[0]
    early = CarDemand("bart", EVENING + timedelta(hours=3), 40.0, 30.0, 7.4, target_soc=90.0)
    result = plan([anna, early], EVENING, 11.0).cars["bart"]
    assert not result.will_make_it
    assert result.energy_planned_kwh == pytest.approx(22.2)
    assert result.shortfall_kwh == pytest.approx(4.47, abs=0.01)
    assert result.soc_at_departure == pytest.approx(79.95)


def test_a_car_that_cannot_make_it_reports_the_shortfall() -> None:
    tight = CarDemand("late", EVENING + timedelta(hours=1), 60.0, 10.0, 11.0, target_soc=100.0)
    result = plan([tight], EVENING, 22.0)
    car = result.cars["late"]
    assert not car.will_make_it
    assert car.energy_planned_kwh == pytest.approx(11.0)
    assert car.shortfall_kwh == pytest.approx(60.0 * 0.9 / 0.9 - 11.0)
    assert car.expected_finish is None
    assert car.soc_at_departure == pytest.approx(10.0 + 11.0 * 0.9 / 60.0 * 100.0)
    assert car.laxity < timedelta(0)


def test_capacity_can_change_per_quarter_hour() -> None:
    car = CarDemand(
        "cp", EVENING + timedelta(hours=1), 10.0, 0.0, 11.0, target_soc=50.0, efficiency=1.0
    )
    result = plan([car], EVENING, [0.0, 0.0, 4.0])  # nothing for half an hour, then 4 kW
    assert result.cars["cp"].energy_kwh == (0.0, 0.0, 1.0, 1.0)
    assert not result.cars["cp"].will_make_it


def test_slots_are_quarter_hours_split_at_departures() -> None:
    now = EVENING + timedelta(minutes=7)
    car = CarDemand("cp", EVENING + timedelta(minutes=40), 10.0, 0.0, 11.0)
    result = plan([car], now, 11.0)
    bounds = [(s.start.minute, s.end.minute) for s in result.slots]
    assert bounds == [(7, 15), (15, 30), (30, 40)]


def test_a_departure_in_the_past_gets_nothing() -> None:
    gone = CarDemand("gone", EVENING - timedelta(minutes=5), 60.0, 20.0, 11.0)
    result = plan([gone], EVENING, 11.0)
    assert result.slots == ()
    assert not result.cars["gone"].will_make_it


def test_demand_from_a_drivers_request() -> None:
    request = DepartureRequest("CP1", EVENING + timedelta(hours=8), soc_now=35.0, target_soc=80.0)
    demand = demand_from_request(request, max_power_kw=11.0, battery_kwh=77.0)
    assert (demand.battery_kwh, demand.soc_now, demand.max_power_kw) == (77.0, 35.0, 11.0)
    with pytest.raises(PlanInputError, match=r"cars\[CP1\].battery_kwh: unknown"):
        demand_from_request(request, max_power_kw=11.0)


@pytest.mark.parametrize(
    ("car", "field"),
    [
        (CarDemand("x", EVENING, -1.0, 20.0, 11.0), "cars[x].battery_kwh"),
        (CarDemand("x", EVENING, 60.0, 120.0, 11.0), "cars[x].soc_now"),
        (CarDemand("x", EVENING, 60.0, 20.0, 11.0, target_soc=-5.0), "cars[x].target_soc"),
        (CarDemand("x", EVENING, 60.0, 20.0, float("nan")), "cars[x].max_power_kw"),
        (CarDemand("x", EVENING, 60.0, 20.0, 11.0, efficiency=0.0), "cars[x].efficiency"),
        (CarDemand("x", EVENING.replace(tzinfo=None), 60.0, 20.0, 11.0), "cars[x].departure_at"),
    ],
)
def test_bad_cars_are_refused_by_field(car: CarDemand, field: str) -> None:
    with pytest.raises(PlanInputError) as caught:
        plan([car], EVENING - timedelta(hours=1), 11.0)
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"capacity_kw": -1.0}, "capacity_kw[0]"),
        ({"capacity_kw": []}, "capacity_kw"),
        ({"prices": {EVENING: 0.25}}, f"prices[{EVENING!r}]"),
        ({"prices": {EVENING + timedelta(minutes=30): Decimal("0.2")}}, "prices["),
        ({"prices": {EVENING: Decimal("NaN")}}, f"prices[{EVENING!r}]"),
    ],
)
def test_bad_planning_inputs_are_refused(kwargs: dict[str, object], field: str) -> None:
    args: dict[str, object] = {"capacity_kw": 11.0, "prices": None, **kwargs}
    with pytest.raises(PlanInputError) as caught:
        plan(worked_example_cars(), EVENING, args["capacity_kw"], args["prices"])  # type: ignore[arg-type]
    assert caught.value.field.startswith(field)


def test_two_cars_on_one_charger_and_far_departures_are_refused() -> None:
    car = worked_example_cars()[0]
    with pytest.raises(PlanInputError, match="two cars on one charger"):
        plan([car, car], EVENING, 11.0)
    far = CarDemand("far", EVENING + timedelta(days=9), 60.0, 20.0, 11.0)
    with pytest.raises(PlanInputError, match="more than 7 days ahead"):
        plan([far], EVENING, 11.0)
    with pytest.raises(PlanInputError, match="now: must be timezone-aware"):
        plan([car], EVENING.replace(tzinfo=None), 11.0)
