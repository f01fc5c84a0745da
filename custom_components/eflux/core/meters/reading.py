"""The one reading type every meter source produces, and the plausibility rules applied to it."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

type Phases = tuple[float | None, float | None, float | None]

NO_PHASES: Phases = (None, None, None)


class Quality(StrEnum):
    OK = "ok"
    STALE = "stale"
    IMPLAUSIBLE = "implausible"


@dataclass(frozen=True, slots=True)
class MeterReading:
    """One snapshot of a meter. Power is import-positive (export negative); `None` = not measured.

    `timestamp` is timezone-aware UTC. A reading marked `implausible` must not be used for
    balancing; `problems` says which values made it so (for logs and diagnostics).
    """

    source: str
    timestamp: datetime
    current_a: Phases = NO_PHASES
    voltage_v: Phases = NO_PHASES
    power_w: Phases = NO_PHASES
    total_power_w: float | None = None
    import_kwh: float | None = None
    export_kwh: float | None = None
    quality: Quality = Quality.OK
    problems: tuple[str, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        if self.timestamp.tzinfo is None or self.timestamp.utcoffset() is None:
            raise ValueError("MeterReading.timestamp must be timezone-aware (UTC)")

    @property
    def usable(self) -> bool:
        """Whether balancing may use this reading."""
        return self.quality is Quality.OK


def _bad_number(value: float | None) -> bool:
    return value is not None and not math.isfinite(value)


def plausibility_problems(reading: MeterReading, fuse_a: float | None) -> tuple[str, ...]:
    """Values that cannot be physical: NaN/inf anywhere, negative voltage, or |current| or
    |power| above 10 x the fuse (power judged against 10 x fuse x 230 V x phases).
    """
    problems: list[str] = []
    for name, phases in (
        ("current_a", reading.current_a),
        ("voltage_v", reading.voltage_v),
        ("power_w", reading.power_w),
    ):
        for index, value in enumerate(phases, start=1):
            if _bad_number(value):
                problems.append(f"{name}[L{index}] is not a finite number")
    for name, single in (
        ("total_power_w", reading.total_power_w),
        ("import_kwh", reading.import_kwh),
        ("export_kwh", reading.export_kwh),
    ):
        if _bad_number(single):
            problems.append(f"{name} is not a finite number")
    for index, volts in enumerate(reading.voltage_v, start=1):
        if volts is not None and volts < 0:
            problems.append(f"voltage_v[L{index}] is negative ({volts})")
    if fuse_a is not None and fuse_a > 0:
        limit_a = 10 * fuse_a
        for index, amps in enumerate(reading.current_a, start=1):
            if amps is not None and math.isfinite(amps) and abs(amps) > limit_a:
                problems.append(f"current_a[L{index}] = {amps} exceeds 10 x fuse ({limit_a} A)")
        phase_limit_w = limit_a * 230.0
        for index, watts in enumerate(reading.power_w, start=1):
            if watts is not None and math.isfinite(watts) and abs(watts) > phase_limit_w:
                problems.append(f"power_w[L{index}] = {watts} exceeds 10 x fuse")
        total = reading.total_power_w
        if total is not None and math.isfinite(total) and abs(total) > 3 * phase_limit_w:
            problems.append(f"total_power_w = {total} exceeds 10 x fuse")
    return tuple(problems)


def assess(reading: MeterReading, fuse_a: float | None) -> MeterReading:
    """The reading, marked implausible (with `problems`) when it must not be used."""
    problems = plausibility_problems(reading, fuse_a)
    if not problems:
        return reading
    return replace(reading, quality=Quality.IMPLAUSIBLE, problems=problems)


def from_fields(source: str, timestamp: datetime, values: Mapping[str, float]) -> MeterReading:
    """A reading from profile field values (current_l1.., power_l1.., total_power,
    import_energy, export_energy). A missing total is the sum of the three phase powers.
    """
    power = _phases(values, "power")
    total = values.get("total_power")
    if total is None and all(p is not None for p in power):
        total = sum(p for p in power if p is not None)
    return MeterReading(
        source=source,
        timestamp=timestamp,
        current_a=_phases(values, "current"),
        voltage_v=_phases(values, "voltage"),
        power_w=power,
        total_power_w=total,
        import_kwh=values.get("import_energy"),
        export_kwh=values.get("export_energy"),
    )


def _phases(values: Mapping[str, float], family: str) -> Phases:
    return (values.get(f"{family}_l1"), values.get(f"{family}_l2"), values.get(f"{family}_l3"))
