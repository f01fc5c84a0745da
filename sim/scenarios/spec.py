"""A scenario file (sim/scenarios/NAME.yaml) as typed data: the site, the cars, the household
and the faults, all timed as offsets from the scenario's start (simulated time).

Durations are seconds or text like `30s`, `20m`, `1h30m`. Top-level `x-` keys hold YAML
anchors (shared car settings). Every mistake is a `ScenarioError` naming the key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
PHASES = ("L1", "L2", "L3")
_DURATION = re.compile(r"^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?$")


class ScenarioError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class CarSpec:
    battery_kwh: float
    soc: float
    max_current_a: float
    target_soc: float = 100.0


@dataclass(frozen=True, slots=True)
class ChargerSpec:
    id: str
    circuit: str
    ocpp: str
    wiring: tuple[str, ...]
    max_current_a: float
    car: CarSpec
    arrive: timedelta
    depart: timedelta | None

    @property
    def phases(self) -> int:
        return len(self.wiring)

    def grid_phases(self) -> tuple[int, ...]:
        """The grid phase (0..2) each of the charger's phases is wired to."""
        return tuple(PHASES.index(p) for p in self.wiring)


@dataclass(frozen=True, slots=True)
class Step:
    at: timedelta
    phase: int
    add_a: float
    length: timedelta


@dataclass(frozen=True, slots=True)
class Household:
    """Per phase: base + swing x sin(2 pi t / period + phase offset), plus steps."""

    base_a: tuple[float, float, float]
    swing_a: tuple[float, float, float]
    period: timedelta
    steps: tuple[Step, ...] = ()


@dataclass(frozen=True, slots=True)
class Fault:
    kind: str  # meter_silent | charger_offline | overdraw
    at: timedelta
    length: timedelta
    charger: str | None = None
    add_a: float = 0.0


@dataclass(frozen=True, slots=True)
class MeterSpec:
    circuit: str
    profile: str
    poll_interval_s: float
    timeout_s: float
    request_timeout_s: float


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    description: str
    start: datetime
    duration: timedelta
    time_scale: float
    site: dict[str, Any]  # site.yaml sections as written (circuits, site, controller, central)
    meter: MeterSpec
    household: Household
    chargers: tuple[ChargerSpec, ...]
    faults: tuple[Fault, ...] = ()
    reaction_bound: timedelta = timedelta(seconds=1)
    starvation_window: timedelta = timedelta(minutes=30)
    fuses: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    parents: dict[str, str | None] = field(default_factory=dict)

    def charger(self, ident: str) -> ChargerSpec:
        return next(c for c in self.chargers if c.id == ident)

    def ancestors(self, circuit: str) -> tuple[str, ...]:
        """The circuit and every circuit above it, up to the grid connection."""
        chain: list[str] = []
        node: str | None = circuit
        while node is not None:
            chain.append(node)
            node = self.parents[node]
        return tuple(chain)

    @property
    def root(self) -> str:
        return next(c for c, parent in self.parents.items() if parent is None)


def duration(value: Any, key: str) -> timedelta:
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return timedelta(seconds=float(value))
    match = _DURATION.match(str(value).strip()) if isinstance(value, str) else None
    if not match or not any(match.groups()):
        raise ScenarioError(f"{key}: not a duration (seconds, or like 30s, 20m, 1h30m): {value!r}")
    hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    return timedelta(hours=hours, minutes=minutes, seconds=seconds)


def load(name_or_path: str) -> Scenario:
    """A scenario by name (sim/scenarios/NAME.yaml) or by path."""
    path = Path(name_or_path)
    if not path.suffix:
        path = HERE / f"{name_or_path}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in HERE.glob("*.yaml")))
        raise ScenarioError(f"no scenario {name_or_path!r} (known: {known})")
    return parse(yaml.safe_load(path.read_text(encoding="utf-8")))


