"""The departure-time planner: share the power so that every car is full by its departure.

Power per car per quarter-hour is a linear program (`lp`) under every limit the cars share: each
circuit's phases (a three-phase car loads its three, a one-phase car the one it is wired to),
circuit totals, the site budget, each over the capacity left after the household forecast of
that quarter. Passes, by priority class (higher first), within one the cars promised ready by
the last plan first, then by least laxity (time left minus time needed at full power):
1. which departures are met: each car in turn is promised its full need when that is still
   possible together with every car promised before it (so a car that cannot make it never
   takes the room a car that can would need);
2. how much the others get: each in turn as much as the promises allow;
3. when: the cheapest schedule that keeps every amount of 1-2 (unknown prices count above every
   known one), charging as early as possible among equal prices.
So every car makes its departure whenever any schedule can do it together with the cars ahead
of it, a car is planned nothing only when the cars ahead of it leave no room, and no schedule
that gives the same energy is cheaper.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from .lp import EPS, EnergyLP
from .model import CarDemand, Limit, PlanInputError
from .slots import Slot, build_slots, hourly_prices, quarter_floor, quarter_index

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

    def waits_for_price(self, charger_id: str, when: datetime) -> bool:
        """Whether the plan holds the car back at `when` for a cheaper price: all its planned
        energy lies in slots with a known price below this slot's (or, when this slot's price
        is unknown, a known one). Such a pause is the driver's choice (smart mode), so an owed
        turn does not lift it (balancing.demand); a pause for other cars' sake is lifted."""
        car = self.cars.get(charger_id)
        index = next((k for k, s in enumerate(self.slots) if when < s.end), None)
        if car is None or index is None:
            return False
        current = self.slots[index].start <= when  # else `when` is before the plan's slots
        if current and car.energy_kwh[index] > 0:
            return False
        now_price = self.slots[index].price if current else None
        later = [
            slot.price
            for slot, energy in zip(self.slots[index:], car.energy_kwh[index:], strict=True)
            if energy > 0
        ]
        return bool(later) and all(
            p is not None and (now_price is None or p < now_price) for p in later
        )

    @property
    def all_on_time(self) -> bool:
        return all(car.will_make_it for car in self.cars.values())


def plan(
    cars: Sequence[CarDemand],
    now: datetime,
    capacity_kw: float | Sequence[float],
    prices: Mapping[datetime, Decimal] | None = None,
    *,
    limits: Sequence[Limit] = (),
) -> Plan:
    """Plan the cars with a departure from `now` (see the module doc).

    `capacity_kw` is what these cars may draw together: one value, or one per quarter-hour from
    the one `now` is in (math.inf: only `limits` bound them). `limits` are the circuits' phases
    and totals the cars load by `CarDemand.loads`. `prices` are per kWh, by the hour's start."""
    if now.tzinfo is None:
        raise PlanInputError("now", "must be timezone-aware")
    keys = {limit.key for limit in limits}
    for limit in limits:
        limit.validate()
    seen: set[str] = set()
    for car in cars:
        car.validate()
        if car.charger_id in seen:
            raise PlanInputError(f"cars[{car.charger_id}]", "two cars on one charger")
        seen.add(car.charger_id)
        for key, _ in car.loads:
            if key not in keys:
                raise PlanInputError(f"cars[{car.charger_id}].loads", f"unknown limit {key!r}")
    slots = build_slots(now, (c.departure_at for c in cars), capacity_kw, hourly_prices(prices))
    needs = [car.energy_needed_kwh for car in cars]
    laxities = [_laxity(car, need, now) for car, need in zip(cars, needs, strict=True)]
    energy = _schedule(cars, needs, laxities, slots, limits, now)
    return Plan(
        now=now,
        slots=slots,
        cars={
            car.charger_id: _car_plan(car, needs[i], energy[i], slots, laxities[i])
            for i, car in enumerate(cars)
        },
    )


_BUDGET = "\x00budget"  # the overall `capacity_kw`, loaded by every car at 1 per kW


