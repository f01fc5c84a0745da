"""The demo's grid meter: the household's load plus what the simulated chargers really draw,
served as an Eastron SDM630 over Modbus TCP (`sim.modbus_meter`), and judged against the fuse on
every tick from the very values the meter serves.

The chargers' draw is read from the simulated charge points themselves (the physics), not from
what the central system believes: a real grid meter measures the current, however late the
chargers' own meter values reach the controller.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sim.chargepoint import SimChargePoint
from sim.household import HouseholdLoad, HouseholdProfile, SimClock, household_load
from sim.modbus_meter import ModbusMeterSim

VOLTAGE_V = 230.0
Phases = tuple[float, float, float]


@dataclass(frozen=True, slots=True)
class MeteredCharger:
    sim: SimChargePoint
    grid_phases: tuple[int, ...]  # the grid phase each of its phases is wired to
    name: str = ""  # the car's name in the summary (default: the charge point id)

    def draw_a(self) -> Phases:
        self.sim.advance()  # the car follows the latest limit and charges up to now
        amps = [0.0, 0.0, 0.0]
        for phase in self.grid_phases[: self.sim.car.phases]:
            amps[phase] += self.sim.amps
        return (amps[0], amps[1], amps[2])


@dataclass(frozen=True, slots=True)
class GridSample:
    current_a: Phases  # magnitude per phase, as the SDM630 reports it
    power_w: Phases  # signed: import positive
    household: HouseholdLoad
    chargers_a: Phases


@dataclass
class FuseRecord:
    """The highest phase currents seen and every tick that went over the fuse."""

    fuse_a: float
    ticks: int = 0
    highest_a: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    # (seconds since the meter started, phase, amps)
    over: list[tuple[float, int, float]] = field(default_factory=list)

    def judge(self, sample: GridSample, t: float) -> None:
        self.ticks += 1
        for phase, amps in enumerate(sample.current_a):
            self.highest_a[phase] = max(self.highest_a[phase], amps)
            if amps > self.fuse_a:
                self.over.append((t, phase, amps))

    @property
    def exceeded(self) -> bool:
        return bool(self.over)


MIN_CURRENT_A = 6.0  # IEC 61851: a car charges at 6 A or more, or not at all


@dataclass(frozen=True, slots=True)
class Want:
    """A car that wants to charge: the grid phases it draws on and its bounds per phase."""

    name: str
    grid_phases: tuple[int, ...]
    low: float
    high: float


def wants(chargers: Sequence[MeteredCharger]) -> list[Want]:
    """The cars plugged in and not full."""
    return [
        Want(
            c.name or c.sim.id,
            c.grid_phases[: c.sim.car.phases],
            MIN_CURRENT_A,
            max(MIN_CURRENT_A, c.sim.car.max_current_a),
        )
        for c in chargers
        if c.sim.plugged and not c.sim.car.full
    ]


def power_that_fits(cars: Sequence[Want], room: Phases) -> float:
    """The most amps summed over the phases (power / voltage) the cars could draw within `room`
    per phase with as many of them charging as fit at their minimum (no car left at 0 A for a
    few more watts elsewhere), each at 0 A or between its minimum and its maximum. Every
    largest set that fits at the minimum, the cars on more phases raised first: an amp on a
    phase gives the same power in any car, and raising a three-phase car costs single-phase
    ones at most what it gains."""
    best = (0, 0.0)
    order = sorted(range(len(cars)), key=lambda i: -len(cars[i].grid_phases))
    for mask in range(1, 1 << len(cars)):
        chosen = [i for i in order if mask >> i & 1]
        if len(chosen) < best[0]:
            continue
        left = list(room)
        for i in chosen:
            for p in cars[i].grid_phases:
                left[p] -= cars[i].low
        if any(left[p] < -1e-9 for i in chosen for p in cars[i].grid_phases):
            continue
        total = sum(cars[i].low * len(cars[i].grid_phases) for i in chosen)
        for i in chosen:
            car = cars[i]
            up = min([car.high - car.low, *(left[p] for p in car.grid_phases)])
            if up > 0:
                for p in car.grid_phases:
                    left[p] -= up
                total += up * len(car.grid_phases)
        best = max(best, (len(chosen), total))
    return best[1]


@dataclass
class PowerRecord:
    """The power the cars drew against the power that fit beside the household (within the
    fuse less the site's margin), and how long each car waited at 0 A while its minimum fit on
    every phase it uses beside the others lowered to their minimum (issue 16)."""

    seconds: float = 0.0
    delivered_ws: float = 0.0  # watt-seconds
    fit_ws: float = 0.0
    idle_s: dict[str, float] = field(default_factory=dict)

    def judge(
        self, sample: GridSample, chargers: Sequence[MeteredCharger], room: Phases, dt: float
    ) -> None:
        cars = wants(chargers)
        drawing = {c.name or c.sim.id for c in chargers if c.sim.amps > 0}
        self.seconds += dt
        self.delivered_ws += sum(sample.chargers_a) * VOLTAGE_V * dt
        self.fit_ws += power_that_fits(cars, room) * VOLTAGE_V * dt
        left = list(room)
        for car in cars:
            if car.name in drawing:
                for p in car.grid_phases:
                    left[p] -= car.low
        for car in cars:
            if car.name not in drawing and all(left[p] >= car.low for p in car.grid_phases):
                self.idle_s[car.name] = self.idle_s.get(car.name, 0.0) + dt

    def reset(self) -> None:
        self.seconds = self.delivered_ws = self.fit_ws = 0.0
        self.idle_s.clear()

    @property
    def delivered_kw(self) -> float:
        return self.delivered_ws / self.seconds / 1000.0 if self.seconds else 0.0

    @property
    def fit_kw(self) -> float:
        return self.fit_ws / self.seconds / 1000.0 if self.seconds else 0.0


class GridMeter:
    def __init__(
        self,
        clock: SimClock,
        chargers: Sequence[MeteredCharger],
        fuse_a: float,
        profile: HouseholdProfile | None = None,
        *,
        margin_a: float = 0.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.clock = clock
        self.chargers = list(chargers)
        self.profile = profile or HouseholdProfile()
        self.modbus = ModbusMeterSim("sdm630")
        self.record = FuseRecord(fuse_a)
        self.margin_a = margin_a  # the site keeps this much below the fuse
        self.power = PowerRecord()
        self.import_kwh = 0.0
        self.export_kwh = 0.0
        self.latest: GridSample | None = None
        self._monotonic = monotonic
        self._born = monotonic()
        self._last: float | None = None
        self._last_tick: float | None = None
        self._task: asyncio.Task[None] | None = None
        self.tick()

    async def start(self, port: int, tick_s: float, host: str = "127.0.0.1") -> None:
        """Serve Modbus and measure every `tick_s` from now on (also while the rest starts)."""
        await self.modbus.start_tcp(host, port)
        self._task = asyncio.create_task(self._measure(tick_s))

    async def _measure(self, tick_s: float) -> None:
        while True:
            self.tick()
            await asyncio.sleep(tick_s)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.modbus.stop()

    def sample(self) -> GridSample:
        house = household_load(self.clock.now(), self.profile)
        chargers = [0.0, 0.0, 0.0]
        for charger in self.chargers:
            for phase, amps in enumerate(charger.draw_a()):
                chargers[phase] += amps
        signed = [house.current_a[p] + chargers[p] for p in range(3)]
        power = [round(house.power_w[p] + chargers[p] * VOLTAGE_V, 1) for p in range(3)]
        return GridSample(
            current_a=(
                round(abs(signed[0]), 2),
                round(abs(signed[1]), 2),
                round(abs(signed[2]), 2),
            ),
            power_w=(power[0], power[1], power[2]),
            household=house,
            chargers_a=(chargers[0], chargers[1], chargers[2]),
        )

    def tick(self) -> GridSample:
        """Measure now: update the Modbus registers, the energy registers and the fuse record."""
        now = self._monotonic()
        sample = self.sample()
        total_w = sum(sample.power_w)
        if self._last is not None:
            kwh = total_w * (now - self._last) / 3_600_000.0
            if kwh >= 0:
                self.import_kwh += kwh
            else:
                self.export_kwh -= kwh
        self._last = now
        self.modbus.set_values(
            {
                "voltage_l1": VOLTAGE_V,
                "voltage_l2": VOLTAGE_V,
                "voltage_l3": VOLTAGE_V,
                "current_l1": sample.current_a[0],
                "current_l2": sample.current_a[1],
                "current_l3": sample.current_a[2],
                "power_l1": sample.power_w[0],
                "power_l2": sample.power_w[1],
                "power_l3": sample.power_w[2],
                "total_power": total_w,
                "import_energy": self.import_kwh,
                "export_energy": self.export_kwh,
            }
        )
        self.record.judge(sample, now - self._born)
        if self._last_tick is not None:
            cap = self.record.fuse_a - self.margin_a
            house = sample.household.current_a
            room = (
                cap - max(house[0], 0.0),
                cap - max(house[1], 0.0),
                cap - max(house[2], 0.0),
            )
            self.power.judge(sample, self.chargers, room, now - self._last_tick)
        self._last_tick = now
        self.latest = sample
        return sample
