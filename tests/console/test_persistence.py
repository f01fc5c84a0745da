"""A restart of the site keeps what the console showed (issue 17): the 24-hour chart and the
logins are in the site's SQLite file, read back when the site starts again on the same file.
Two real runs of the site and its API on loopback, one after the other, on one file."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import Callable
from pathlib import Path

from custom_components.eflux.core.config import parse_site_config
from custom_components.eflux.core.meters.reading import MeterReading
from tests.central.support import FakeClock, eventually
from tests.runner.support import serving

from .forms import page, session_of, submit
from .server import ANN_PASSWORD, BOB_PASSWORD, MANAGER_PASSWORD, site_yaml

POLYLINE = re.compile(r'<polyline class="series" stroke="#1f77b4" points="([^"]+)"')


async def turns() -> None:
    for _ in range(3):
        await asyncio.sleep(0)


def grid_l1_points(html: str) -> list[tuple[float, float]]:
    """The points of the chart's grid-current line of L1 (solid, the first colour)."""
    return [
        (float(x), float(y))
        for line in POLYLINE.findall(html)
        for x, y in (point.split(",") for point in line.split())
    ]


async def test_a_restart_keeps_the_chart_and_the_logins(
    tmp_path: Path, unused_port: Callable[[], int]
) -> None:
    clock = FakeClock()
    config = parse_site_config(site_yaml(tmp_path), base_dir=tmp_path)
    async with serving(config, unused_port(), clock=clock) as api:
        meter = api.site.external_meter("p1")
        for step in range(10):  # ten minutes, L1 rising from 10 to 19 A
            clock.advance(minutes=1)
            amps = 10.0 + step
            meter.push(
                MeterReading("p1", clock.now, current_a=(amps, 5.0, 5.0), power_w=(amps * 230,) * 3)
            )
            await eventually(lambda: api.site.state().at == clock.now)
            await turns()
        manager = await session_of(api, "manager", MANAGER_PASSWORD)
        ann = await session_of(api, "CARD-ANN", ANN_PASSWORD)
        bob = await session_of(api, "CARD-BOB", BOB_PASSWORD)
        _, _, csrf = await page(api, bob, "/console/sessions")
        assert csrf is not None
        assert (await submit(api, bob, "/console/logout", {"csrf": csrf}))[0] == 303
        _, before, _ = await page(api, manager, "/console/site")
    drawn_before = grid_l1_points(before)
    assert len(drawn_before) >= 10

    # What the file holds after a clean stop: every minute, and the two logins still open by
    # the hash of their token only (a copy of the file logs nobody in).
    with sqlite3.connect(tmp_path / "central.sqlite") as db:
        minutes = db.execute("SELECT at, grid_a FROM console_samples ORDER BY at").fetchall()
        logins = db.execute("SELECT token_sha256, role, card FROM console_logins").fetchall()
        dump = "\n".join(db.iterdump())
    l1 = [float(grid.strip("[]").split(",")[0]) for _, grid in minutes]
    assert [a for a in l1 if a >= 10] == [10.0 + step for step in range(10)]
    assert sorted((role, card) for _, role, card in logins) == [
        ("manager", None),
        ("resident", "CARD-ANN"),
    ]
    for token in (manager, ann, bob):
        assert token not in dump

    clock.advance(minutes=5)
    async with serving(config, unused_port(), clock=clock) as api:
        status, after, _ = await page(api, manager, "/console/site")
        assert status == 200  # still logged in
        assert (await page(api, ann, "/console/sessions"))[0] == 200
        status, _, _ = await page(api, bob, "/console/sessions")
        assert status == 303  # logged out before the restart: stays out
    drawn_after = grid_l1_points(after)
    # The ten minutes before the restart are drawn again: the same heights (the scale is the
    # same), five minutes further left on the 24-hour axis.
    shift = (720 - 40 - 10) * 5 / (24 * 60)
    heights_before = [y for _, y in drawn_before][-10:]
    assert [y for _, y in drawn_after][: len(drawn_before)][-10:] == heights_before
    assert abs((drawn_before[-1][0] - shift) - drawn_after[len(drawn_before) - 1][0]) < 0.2
