"""The Site page's 24-hour chart as inline SVG, drawn on the server (no script, no CDN).

Grid current per phase (solid), allocated to cars per phase (dashed), the fuse (red) and the
minutes a meter was silent (shaded). A gap of more than two minutes breaks a line rather than
drawing a straight line over a time nobody measured.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from .history import MINUTE, Sample

WIDTH, HEIGHT = 720.0, 240.0
LEFT, RIGHT, TOP, BOTTOM = 40.0, 10.0, 10.0, 24.0
SPAN = timedelta(hours=24)
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
                points = " ".join(
                    f"{x(s.at):.1f},{y((s.allocated_a if dashed else s.grid_a)[phase]):.1f}"
                    for s in run
                )
                lines.append((points, COLOURS[phase], dashed, label))
    lost = [(x(s.at), max(1.0, x(s.at + MINUTE) - x(s.at))) for s in samples if s.meter_lost]
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
    runs: list[list[Sample]] = []
    for sample in samples:
        if runs and sample.at - runs[-1][-1].at <= 2 * MINUTE:
            runs[-1].append(sample)
        else:
            runs.append([sample])
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
