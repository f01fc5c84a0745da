"""The per-circuit, per-phase planner against brute force over small sites.

A site of two circuits (a garage under the grid connection), one- and three-phase cars on
either, a capacity per circuit, phase and quarter-hour. Whole amps: with 250 V, a car drawing
1 A on each of its n phases for a quarter-hour takes n/16 kWh, so needs are whole "amp-slots".
Brute force enumerates whole amps per car per slot. The planner solves the continuous problem,
so brute force can only prove that something is possible; each check below is of that kind:
- whenever brute force meets every departure, the planner does;
- a car the planner says will miss: brute force cannot meet it together with the cars ahead of
  it that the planner promised (higher priority, or the same and less slack);
- a car planned nothing: brute force cannot give it even one amp-slot beside the promises of
  its priority class and above (a departure that can be met beats a part of one that cannot);
- the plan keeps every circuit's phase within its capacity in every slot.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custom_components.eflux.core.planning import SLOT, CarDemand, Limit, Plan, plan

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
VOLT = 250.0
CIRCUITS = {"grid": ("grid",), "garage": ("garage", "grid")}  # a car loads its whole chain
TOL = 1e-6


@dataclass
class Car:
    circuit: str
    phases: tuple[int, ...]  # grid phases (0..2)
    max_a: int
    departs: int  # slot index it leaves at
    need: int  # amp-slots per phase
    priority: int

    @property
    def keys(self) -> list[str]:
        return [f"{c} L{p + 1}" for c in CIRCUITS[self.circuit] for p in self.phases]


@dataclass
class Case:
    cars: list[Car]
    caps: dict[str, list[int]]  # "grid L1" -> amps per slot
    slots: int

    def demands(self) -> list[CarDemand]:
        out = []
        for i, car in enumerate(self.cars):
            n = len(car.phases)
            kwh = car.need * n / 16.0
            weight = 1000.0 / (VOLT * n)
            out.append(
                CarDemand(
                    charger_id=f"c{i}",
                    departure_at=NOW + car.departs * SLOT,
                    battery_kwh=8.0,
                    soc_now=0.0,
                    target_soc=kwh / 8.0 * 100.0,
                    efficiency=1.0,
                    max_power_kw=car.max_a * n * VOLT / 1000.0,
                    priority=car.priority,
                    loads=tuple((key, weight) for key in car.keys),
                )
            )
        return out

    def plan(self) -> Plan:
        limits = [Limit(key, tuple(float(a) for a in amps)) for key, amps in self.caps.items()]
        return plan(self.demands(), NOW, float("inf"), limits=limits)

    def amps(self, result: Plan, i: int, s: int) -> float:
        """What car i draws per phase in slot s, as planned."""
        energy = result.cars[f"c{i}"].energy_kwh  # the plan ends at the last departure
        return energy[s] * 16.0 / len(self.cars[i].phases) if s < len(energy) else 0.0

    def possible(self, needs: dict[int, int]) -> bool:
        """Can whole amps give car i at least needs[i] amp-slots, for every i in `needs`?"""
        idents = sorted(needs)

        @cache
        def go(s: int, remaining: tuple[int, ...]) -> bool:
            if not any(remaining):
                return True
            if s == self.slots:
                return False
            ranges = [
                range(min(self.cars[i].max_a, r) + 1) if s < self.cars[i].departs else range(1)
                for i, r in zip(idents, remaining, strict=True)
            ]
            for amps in itertools.product(*ranges):
                load: dict[str, int] = {}
                for i, a in zip(idents, amps, strict=True):
                    for key in self.cars[i].keys:
                        load[key] = load.get(key, 0) + a
                if all(v <= self.caps[k][s] for k, v in load.items()) and go(
                    s + 1, tuple(max(0, r - a) for r, a in zip(remaining, amps, strict=True))
                ):
                    return True
            return False

        return go(0, tuple(needs[i] for i in idents))


@st.composite
def cases(draw: st.DrawFn) -> Case:
    slots = draw(st.integers(1, 3))
    cars = []
    for _ in range(draw(st.integers(1, 3))):
        three = draw(st.booleans())
        cars.append(
            Car(
                circuit=draw(st.sampled_from(sorted(CIRCUITS))),
                phases=(0, 1, 2) if three else (draw(st.integers(0, 2)),),
                max_a=draw(st.integers(1, 3)),
                departs=draw(st.integers(1, slots)),
                need=draw(st.integers(0, 6)),
                priority=draw(st.integers(0, 1)),
            )
        )
    caps = {
        f"{c} L{p + 1}": [draw(st.integers(0, 4)) for _ in range(slots)]
        for c in CIRCUITS
        for p in range(3)
    }
    return Case(cars, caps, slots)


def ranked_before(case: Case, result: Plan, i: int) -> set[int]:
    """The cars that rank before car i: priority, then laxity, the earlier departure, the
    order given."""

    def rank(k: int) -> tuple[int, object, int, int]:
        car = case.cars[k]
        return (-car.priority, result.cars[f"c{k}"].laxity, car.departs, k)

    return {k for k in range(len(case.cars)) if rank(k) < rank(i)}


@settings(deadline=None, max_examples=300)
@given(case=cases())
def test_per_phase_planner_against_brute_force(case: Case) -> None:
    result = case.plan()
    for s in range(case.slots):  # within every circuit's phase
        load: dict[str, float] = {}
        for i, car in enumerate(case.cars):
            for key in car.keys:
                load[key] = load.get(key, 0.0) + case.amps(result, i, s)
        for key, amps in load.items():
            assert amps <= case.caps[key][s] + TOL, (key, s)
    for i, car in enumerate(case.cars):
        assert case.amps(result, i, 0) <= car.max_a + TOL
    everyone = {i: car.need for i, car in enumerate(case.cars)}

    def got(k: int) -> int:  # amp-slots per phase planned for car k, rounded up
        energy = result.cars[f"c{k}"].energy_planned_kwh
        return math.ceil(energy * 16.0 / len(case.cars[k].phases) - TOL)

    if case.possible(everyone):
        assert result.all_on_time
    for i, car in enumerate(case.cars):
        planned = result.cars[f"c{i}"]
        if planned.will_make_it or car.need == 0:
            continue
        before = ranked_before(case, result, i)
        held = {}  # what the planner had settled when it came to car i
        for k, other in enumerate(case.cars):
            if k == i or other.need == 0 or other.priority < car.priority:
                continue
            promised = result.cars[f"c{k}"].will_make_it
            if other.priority > car.priority:  # a class served before: all of it
                held[k] = other.need if promised else got(k)
            elif promised and k in before:
                held[k] = other.need
        assert not case.possible({**held, i: car.need}), f"car {i} could have been met"
        if planned.energy_planned_kwh < TOL:  # its whole class's promises come first
            for k, other in enumerate(case.cars):
                same = k != i and other.priority == car.priority and other.need > 0
                if same and result.cars[f"c{k}"].will_make_it:
                    held[k] = other.need
                elif same and k in before:
                    held[k] = got(k)
            assert not case.possible({**held, i: 1}), f"car {i} could have had something"


def test_a_one_phase_car_on_l3_leaves_l1_and_l2_to_the_three_phase_cars() -> None:
    """The demo of issue 16: 3 x 35 A with a few amps of household; one-phase Chris on L3 and
    two three-phase cars. With 9 A free on L3 the plan gives all three cars room at once."""
    caps = {f"grid L{p}": [9, 9, 9] for p in (1, 2, 3)}
    caps |= {f"garage L{p}": [0, 0, 0] for p in (1, 2, 3)}
    chris = Car("grid", (2,), 16, 3, 6, 0)
    anna, bram = Car("grid", (0, 1, 2), 16, 3, 9, 0), Car("grid", (0, 1, 2), 16, 3, 9, 0)
    result = Case([chris, anna, bram], caps, 3).plan()
    assert result.all_on_time  # 6 + 9 + 9 amp-slots on L3 of the 27 there are
    # One snapshot of the lowest phase x 3 for the whole horizon would not tell L3 from L1.
    assert sum(c.energy_planned_kwh for c in result.cars.values()) == pytest.approx(
        6 / 16 + 2 * 9 * 3 / 16
    )
