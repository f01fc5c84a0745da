"""The Site page's 24-hour chart from what the running site really saw (issue 17): a site on a
clock the test moves, its grid meter read every few minutes for six hours with a silence past
the meter's timeout in between; the page (in headless Chromium) draws the lines, the fuse and
the silent minutes shaded."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from custom_components.eflux.core.config import parse_site_config
from custom_components.eflux.core.meters.reading import MeterReading
from tests.central.support import FakeClock, eventually
from tests.runner.support import serving

from .conftest import ARTIFACTS, CHROMIUM
from .server import MANAGER_PASSWORD, site_yaml

pytestmark = pytest.mark.timeout(300)


async def turns() -> None:
    """Let the loop turn: the site hands its snapshots to listeners on the next turn."""
    for _ in range(3):
        await asyncio.sleep(0)


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is missing")
async def test_the_chart_shows_a_day_and_shades_the_meter_silence(
    tmp_path: Path, unused_port: Callable[[], int]
) -> None:
    from playwright.async_api import async_playwright

    clock = FakeClock()
    data = site_yaml(tmp_path)
    data["meters"][0]["timeout"] = 300
    config = parse_site_config(data, base_dir=tmp_path)
    async with serving(config, unused_port(), clock=clock) as api:
        meter = api.site.external_meter("p1")
        lost_seen = 0
        for step in range(72):  # six hours, five minutes apart
            clock.advance(minutes=5)
            if 30 <= step < 36:  # half an hour without a reading: the meter is lost
                api.site.recompute()
                lost_seen += bool(api.site.state().meters_lost)
                await turns()
                continue
            amps = 8.0 + 6.0 * ((step % 24) / 24) + (4.0 if step % 12 == 0 else 0.0)
            meter.push(
                MeterReading(
                    "p1",
                    clock.now,
                    current_a=(amps, amps - 2, amps - 4),
                    power_w=(amps * 230, (amps - 2) * 230, (amps - 4) * 230),
                )
            )
            await eventually(lambda: api.site.state().at == clock.now)
            await turns()
        assert lost_seen >= 4

        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
            page = await browser.new_page(base_url=api.base)
            await page.goto("/console/login")
            await page.fill("input[name=user]", "manager")
            await page.fill("input[name=password]", MANAGER_PASSWORD)
            await page.click("#login-submit")
            await page.wait_for_url("**/console/site")
            svg = await page.locator("svg#chart").inner_html()
            await page.screenshot(path=str(ARTIFACTS / "console-site-day.png"), full_page=True)
            await browser.close()

    lost = [float(w) for w in re.findall(r'<rect class="lost" [^>]*width="([\d.]+)"', svg)]
    per_minute = (720 - 40 - 10) / (24 * 60)
    # The half hour without readings is shaded as a whole (less the timeout before it counts).
    assert sum(lost) >= 20 * per_minute
    assert sum(lost) <= 40 * per_minute
    # The lines break at the silence: two runs per series (grid and cars, three phases).
    assert svg.count("<polyline") == 2 * 6
    assert 'class="fuse"' in svg
    # The x axis is the last 24 hours of the site's clock.
    start = clock.now - timedelta(hours=24)
    assert start.astimezone().minute == clock.now.astimezone().minute