def _schedule(
    cars: Sequence[CarDemand],
    needs: list[float],
    laxities: list[timedelta],
    slots: tuple[Slot, ...],
    limits: Sequence[Limit],
    now: datetime,
) -> list[list[float]]:
    if not slots:
        return [[] for _ in cars]
    first = quarter_floor(now)
    index = [quarter_index(first, slot.start) for slot in slots]
    capacity: dict[str, list[float]] = {_BUDGET: [slot.capacity_kw for slot in slots]}
    for limit in limits:
        capacity[limit.key] = [limit.at(k) for k in index]
    weights = [{_BUDGET: 1.0, **dict(car.loads)} for car in cars]
    parked = [[slot.end <= car.departure_at for slot in slots] for car in cars]
    lp = EnergyLP(
        [car.max_power_kw for car in cars],
        parked,
        [slot.hours for slot in slots],
        weights,
        capacity,
        needs,
    )
    order = sorted(
        range(len(cars)),
        key=lambda i: (-cars[i].priority, not cars[i].promised, laxities[i], cars[i].departure_at),
    )
    timing = _timing_costs(slots, order)
    energy = lp.solve(needs, timing)  # usually every car makes it: one solve
    if energy is not None:
        return energy
    floors = [0.0] * len(cars)
    hours = [slot.hours for slot in slots]
    reach = [  # the most a car could get alone: no promise beyond it needs a solve
        car.max_power_kw * sum(h for h, on in zip(hours, parked[i], strict=True) if on)
        for i, car in enumerate(cars)
    ]
    for priority in sorted({car.priority for car in cars}, reverse=True):
        group = [i for i in order if cars[i].priority == priority]
        possible = [i for i in group if reach[i] >= needs[i] - EPS]
        _promise(lp, floors, needs, possible)  # 1. full needs, most pressing first
        _the_rest(lp, floors, needs, [i for i in group if floors[i] < needs[i]], len(slots))
    return (
        lp.solve(floors, timing)
        or lp.solve([f * (1 - 1e-6) for f in floors], timing)
        or [[0.0] * len(slots) for _ in cars]
    )


def _the_rest(
    lp: EnergyLP, floors: list[float], needs: list[float], rest: list[int], slots: int
) -> None:
    """2. Each car not promised, most pressing first, as much as everything before it leaves.
    Once one gets nothing, one solve asks whether any of the others could still get anything:
    when not (the room is gone), they all get nothing without a solve each."""
    for n, i in enumerate(rest):
        alone = [[-1.0 if k == i else 0.0] * slots for k in range(len(floors))]
        most = lp.solve(floors, alone)
        floors[i] = max(0.0, sum(most[i])) if most is not None else 0.0
        later = rest[n + 1 :]
        if floors[i] <= EPS and later:
            together = [[-1.0 if k in later else 0.0] * slots for k in range(len(floors))]
            room = lp.solve(floors, together)
            if room is None or sum(sum(room[k]) for k in later) <= EPS:
                return


def _promise(lp: EnergyLP, floors: list[float], needs: list[float], group: list[int]) -> None:
    """Promise each car of `group` in turn its full need while that stays possible with every
    promise made before it. Feasibility only shrinks as cars are added, so a run of cars that
    fits together is promised with one solve, and one that does not is halved: the same
    promises as car by car, in far fewer solves when most cars make it."""
    if not group:
        return
    for i in group:
        floors[i] = needs[i]
    if lp.solve(floors) is not None:
        return
    for i in group:
        floors[i] = 0.0
    if len(group) == 1:
        return
    half = len(group) // 2
    _promise(lp, floors, needs, group[:half])
    _promise(lp, floors, needs, group[half:])


def _timing_costs(slots: tuple[Slot, ...], order: Sequence[int]) -> list[list[float]]:
    """Per kWh: the price (unknown: above every known one) plus a little per slot, so that among
    equal prices the earlier slot wins, a little more for the more pressing car (it charges
    first). Without any price, only time counts."""
    known = [float(slot.price) for slot in slots if slot.price is not None]
    distinct = sorted(set(known))
    gap = min((b - a for a, b in itertools.pairwise(distinct)), default=1.0)
    step = gap / (len(slots) + 1) / 2 if known else 1.0
    unknown = max(known, default=0.0) + gap
    prices = [float(slot.price) if slot.price is not None else unknown for slot in slots]
    if not known:
        prices = [0.0] * len(slots)
    costs: list[list[float]] = [[] for _ in order]
    for rank, i in enumerate(order):
        lean = step * (1.0 + 0.5 * (len(order) - rank) / len(order))
        costs[i] = [price + lean * s for s, price in enumerate(prices)]
    return costs


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
