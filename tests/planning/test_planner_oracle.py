"""The planner against brute force: it meets every departure whenever any schedule can, delivers
as much as possible otherwise, charges early without prices and cheapest with them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from custom_components.eflux.core.planning import SLOT, CarDemand, Plan, plan
from tests.planning.oracle import max_delivered, min_cost

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
TOL = 1e-6


@dataclass
class Case:
    """Whole kWh: car i may take rates[i] kWh per slot until slot departs[i]; slot s holds
    capacity[s] kWh; car i needs needs[i] kWh; hour h costs prices[h] per kWh."""

    rates: list[int]
    departs: list[int]
    needs: list[int]
    priorities: list[int]
    capacity: list[int]
    prices: list[int]

    @property
    def slots(self) -> int:
        return max(self.departs)

    def edge_caps(self) -> list[list[int]]:
        return [
            [r if s < d else 0 for s in range(self.slots)]
            for r, d in zip(self.rates, self.departs, strict=True)
        ]

    def slot_caps(self) -> list[int]:
        return [self.capacity[s] for s in range(self.slots)]

    def slot_prices(self) -> list[int]:
        return [self.prices[s // 4] for s in range(self.slots)]

    def cars(self) -> list[CarDemand]:
        return [
            CarDemand(
                charger_id=f"cp{i}",
                departure_at=NOW + d * SLOT,
                battery_kwh=4.0,
                soc_now=0.0,
                target_soc=25.0 * need,  # 4 kWh battery, efficiency 1: `need` kWh
                efficiency=1.0,
                max_power_kw=4.0 * rate,  # kWh per quarter-hour
                priority=priority,
            )
            for i, (rate, d, need, priority) in enumerate(
                zip(self.rates, self.departs, self.needs, self.priorities, strict=True)
            )
        ]

    def plan(self, *, priced: bool) -> Plan:
        prices = (
            {NOW + timedelta(hours=h): Decimal(p) for h, p in enumerate(self.prices)}
            if priced
            else None
        )
        return plan(self.cars(), NOW, [4.0 * c for c in self.capacity], prices)


@st.composite
def cases(draw: st.DrawFn) -> Case:
    cars = draw(st.integers(min_value=1, max_value=3))
    slots = draw(st.integers(min_value=1, max_value=9))
    return Case(
        rates=[draw(st.integers(1, 3)) for _ in range(cars)],
        departs=[draw(st.integers(1, slots)) for _ in range(cars)],
        needs=[draw(st.integers(0, 4)) for _ in range(cars)],
        priorities=[draw(st.integers(0, 1)) for _ in range(cars)],
        capacity=[draw(st.integers(0, 3)) for _ in range(slots)],
        prices=[draw(st.integers(-1, 5)) for _ in range(3)],
    )


def delivered(result: Plan) -> list[float]:
    return [car.energy_planned_kwh for car in result.cars.values()]


def check_valid(case: Case, result: Plan) -> None:
    """Within every car's power, every slot's capacity, nothing after a departure or beyond need."""
    assert len(result.slots) == case.slots
    for i, car in enumerate(result.cars.values()):
        assert car.energy_planned_kwh <= case.needs[i] + TOL
        for s, kwh in enumerate(car.energy_kwh):
            assert -TOL <= kwh <= case.edge_caps()[i][s] + TOL
    for s in range(case.slots):
        assert sum(car.energy_kwh[s] for car in result.cars.values()) <= case.capacity[s] + TOL


@settings(deadline=None, max_examples=300)
@given(case=cases())
def test_every_departure_is_met_whenever_brute_force_finds_a_way(case: Case) -> None:
    result = case.plan(priced=False)
    check_valid(case, result)
    best = max_delivered(case.edge_caps(), case.slot_caps(), case.needs)
    feasible = best == sum(case.needs)
    assert result.all_on_time == feasible
    assert abs(sum(delivered(result)) - best) < TOL  # otherwise: as much as possible
    for i, car in enumerate(result.cars.values()):
        assert abs(car.shortfall_kwh - (case.needs[i] - car.energy_planned_kwh)) < TOL
        assert car.will_make_it == (car.shortfall_kwh < TOL)
        if car.will_make_it and case.needs[i] > 0:
            assert car.expected_finish is not None
            assert car.expected_finish <= NOW + case.departs[i] * SLOT


@settings(deadline=None, max_examples=200)
@given(case=cases())
def test_without_prices_charging_is_as_early_as_possible(case: Case) -> None:
    result = case.plan(priced=False)
    if not result.all_on_time:
        return
    for k in range(1, case.slots + 1):
        early = sum(car.energy_kwh[s] for car in result.cars.values() for s in range(k))
        assert abs(early - max_delivered(case.edge_caps(), case.slot_caps(), case.needs, k)) < TOL


@settings(deadline=None, max_examples=200)
@given(case=cases())
def test_with_prices_no_schedule_is_cheaper_and_all_stay_on_time(case: Case) -> None:
    result = case.plan(priced=True)
    check_valid(case, result)
    cheapest = min_cost(case.edge_caps(), case.slot_caps(), case.needs, case.slot_prices())
    assert result.all_on_time == (cheapest != float("inf"))
    if result.all_on_time:
        paid = sum(
            car.energy_kwh[s] * case.slot_prices()[s]
            for car in result.cars.values()
            for s in range(case.slots)
        )
        assert abs(paid - cheapest) < 1e-6


@settings(deadline=None, max_examples=200)
@given(case=cases())
def test_the_first_in_priority_gets_what_it_could_get_alone(case: Case) -> None:
    result = case.plan(priced=False)
    top = max(case.priorities)
    leaders = [i for i, p in enumerate(case.priorities) if p == top]
    if len(leaders) != 1:
        return
    i = leaders[0]
    alone = max_delivered([case.edge_caps()[i]], case.slot_caps(), [case.needs[i]])
    assert abs(delivered(result)[i] - alone) < TOL
