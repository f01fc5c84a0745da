"""A deterministic household load per phase, as a pure function of (simulated) local time.

The demo's grid meter serves this load plus what the simulated chargers draw. Every appliance is
a function of the time of day only (no randomness, no state), so the same instant always gives the
same load and tests can check the profile exactly:

- base load on each phase, with a fridge compressor cycling on L1;
- cooking: a kettle in the morning (L1) and a two-phase induction hob in the evening (L1+L2);
- a heat pump on L1-L3 that cycles all day (longer runs at night and in the morning);
- a washing machine programme on one phase (fill, heat, wash, spin);
- optionally a PV inverter on L1-L3 exporting around midday (negative current).

Appliances switch on and off along short linear ramps (`ramp_s`, simulated seconds) rather than
as steps: inverter heat pumps and induction hobs do soft-start, and the ramp bounds how fast the
load can change between two meter readings (`max_rise_a`), which is what the balancer's safety
margin has to cover while it reacts. `SimClock` runs simulated time faster than real time; it is
a site `Clock` too (now, monotonic, sleep), so a site and simulated chargers can follow it.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

VOLTAGE_V = 230.0
DAY_S = 86_400.0
Phases = tuple[float, float, float]


def _hm(text: str) -> float:
    """'HH:MM' -> seconds after midnight."""
    hours, minutes = text.split(":")
    return int(hours) * 3600.0 + int(minutes) * 60.0


@dataclass(frozen=True, slots=True)
class Run:
    """An appliance drawing `watts` per phase on `phases` (indices 0..2) from `start` for
    `duration_s` (seconds after local midnight), ramping over `ramp_s` at both ends."""

    name: str
    start_s: float
    duration_s: float
    watts: float
    phases: tuple[int, ...]

    def level(self, t: float, ramp_s: float) -> float:
        """0..1: how far the appliance is on at second-of-day `t` (runs may cross midnight)."""
        since = (t - self.start_s) % DAY_S
        if since >= self.duration_s:
            return 0.0
        ramp = min(ramp_s, self.duration_s / 2)
        if ramp <= 0:
            return 1.0
        return min(1.0, since / ramp, (self.duration_s - since) / ramp)


def cycle(
    name: str,
    phases: tuple[int, ...],
    watts: float,
    *,
    first: str,
    last: str,
    on_min: float,
    off_min: float,
) -> tuple[Run, ...]:
    """A thermostat cycle: on for `on_min`, off for `off_min`, from `first` until `last`."""
    runs: list[Run] = []
    start, end = _hm(first), _hm(last)
    while start < end:
        runs.append(Run(name, start, on_min * 60.0, watts, phases))
        start += (on_min + off_min) * 60.0
    return tuple(runs)


def washing_programme(start: str, phase: int) -> tuple[Run, ...]:
    """Fill, heat (the 2 kW element), wash and spin on one phase."""
    t = _hm(start)
    steps = (("fill", 5, 80.0), ("heat", 18, 2000.0), ("wash", 40, 250.0), ("spin", 10, 450.0))
    runs: list[Run] = []
    for step, minutes, watts in steps:
        runs.append(Run(f"washing machine ({step})", t, minutes * 60.0, watts, (phase,)))
        t += minutes * 60.0
    return tuple(runs)


def default_runs() -> tuple[Run, ...]:
    heat_pump = cycle(
        "heat pump", (0, 1, 2), 900.0, first="00:00", last="07:00", on_min=35, off_min=20
    ) + cycle("heat pump", (0, 1, 2), 900.0, first="07:00", last="24:00", on_min=20, off_min=25)
    fridge = cycle("fridge", (0,), 110.0, first="00:00", last="24:00", on_min=15, off_min=30)
    cooking = (
        Run("kettle", _hm("07:15"), 180.0, 2000.0, (0,)),
        Run("induction hob", _hm("17:50"), 35 * 60.0, 1100.0, (0, 1)),
        Run("oven", _hm("18:00"), 25 * 60.0, 1800.0, (2,)),
    )
    return heat_pump + fridge + cooking + washing_programme("18:40", 1)


@dataclass(frozen=True, slots=True)
class HouseholdProfile:
    base_w: Phases = (180.0, 120.0, 150.0)  # lights, standby, router...
    runs: tuple[Run, ...] = field(default_factory=default_runs)
    pv_peak_w: float = 0.0  # total over L1-L3 at solar noon; 0: no PV
    pv_sunrise: str = "07:30"
    pv_sunset: str = "20:30"
    ramp_s: float = 60.0
    timezone: str = "Europe/Amsterdam"
    voltage_v: float = VOLTAGE_V

    def __post_init__(self) -> None:
        if self.ramp_s < 0 or self.pv_peak_w < 0 or self.voltage_v <= 0:
            raise ValueError("ramp_s and pv_peak_w must be >= 0, voltage_v > 0")
        for run in self.runs:
            if not run.phases or any(p not in (0, 1, 2) for p in run.phases):
                raise ValueError(f"{run.name}: phases must be indices 0..2")
            if run.duration_s <= 0 or run.duration_s > DAY_S:
                raise ValueError(f"{run.name}: duration must be within a day")


@dataclass(frozen=True, slots=True)
class HouseholdLoad:
    power_w: Phases  # import positive, export negative
    current_a: Phases  # signed like the power
    running: tuple[str, ...]  # the appliances that are on (for the live table)

    @property
    def total_w(self) -> float:
        return sum(self.power_w)


def second_of_day(at: datetime, timezone: str) -> float:
    if at.tzinfo is None:
        raise ValueError("the household needs a timezone-aware time")
    local = at.astimezone(ZoneInfo(timezone))
    return local.hour * 3600.0 + local.minute * 60.0 + local.second + local.microsecond / 1e6


def pv_w(profile: HouseholdProfile, t: float) -> float:
    """Total PV output at second-of-day `t`: a half sine between sunrise and sunset."""
    rise, set_ = _hm(profile.pv_sunrise), _hm(profile.pv_sunset)
    if profile.pv_peak_w <= 0 or not rise < t < set_:
        return 0.0
    return profile.pv_peak_w * math.sin(math.pi * (t - rise) / (set_ - rise))


def household_load(at: datetime, profile: HouseholdProfile | None = None) -> HouseholdLoad:
    """The household's draw per phase at `at` (timezone-aware; read in the profile's zone)."""
    profile = profile or HouseholdProfile()
    t = second_of_day(at, profile.timezone)
    power = list(profile.base_w)
    running: list[str] = []
    for run in profile.runs:
        level = run.level(t, profile.ramp_s)
        if level <= 0:
            continue
        if run.name not in running:
            running.append(run.name)
        for phase in run.phases:
            power[phase] += run.watts * level
    solar = pv_w(profile, t)
    if solar > 0:
        running.append("solar")
        for phase in range(3):
            power[phase] -= solar / 3
    watts = (round(power[0], 1), round(power[1], 1), round(power[2], 1))
    amps = tuple(round(w / profile.voltage_v, 2) for w in watts)
    return HouseholdLoad(watts, (amps[0], amps[1], amps[2]), tuple(running))


def max_rise_a(
    profile: HouseholdProfile, window_s: float, phases: Sequence[int] = (0, 1, 2)
) -> float:
    """The most the import current of one phase can rise within `window_s` simulated seconds
    (checked on a grid over the day): what the balancer's margin must cover meanwhile."""
    step = max(1.0, min(window_s / 4, 15.0))
    day = datetime(2026, 6, 21, tzinfo=ZoneInfo(profile.timezone))
    worst = 0.0
    t = 0.0
    while t < DAY_S:
        before = household_load(day + timedelta(seconds=t), profile).current_a
        after = household_load(day + timedelta(seconds=t + window_s), profile).current_a
        worst = max(worst, *(after[p] - before[p] for p in phases))
        t += step
    return round(worst, 2)


