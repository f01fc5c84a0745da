"""What the demo simulates: a house on a 3 x 25 A connection with three chargers and their cars.

One 1-phase charger (on L3) and two 3-phase ones, one of them speaking OCPP 2.0.1. Every car has a
battery, a state of charge and a departure time; the 1-phase car's departure is too soon for a
full battery, so the planner has something to warn about.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sim.chargepoint import Car


@dataclass(frozen=True, slots=True)
class DemoCharger:
    id: str  # the balanced charger id (site.yaml) and the OCPP charge point id
    name: str
    ocpp: str  # "1.6" or "2.0.1"
    wiring: tuple[str, ...]  # grid phases its L1.. are wired to
    max_current_a: float
    card: str
    car_name: str
    battery_kwh: float
    soc: float
    car_max_a: float
    departure_in: timedelta  # from the start of the demo (real time: the planner's clock)
    target_soc: float = 100.0

    @property
    def phases(self) -> int:
        return len(self.wiring)

    def car(self) -> Car:
        return Car(
            battery_kwh=self.battery_kwh,
            soc=self.soc,
            max_current_a=self.car_max_a,
            phases=self.phases,
        )

    def grid_phases(self) -> tuple[int, ...]:
        return tuple(int(p[1]) - 1 for p in self.wiring)


DEFAULT_CHARGERS = (
    DemoCharger(
        id="garage",
        name="Garage",
        ocpp="1.6",
        wiring=("L1", "L2", "L3"),
        max_current_a=16.0,
        card="DEMO-CARD-ANNA",
        car_name="Anna's Model Y",
        battery_kwh=75.0,
        soc=35.0,
        car_max_a=16.0,
        departure_in=timedelta(hours=9),
    ),
    DemoCharger(
        id="driveway",
        name="Driveway",
        ocpp="2.0.1",
        wiring=("L1", "L2", "L3"),
        max_current_a=16.0,
        card="DEMO-CARD-BRAM",
        car_name="Bram's ID.4",
        battery_kwh=77.0,
        soc=20.0,
        car_max_a=16.0,
        departure_in=timedelta(hours=11),
    ),
    DemoCharger(
        id="carport",
        name="Carport",
        ocpp="1.6",
        wiring=("L3",),
        max_current_a=16.0,
        card="DEMO-CARD-CHRIS",
        car_name="Chris's e-208",
        battery_kwh=50.0,
        soc=15.0,
        car_max_a=16.0,
        departure_in=timedelta(hours=2),
        target_soc=90.0,
    ),
)


@dataclass(frozen=True, slots=True)
class Scenario:
    fuse_a: float = 35.0
    margin_a: float = 3.0
    # Where the household's simulated day starts: the evening peak (cooking, heat pump, washing).
    household_start: str = "18:15"
    timezone: str = "Europe/Amsterdam"
    chargers: tuple[DemoCharger, ...] = DEFAULT_CHARGERS

    def household_start_at(self, now: datetime) -> datetime:
        """Today's `household_start` in the scenario's time zone."""
        hours, minutes = (int(x) for x in self.household_start.split(":"))
        local = now.astimezone(ZoneInfo(self.timezone))
        return local.replace(hour=hours, minute=minutes, second=0, microsecond=0)

    def charger(self, ident: str) -> DemoCharger:
        return next(c for c in self.chargers if c.id == ident)
