"""site.yaml `planner`, `cars` and `cards`: the planner's settings and the cars cards name.

```yaml
planner:
  household_margin_a: 2        # added to the household forecast
  history_weeks: 4
  phase_switch_interval_s: 300 # at most one 1p/3p switch per charger in this long
  phase_switch_grace_s: 60     # none in a session's first minute
  capacity_tariff: {circuit: grid, target_kw: 5.0}
cars:
  - {id: id4, name: "ID.4", battery_kwh: 77, max_power_kw: 11, phases: 3, target_soc: 80,
     departures: {mon: "07:30", tue: "07:30"}}
cards:
  - {id: 04A1B2C3, driver: Bram, car: id4}   # `car` names an entry of `cars`
```
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ..errors import ConfigError
from ..planning.tariff import WEEKDAYS
from .model import CapacityTariff, CardProfile, CarProfile, PlannerSettings
from .reader import Section

_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def parse_planner(
    sec: Section, circuits: set[str], timezone: str | None, history_db: Path | None
) -> PlannerSettings:
    base = PlannerSettings()
    tariff = sec.section("capacity_tariff")
    capacity: CapacityTariff | None = None
    if tariff.data:
        capacity = CapacityTariff(
            circuit=tariff.text("circuit"), target_kw=tariff.number("target_kw", low=0.1)
        )
        if capacity.circuit not in circuits:
            raise ConfigError(tariff.path("circuit"), f"unknown circuit {capacity.circuit!r}")
        tariff.done()
    settings = PlannerSettings(
        household_margin_a=sec.number("household_margin_a", base.household_margin_a, low=0.0),
        history_weeks=sec.integer("history_weeks", base.history_weeks, low=1),
        phase_switch_interval=_seconds(sec, "phase_switch_interval_s", base.phase_switch_interval),
        phase_switch_grace=_seconds(sec, "phase_switch_grace_s", base.phase_switch_grace),
        capacity_tariff=capacity,
        timezone=timezone,
        history_db=history_db,
    )
    sec.done()
    return settings


def _seconds(sec: Section, name: str, default: timedelta) -> timedelta:
    return timedelta(seconds=sec.number(name, default.total_seconds(), low=0.0))


def parse_car(data: Any, key: str) -> CarProfile:
    """One car (a `cars` entry, or a card's vehicle from the API or the cloud)."""
    sec = Section(data, key)
    phases = sec.integer("phases", None, low=1)
    if phases not in (None, 1, 3):
        raise ConfigError(sec.path("phases"), f"must be 1 or 3, got {phases}")
    car = CarProfile(
        battery_kwh=sec.number("battery_kwh", None, low=1.0, high=1000.0),
        max_power_kw=sec.number("max_power_kw", None, low=1.0, high=1000.0),
        efficiency=sec.number("efficiency", 0.9, low=0.1, high=1.0),
        name=sec.text("name", ""),
        phases=phases,
        target_soc=sec.number("target_soc", None, low=1.0, high=100.0),
        departures=_departures(sec.section("departures")),
    )
    sec.raw("id", None)  # a `cars` entry's name for `cards`
    sec.done()
    return car


def _departures(sec: Section) -> Mapping[int, str]:
    out: dict[int, str] = {}
    for name in list(sec.data):
        day = str(name).strip().lower()[:3]
        if day not in WEEKDAYS:
            raise ConfigError(sec.path(str(name)), f"must be a weekday ({', '.join(WEEKDAYS)})")
        value = sec.text(str(name))
        if not _CLOCK.match(value):
            raise ConfigError(sec.path(str(name)), f"must be a time HH:MM, got {value!r}")
        out[WEEKDAYS.index(day)] = value
    return MappingProxyType(out)


def parse_card_profiles(top: Section) -> Mapping[str, CardProfile]:
    cars: dict[str, CarProfile] = {}
    for i, item in enumerate(top.items("cars")):
        ident = Section(item, f"cars[{i}]").text("id")
        if ident in cars:
            raise ConfigError(f"cars[{ident}]", "defined twice")
        cars[ident] = parse_car(item, f"cars[{ident}]")
    cards: dict[str, CardProfile] = {}
    for i, item in enumerate(top.items("cards")):
        sec = Section(item, f"cards[{i}]")
        tag = sec.text("id")
        sec.key = f"cards[{tag}]"
        if tag in cards:
            raise ConfigError(sec.key, "defined twice")
        name = sec.text("car", None)
        if name is not None and name not in cars:
            raise ConfigError(sec.path("car"), f"unknown car {name!r} (see `cars`)")
        cards[tag] = CardProfile(
            tag, driver=sec.text("driver", ""), car=cars[name] if name is not None else None
        )
        sec.done()
    return MappingProxyType(cards)