def parse(data: Any) -> Scenario:
    if not isinstance(data, dict):
        raise ScenarioError("a scenario file is a mapping")
    data = {k: v for k, v in data.items() if not str(k).startswith("x-")}
    known = {"name", "description", "start", "duration", "time_scale", "site", "meter",
             "household", "chargers", "faults", "reaction_bound", "starvation_window"}  # fmt: skip
    unknown = sorted(set(data) - known)
    if unknown:
        raise ScenarioError(f"{unknown[0]}: unknown key")
    site = dict(data.get("site") or {})
    circuits = site.get("circuits") or []
    fuses = {str(c["id"]): _three(c["limit_a"], f"circuits[{c['id']}]") for c in circuits}
    parents = {str(c["id"]): c.get("parent") for c in circuits}
    start = datetime.fromisoformat(str(data["start"]))
    if start.utcoffset() is None:
        raise ScenarioError("start: needs a UTC offset")
    meter = dict(data["meter"])
    return Scenario(
        name=str(data["name"]),
        description=str(data.get("description", "")).strip(),
        start=start,
        duration=duration(data.get("duration", "2h"), "duration"),
        time_scale=float(data.get("time_scale", 60)),
        site=site,
        meter=MeterSpec(
            circuit=str(meter["circuit"]),
            profile=str(meter.get("profile", "sdm630")),
            poll_interval_s=float(meter.get("poll_interval", 1.0)),
            timeout_s=float(meter.get("timeout", 5.0)),
            request_timeout_s=float(meter.get("request_timeout", 1.0)),
        ),
        household=_household(data["household"]),
        chargers=tuple(_charger(c, i) for i, c in enumerate(data["chargers"])),
        faults=tuple(_fault(f, i) for i, f in enumerate(data.get("faults") or [])),
        reaction_bound=duration(data.get("reaction_bound", 1), "reaction_bound"),
        starvation_window=duration(data.get("starvation_window", "30m"), "starvation_window"),
        fuses=fuses,
        parents=parents,
    )


def _three(value: Any, key: str) -> tuple[float, float, float]:
    if isinstance(value, list):
        if len(value) != 3:
            raise ScenarioError(f"{key}: one number or three (L1, L2, L3)")
        return (float(value[0]), float(value[1]), float(value[2]))
    return (float(value), float(value), float(value))


def _household(raw: dict[str, Any]) -> Household:
    steps = tuple(
        Step(
            at=duration(s["at"], f"household.steps[{i}].at"),
            phase=PHASES.index(str(s["phase"])),
            add_a=float(s["add_a"]),
            length=duration(s.get("for", "100h"), f"household.steps[{i}].for"),
        )
        for i, s in enumerate(raw.get("steps") or [])
    )
    return Household(
        base_a=_three(raw["base_a"], "household.base_a"),
        swing_a=_three(raw.get("swing_a", 0), "household.swing_a"),
        period=duration(raw.get("period", "3h"), "household.period"),
        steps=steps,
    )


def _charger(raw: dict[str, Any], index: int) -> ChargerSpec:
    key = f"chargers[{raw.get('id', index)}]"
    wiring = tuple(str(p) for p in raw.get("wiring", PHASES))
    if not wiring or any(p not in PHASES for p in wiring) or len(wiring) not in (1, 3):
        raise ScenarioError(f"{key}.wiring: one or three of L1, L2, L3")
    car = dict(raw["car"])
    ocpp = str(raw.get("ocpp", "1.6"))
    if ocpp not in ("1.6", "2.0.1"):
        raise ScenarioError(f"{key}.ocpp: 1.6 or 2.0.1")
    return ChargerSpec(
        id=str(raw["id"]),
        circuit=str(raw["circuit"]),
        ocpp=ocpp,
        wiring=wiring,
        max_current_a=float(raw.get("max_current_a", 16)),
        car=CarSpec(
            battery_kwh=float(car["battery_kwh"]),
            soc=float(car["soc"]),
            max_current_a=float(car.get("max_current_a", raw.get("max_current_a", 16))),
            target_soc=float(car.get("target_soc", 100)),
        ),
        arrive=duration(raw.get("arrive", 0), f"{key}.arrive"),
        depart=None if raw.get("depart") is None else duration(raw["depart"], f"{key}.depart"),
    )


def _fault(raw: dict[str, Any], index: int) -> Fault:
    kinds = [k for k in ("meter_silent", "charger_offline", "overdraw") if k in raw]
    if len(kinds) != 1:
        raise ScenarioError(f"faults[{index}]: one of meter_silent, charger_offline, overdraw")
    kind = kinds[0]
    at = duration(raw["at"], f"faults[{index}].at")
    if kind == "meter_silent":
        return Fault(kind, at, duration(raw[kind], f"faults[{index}].meter_silent"))
    return Fault(
        kind,
        at,
        duration(raw["for"], f"faults[{index}].for"),
        charger=str(raw[kind]),
        add_a=float(raw.get("add_a", 0)),
    )
