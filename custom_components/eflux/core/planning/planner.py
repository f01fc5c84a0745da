"""The departure-time planner: share the power so that every car is full by its departure.

Two greedy passes over an exact flow (see `flow`):
1. who gets energy when there is not enough for everyone: cars in order of priority, then least
   laxity (time left minus time needed at full power), each given as much as it can get without
   taking anything from the cars before it;
2. when: slots in order of price (unknown prices last), then time, each filled as far as the
   energy from pass 1 allows while everything already placed stays possible.
Both are exact for this structure (the sets of feasible deliveries form a polymatroid), so: every
car makes its departure whenever any schedule can do it; otherwise as much energy as possible is
delivered, to the most pressing cars first; and no feasible schedule is cheaper. Without prices,
pass 2 charges as early as possible.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from .flow import EPS, Network
from .model import CarDemand, PlanInputError
from .slots import Slot, build_slots, hourly_prices

CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class CarPlan:
    charger_id: str
    energy_needed_kwh: float
    energy_planned_kwh: float
    energy_kwh: tuple[float, ...]  # per slot of the plan
    expected_finish: datetime | None  # when the needed energy is in (None: it never is)
    will_make_it: bool
    shortfall_kwh: float
    soc_at_departure: float  # percent, as planned
    laxity: timedelta  # time left minus time needed at full power (negative: cannot make it)
    estimated_cost: Decimal | None  # euros, when every hour it charges in has a price


@dataclass(frozen=True, slots=True)
class Plan:
    now: datetime
    slots: tuple[Slot, ...]
    cars: Mapping[str, CarPlan]

    def power_w_at(self, charger_id: str, when: datetime) -> float:
        """Planned power for the charger at `when` (0 outside the plan): the balancer's input."""
        car = self.cars.get(charger_id)
        if car is None:
            return 0.0
        for slot, energy in zip(self.slots, car.energy_kwh, strict=True):
            if slot.start <= when < slot.end:
                return energy / slot.hours * 1000.0
        return 0.0

    @property
    def all_on_time(self) -> bool:
        return all(car.will_make_it for car in self.cars.values())


def plan(
    cars: Sequence[CarDemand],
    now: datetime,
    capacity_kw: float | Sequence[float],
    prices: Mapping[datetime, Decimal] | None = None,
) -> Plan:
    """Plan the smart-charging cars from `now` (see the module doc).

    `capacity_kw` is what these cars may draw together: one value, or one per quarter-hour from
    the one `now` is in. `prices` are per kWh, keyed by the start of their hour."""
    if now.tzinfo is None:
        raise PlanInputError("now", "must be timezone-aware")
    seen: set[str] = set()
    for car in cars:
        car.validate()
        if car.charger_id in seen:
            raise PlanInputError(f"cars[{car.charger_id}]", "two cars on one charger")
        seen.add(car.charger_id)
    slots = build_slots(now, (c.departure_at for c in cars), capacity_kw, hourly_prices(prices))
    needs = [car.energy_needed_kwh for car in cars]
    edge_caps = [
        [car.max_power_kw * s.hours if s.end <= car.departure_at else 0.0 for s in slots]
        for car in cars
    ]
    slot_caps = [s.capacity_kw * s.hours for s in slots]
    laxities = [_laxity(car, need, now) for car, need in zip(cars, needs, strict=True)]
    urgent_first = sorted(
        range(len(cars)), key=lambda i: (-cars[i].priority, laxities[i], cars[i].departure_at)
    )
    # Pass 1: how much each car can have, most pressing first.
    sharing = Network(edge_caps, slot_caps)
    everywhere = [True] * len(slots)
    granted = [0.0] * len(cars)
    for i in urgent_first:
        granted[i] = sharing.fill_car(i, needs[i], everywhere)
    # Pass 2: when, cheapest (then earliest) slots first.
    timing = Network(edge_caps, slot_caps)
    wants = list(granted)
    opened = [False] * len(slots)
    for s in sorted(range(len(slots)), key=lambda s: _slot_rank(slots[s])):
        opened[s] = True
        timing.fill_slot(s, wants, urgent_first, opened)
    return Plan(
        now=now,
        slots=slots,
        cars={
            car.charger_id: _car_plan(car, needs[i], timing.flow[i], slots, laxities[i])
            for i, car in enumerate(cars)
        },
    )


def _laxity(car: CarDemand, need: float, now: datetime) -> timedelta:
    hours_needed = need / car.max_power_kw if car.max_power_kw > 0 else (0.0 if need <= 0 else 1e6)
    return (car.departure_at - now) - timedelta(hours=min(hours_needed, 1e6))


def _slot_rank(slot: Slot) -> tuple[int, Decimal, datetime]:
    return (0, slot.price, slot.start) if slot.price is not None else (1, Decimal(0), slot.start)


def _car_plan(
    car: CarDemand, need: float, energy: list[float], slots: tuple[Slot, ...], laxity: timedelta
) -> CarPlan:
    planned = sum(energy)
    finish: datetime | None = None
    if need <= EPS:
        finish = slots[0].start if slots else None
    else:
        done = 0.0
        for slot, kwh in zip(slots, energy, strict=True):
            if kwh > EPS and done + kwh >= need - 1e-6:
                finish = slot.start + (slot.end - slot.start) * ((need - done) / kwh)
                break
            done += kwh
    cost: Decimal | None = Decimal(0)
    for slot, kwh in zip(slots, energy, strict=True):
        if kwh > EPS:
            if slot.price is None:
                cost = None
                break
            assert cost is not None
            cost += Decimal(repr(round(kwh, 6))) * slot.price
    on_time = planned >= need - 1e-6
    return CarPlan(
        charger_id=car.charger_id,
        energy_needed_kwh=need,
        energy_planned_kwh=planned,
        energy_kwh=tuple(energy),
        expected_finish=finish if on_time else None,
        will_make_it=on_time,
        shortfall_kwh=max(0.0, need - planned),
        soc_at_departure=min(
            100.0, car.soc_now + planned * car.efficiency / car.battery_kwh * 100.0
        ),
        laxity=laxity,
        estimated_cost=None if cost is None else cost.quantize(CENT, rounding=ROUND_HALF_UP),
    )