class SimClock:
    """Simulated time: starts at `start` and runs `speed` times faster than the real clock.
    Created with `running=False` it stands still at `start` until `run()` (the demo holds the
    household's day while its processes start)."""

    def __init__(
        self,
        start: datetime,
        speed: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
        *,
        running: bool = True,
    ) -> None:
        if start.tzinfo is None:
            raise ValueError("the simulated clock needs a timezone-aware start")
        if not speed > 0:
            raise ValueError(f"speed must be > 0, got {speed}")
        self.start = start
        self.speed = speed
        self._monotonic = monotonic
        self._origin: float | None = monotonic() if running else None

    def run(self) -> None:
        if self._origin is None:
            self._origin = self._monotonic()

    def elapsed_real_s(self) -> float:
        return 0.0 if self._origin is None else self._monotonic() - self._origin

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.elapsed_real_s() * self.speed)

    def to_sim(self, real_s: float) -> timedelta:
        """A real duration in simulated time."""
        return timedelta(seconds=real_s * self.speed)

    # The site `Clock` protocol (core/clock.py), so the household, a local site and simulated
    # chargers can share this one clock: simulated seconds throughout.
    def monotonic(self) -> float:
        return self.elapsed_real_s() * self.speed

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / self.speed)

    def __call__(self) -> datetime:
        return self.now()
