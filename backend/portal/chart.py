"""The 90-day chart as inline SVG: bars of daily energy, a line of daily cost (no script)."""

from __future__ import annotations

from dataclasses import dataclass

from ..billing.money import format_eur
from ..services.sessions import DayTotal

WIDTH, HEIGHT, PAD = 720, 200, 24


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    title: str


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    cost_points: str  # the polyline's points attribute
    max_kwh: str
    max_eur: str
    first: str
    last: str


def daily_chart(days: list[DayTotal]) -> Chart:
    top_wh = max((d.energy_wh for d in days), default=0) or 1
    top_cents = max((d.cost_cents for d in days), default=0) or 1
    step = (WIDTH - 2 * PAD) / max(len(days), 1)
    inner = HEIGHT - 2 * PAD
    bars, points = [], []
    for i, d in enumerate(days):
        x = PAD + i * step
        h = inner * d.energy_wh / top_wh
        bars.append(
            Bar(
                round(x, 1),
                round(HEIGHT - PAD - h, 1),
                round(step * 0.8, 1),
                round(h, 1),
                f"{d.day}: {d.energy_wh / 1000:.1f} kWh, {format_eur(d.cost_cents)}",
            )
        )
        points.append(f"{x + step * 0.4:.1f},{HEIGHT - PAD - inner * d.cost_cents / top_cents:.1f}")
    return Chart(
        WIDTH,
        HEIGHT,
        bars,
        " ".join(points),
        f"{top_wh / 1000:.1f}",
        format_eur(top_cents),
        str(days[0].day) if days else "",
        str(days[-1].day) if days else "",
    )
