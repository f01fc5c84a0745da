"""What the simulated cars really drew, judged against every fuse on a 100 ms grid.

The simulated charge points tell the recorder every change of what their car draws (the draw
is constant in between), so the draw at each 100 ms of simulated time is known exactly, however
busy the machine was; the household is a function of time. A sweep over the grid adds both up
per circuit (a car counts on its own circuit and every circuit above it) and phase.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

from .spec import Household, Scenario

TICK_S = 0.1


def household_a(h: Household, t: float) -> tuple[float, float, float]:
    """The household's current per phase `t` seconds after the start (always >= 0)."""
    period = h.period.total_seconds()
    amps = [
        h.base_a[p] + h.swing_a[p] * math.sin(2 * math.pi * t / period + p * 2 * math.pi / 3)
        for p in range(3)
    ]
    for step in h.steps:
        start = step.at.total_seconds()
        if start <= t < start + step.length.total_seconds():
            amps[step.phase] += step.add_a
    return (max(0.0, amps[0]), max(0.0, amps[1]), max(0.0, amps[2]))


@dataclass
class CarTrack:
    id: str
    circuit: str
    grid_phases: tuple[int, ...]
    draws: list[tuple[float, float]] = field(default_factory=list)  # (t, amps per phase)
    plugged: list[tuple[float, float]] = field(default_factory=list)  # (in, out) intervals
    full_at: float | None = None
    energy_kwh: float = 0.0
    ready: bool | None = None  # at departure: the target SoC reached (None: no departure)
    soc_at_end: float = 0.0


@dataclass
class Overload:
    seconds_over: float = 0.0
    highest_a: float = 0.0
    longest_s: float = 0.0
    longest_at: float = 0.0
    run_start: float | None = None
    run_ticks: int = 0


@dataclass
class StepAnswer:
    at: float
    phase: int
    add_a: float
    answered_after_s: float | None = None  # the cars on that phase lowered after the step
    over_fuse_s: float = 0.0  # seconds the grid phase was over its fuse in the minute after


@dataclass
class Judgement:
    until_s: float
    fuses: dict[str, tuple[float, float, float]]
    phases: dict[tuple[str, int], Overload]
    steps: list[StepAnswer]
    cars: list[CarTrack]
    waits: dict[str, float]  # the longest wait with demand per car (s)
    charging_share: dict[str, float]  # share of its plugged-in time a car drew current

    def over_bound(self, bound_s: float) -> list[tuple[str, int, Overload]]:
        return [
            (circuit, phase, o)
            for (circuit, phase), o in self.phases.items()
            if o.longest_s > bound_s + 1e-9
        ]

    def starved(self, window_s: float) -> list[str]:
        return [car for car, wait in self.waits.items() if wait >= window_s]


def judge(scenario: Scenario, cars: list[CarTrack], until_s: float) -> Judgement:
    """Sweep the 100 ms grid from 0 to `until_s`."""
    root = scenario.root
    circuits = list(scenario.fuses)
    chains = {car.id: scenario.ancestors(car.circuit) for car in cars}
    events = sorted((t, index, amps) for index, car in enumerate(cars) for t, amps in car.draws)
    drawing = [0.0] * len(cars)
    sums = {c: [0.0, 0.0, 0.0] for c in circuits}
    phases = {(c, p): Overload() for c in circuits for p in range(3)}
    steps = [StepAnswer(s.at.total_seconds(), s.phase, s.add_a) for s in scenario.household.steps]
    next_event = 0
    ticks = int(until_s / TICK_S)
    for k in range(ticks + 1):
        t = k * TICK_S
        while next_event < len(events) and events[next_event][0] <= t:
            at, index, amps = events[next_event]
            next_event += 1
            delta = amps - drawing[index]
            drawing[index] = amps
            for circuit in chains[cars[index].id]:
                for phase in cars[index].grid_phases:
                    sums[circuit][phase] += delta
            for step in steps:
                lowered = delta < 0 and step.phase in cars[index].grid_phases
                if lowered and step.answered_after_s is None and at >= step.at:
                    step.answered_after_s = at - step.at
        house = household_a(scenario.household, t)
        for circuit in circuits:
            fuse = scenario.fuses[circuit]
            for phase in range(3):
                amps = sums[circuit][phase] + (house[phase] if circuit == root else 0.0)
                _judge_tick(phases[(circuit, phase)], amps, fuse[phase], t)
                if circuit == root and amps > fuse[phase] + 1e-9:
                    for step in steps:
                        if step.phase == phase and step.at <= t < step.at + 60:
                            step.over_fuse_s += TICK_S
    for overload in phases.values():
        _close_run(overload)
    waits = {car.id: _longest_wait(car, until_s) for car in cars}
    share = {car.id: _charging_share(car, until_s) for car in cars}
    return Judgement(until_s, dict(scenario.fuses), phases, steps, cars, waits, share)


def _judge_tick(o: Overload, amps: float, fuse: float, t: float) -> None:
    o.highest_a = max(o.highest_a, amps)
    if amps > fuse + 1e-9:
        o.seconds_over += TICK_S
        if o.run_start is None:
            o.run_start, o.run_ticks = t, 0
        o.run_ticks += 1
    else:
        _close_run(o)


def _close_run(o: Overload) -> None:
    if o.run_start is not None:
        length = o.run_ticks * TICK_S
        if length > o.longest_s:
            o.longest_s, o.longest_at = length, o.run_start
        o.run_start = None


def _draw_at(car: CarTrack, t: float) -> float:
    amps = 0.0
    for at, value in car.draws:
        if at > t:
            break
        amps = value
    return amps


def _intervals(car: CarTrack, until_s: float) -> list[tuple[float, float]]:
    end = until_s if car.full_at is None else min(until_s, car.full_at)
    return [(a, min(b, end)) for a, b in car.plugged if a < end]


def _longest_wait(car: CarTrack, until_s: float) -> float:
    """The longest stretch a plugged-in car that was not full drew nothing."""
    longest = 0.0
    for start, end in _intervals(car, until_s):
        edges = [start] + [t for t, _ in car.draws if start < t < end] + [end]
        waiting_since: float | None = None
        for t in edges:
            if t >= end:
                break
            idle = _draw_at(car, t) <= 0
            if idle and waiting_since is None:
                waiting_since = t
            elif not idle and waiting_since is not None:
                longest = max(longest, t - waiting_since)
                waiting_since = None
        if waiting_since is not None:
            longest = max(longest, end - waiting_since)
    return longest


def _charging_share(car: CarTrack, until_s: float) -> float:
    plugged = charging = 0.0
    for start, end in [(a, min(b, until_s)) for a, b in car.plugged if a < until_s]:
        plugged += end - start
        edges = [start] + [t for t, _ in car.draws if start < t < end] + [end]
        for a, b in itertools.pairwise(edges):
            if _draw_at(car, a) > 0:
                charging += b - a
    return charging / plugged if plugged > 0 else 0.0
