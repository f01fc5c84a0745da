"""The demo's simulated charge points, their cars, and the car rows of the table."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sim.chargepoint import SimChargePoint

from .grid import MeteredCharger
from .report import CarRow
from .scenario import DemoCharger, Scenario


@dataclass
class DemoCar:
    spec: DemoCharger
    sim: SimChargePoint
    departure: datetime
    start_wh: float

    @property
    def metered(self) -> MeteredCharger:
        return MeteredCharger(self.sim, self.spec.grid_phases(), self.spec.car_name)

    def row(self, plan: Mapping[str, Any] | None) -> CarRow:
        plan = plan or {}
        return CarRow(
            charger=self.spec.id,
            car=self.spec.car_name,
            ocpp=self.spec.ocpp,
            phases=self.spec.phases,
            status=self.sim.status,
            limit_a=self.sim.limit_a,
            current_a=self.sim.amps,
            soc=self.sim.car.soc,
            energy_kwh=(self.sim.register_wh - self.start_wh) / 1000.0,
            departure=self.departure,
            expected_finish=_time(plan.get("expected_finish")),
            ready=plan.get("ready_by_departure"),
        )


def _time(value: object) -> datetime | None:
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            return datetime.fromisoformat(value)
    return None


async def holds_plug_in_default(sim: SimChargePoint, wait_s: float = 15.0) -> bool:
    """Wait until the site gave the charger its TxDefaultProfile (what a new car may draw):
    a car arriving at a charger the site has not set up yet would draw the charger's maximum,
    which in a real house does not happen seconds after commissioning."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_s
    while loop.time() < deadline:
        if any(p.purpose == "TxDefaultProfile" for p in sim.profiles.profiles.values()):
            return True
        await asyncio.sleep(0.05)
    return False


def make_cars(scenario: Scenario, central_url: str, now: datetime, speed: float) -> list[DemoCar]:
    """Simulated chargers (not started) with their cars; `speed` accelerates charging."""
    cars = []
    for spec in scenario.chargers:
        sim = SimChargePoint(
            central_url,
            spec.id,
            spec.ocpp,
            spec.car(),
            vendor="E-Flux",
            model=f"Demo {spec.phases}-phase",
            max_current_a=spec.max_current_a,
            speed=speed,
            reconnect_delay=1.0,
        )
        cars.append(DemoCar(spec, sim, now + spec.departure_in, sim.register_wh))
    return cars
