"""The Site page's 24-hour chart as inline SVG, drawn on the server (no script, no CDN).

Grid current per phase (solid), allocated to cars per phase (dashed), the fuse (red) and the
time a meter was silent (shaded, from the minute it was lost to the next sample). A line
breaks where a meter was lost and where the site was not running (no sample for 15 minutes)
rather than drawing over a time nobody measured.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from .history import MINUTE, Sample

WIDTH, HEIGHT = 720.0, 240.0
LEFT, RIGHT, TOP, BOTTOM = 40.0, 10.0, 10.0, 24.0
SPAN = timedelta(hours=24)
# Longer without a sample: the site was not running (a steady site still samples every reading).
GAP = timedelta(minutes=15)
COLOURS = ("#1f77b4", "#2ca02c", "#9467bd")


@dataclass(frozen=True, slots=True)
class Chart:
    width: float
    height: float
    lines: list[tuple[str, str, bool, str]]  # points, colour, dashed, label
    fuse_y: float | None
    lost: list[tuple[float, float]]  # x, width
    y_ticks: list[tuple[float, str]]
    x_ticks: list[tuple[float, str]]
    empty: bool


def build_chart(samples: list[Sample], now: datetime, zone: object) -> Chart:
    start = now - SPAN
    fuse = max((max(s.fuse_a) for s in samples), default=0.0)
    top = max(
        [fuse * 1.1, 10.0]
        + [max(s.grid_a) for s in samples]
        + [max(s.allocated_a) for s in samples]
    )

    def x(at: datetime) -> float:
        return LEFT + (WIDTH - LEFT - RIGHT) * ((at - start) / SPAN)

    def y(amps: float) -> float:
        return TOP + (HEIGHT - TOP - BOTTOM) * (1 - max(0.0, amps) / top)

    lines = []
    runs = _runs(samples)
    for phase in range(3):
        for dashed, label in ((False, f"L{phase + 1}"), (True, f"L{phase + 1} cars")):
            for run in runs:
                values = [(s.at, (s.allocated_a if dashed else s.grid_a)[phase]) for s in run]
                if len(values) == 1:  # one minute alone: a short dash rather than nothing
                    values.append((values[0][0] + MINUTE, values[0][1]))
                points = " ".join(f"{x(at):.1f},{y(amps):.1f}" for at, amps in values)
                lines.append((points, COLOURS[phase], dashed, label))
    # A lost meter sends nothing until it recovers: the silence lasts to the next sample.
    ends = [later.at for later in samples[1:]] + [now]
    lost = [
        (x(s.at), max(1.0, x(max(end, s.at + MINUTE)) - x(s.at)))
        for s, end in zip(samples, ends, strict=True)
        if s.meter_lost
    ]
    step = _nice_step(top)
    y_ticks = [(y(v), f"{v:g}") for v in _range(0.0, top, step)]
    x_ticks = []
    for hours in range(0, 25, 6):
        at = start + timedelta(hours=hours)
        local = at.astimezone(zone) if zone is not None else at  # type: ignore[arg-type]
        x_ticks.append((x(at), local.strftime("%H:%M")))
    return Chart(
        WIDTH, HEIGHT, lines, y(fuse) if fuse else None, lost, y_ticks, x_ticks, not samples
    )


def _runs(samples: list[Sample]) -> list[list[Sample]]:
    """Consecutive measured minutes; a lost meter's minutes are shaded, not drawn."""
    runs: list[list[Sample]] = []
    broken = True
    for sample in samples:
        if sample.meter_lost:
            broken = True
            continue
        if not broken and sample.at - runs[-1][-1].at <= GAP:
            runs[-1].append(sample)
        else:
            runs.append([sample])
        broken = False
    return runs


def _nice_step(top: float) -> float:
    for step in (5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0):
        if top / step <= 6:
            return step
    return 1000.0


def _range(low: float, high: float, step: float) -> list[float]:
    values, value = [], low
    while value <= high:
        values.append(value)
        value += step
    return values
