"""What the demo prints: the live table (every second) and the summary at the end.

Pure text from plain values, so tests can check it. Car rows combine the simulated car (what it
draws, its SoC, the limit it was given) with the site's plan (expected finish, ready or not),
as the local site reports it over its API.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from .grid import FuseRecord, GridSample, PowerRecord


@dataclass(frozen=True, slots=True)
class CarRow:
    charger: str
    car: str
    ocpp: str
    phases: int
    status: str
    limit_a: float | None  # what the charger offers (None: no limit set, its maximum)
    current_a: float
    soc: float
    energy_kwh: float  # drawn from the grid since the demo started
    departure: datetime
    expected_finish: datetime | None  # from the site's planner
    ready: bool | None  # from the site's planner


def _clock(at: datetime | None, tz: ZoneInfo) -> str:
    return "-" if at is None else at.astimezone(tz).strftime("%H:%M")


def _ready(ready: bool | None) -> str:
    return {True: "yes", False: "NO", None: "?"}[ready]


def grid_lines(sample: GridSample, fuse_a: float, household_clock: str) -> list[str]:
    lines = [f"Grid connection 3 x {fuse_a:.0f} A   household time {household_clock}"]
    for phase in range(3):
        amps = sample.current_a[phase]
        width = 30
        filled = min(width, round(width * amps / fuse_a)) if fuse_a > 0 else 0
        bar = "#" * filled + "." * (width - filled)
        flag = "  OVER THE FUSE" if amps > fuse_a else ""
        lines.append(
            f"  L{phase + 1} {amps:5.1f} A / {fuse_a:.0f} A [{bar}]  "
            f"house {sample.household.current_a[phase]:5.1f} A  "
            f"chargers {sample.chargers_a[phase]:5.1f} A{flag}"
        )
    running = ", ".join(sample.household.running) or "base load only"
    lines.append(f"  running: {running}")
    return lines


def car_lines(rows: Sequence[CarRow], tz: ZoneInfo) -> list[str]:
    head = (
        f"  {'charger':<9}{'car':<16}{'ocpp':<6}{'ph':>2} {'status':<14}{'limit':>7}"
        f"{'now':>7}{'SoC':>7}{'kWh':>7}  {'finish':>6} {'leaves':>6} {'ready':>5}"
    )
    lines = [head]
    for row in rows:
        limit = "max" if row.limit_a is None else f"{row.limit_a:.1f}A"
        lines.append(
            f"  {row.charger:<9}{row.car[:15]:<16}{row.ocpp:<6}{row.phases:>2} "
            f"{row.status[:13]:<14}{limit:>7}{row.current_a:>6.1f}A{row.soc:>6.1f}%"
            f"{row.energy_kwh:>7.3f}  {_clock(row.expected_finish, tz):>6} "
            f"{_clock(row.departure, tz):>6} {_ready(row.ready):>5}"
        )
    return lines


def table(
    sample: GridSample,
    fuse_a: float,
    rows: Sequence[CarRow],
    household_clock: str,
    tz: ZoneInfo,
    notes: Sequence[str] = (),
) -> str:
    return "\n".join(
        [*grid_lines(sample, fuse_a, household_clock), "", *car_lines(rows, tz), *notes]
    )


def power_lines(power: PowerRecord) -> list[str]:
    """kW delivered against kW that fit, and the cars that waited at 0 A while they fit."""
    share = f" ({100 * power.delivered_kw / power.fit_kw:.0f} %)" if power.fit_kw > 0 else ""
    lines = [
        f"  power: {power.delivered_kw:.1f} kW delivered against {power.fit_kw:.1f} kW that fit"
        f"{share}, on average over {power.seconds:.0f} s"
    ]
    idle = {name: s for name, s in power.idle_s.items() if s >= 1.0}
    if idle:
        waits = ", ".join(f"{name} {s:.0f} s" for name, s in idle.items())
        lines.append(f"  at 0 A while their minimum fit on every phase they use: {waits}")
    else:
        lines.append("  no car waited at 0 A (a second or more) while its minimum fit")
    return lines


def summary(
    record: FuseRecord,
    rows: Sequence[CarRow],
    tz: ZoneInfo,
    extra: Mapping[str, str] = {},
    power: PowerRecord | None = None,
) -> str:
    """The end-of-run summary; `record` (and `power`) judged from the meter's own values every
    tick."""
    highest = max(record.highest_a)
    phase = record.highest_a.index(highest) + 1
    verdict = (
        f"EXCEEDED on {len(record.over)} of {record.ticks} ticks"
        if record.exceeded
        else f"never exceeded ({record.ticks} ticks)"
    )
    lines = [
        "Summary",
        f"  highest phase current: {highest:.1f} A on L{phase} (fuse {record.fuse_a:.0f} A)",
        "  per phase: " + ", ".join(f"L{i + 1} {a:.1f} A" for i, a in enumerate(record.highest_a)),
        f"  fuse: {verdict}",
    ]
    for t, ph, amps in record.over[:5]:
        lines.append(f"    at {t:6.1f} s: L{ph + 1} {amps:.1f} A")
    if power is not None:
        lines.extend(power_lines(power))
    lines.append("  cars:")
    for row in rows:
        if row.ready is None:
            verdict_car = "no plan"
        else:
            verdict_car = "will be ready" if row.ready else "will NOT be ready"
        lines.append(
            f"    {row.charger:<9} {row.car:<16} {row.energy_kwh:7.3f} kWh  SoC {row.soc:5.1f} %"
            f"  leaves {_clock(row.departure, tz)}  finish {_clock(row.expected_finish, tz)}"
            f"  {verdict_car}"
        )
    lines.extend(f"  {key}: {value}" for key, value in extra.items())
    lines.append("RESULT: " + ("FAIL (the fuse was exceeded)" if record.exceeded else "OK"))
    return "\n".join(lines)
