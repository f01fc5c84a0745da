"""`LocalSite` from a parsed site.yaml: central system + external meter + controller, real sims."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from custom_components.eflux.core.config import parse_site_config
from custom_components.eflux.core.domain import DepartureRequest
from custom_components.eflux.core.loadcontrol.snapshot import SiteSnapshot
from custom_components.eflux.core.meters.reading import MeterReading
from custom_components.eflux.core.runtime import LocalSite
from sim.chargepoint import Car, SimChargePoint
from tests.central.support import FakeClock, eventually
from tests.controller.support import last_limit


def site_yaml(tmp_path: Path) -> dict[str, Any]:
    return {
        "central": {
            "host": "127.0.0.1",
            "port": 0,
            "db_path": "central.sqlite",
            "free_charging": True,
        },
        "site": {"tuning": {"ramp_step_a": "none", "hysteresis_a": 0}},
        "circuits": [{"id": "grid", "limit_a": 25}],
        "meters": [{"name": "p1", "circuit": "grid", "kind": "external", "timeout": 5}],
        "chargers": [
            {"id": "RT-1", "circuit": "grid", "battery_kwh": 60, "max_power_kw": 11},
            {"id": "RT-2", "circuit": "grid", "mode": "pv"},
        ],
        "api": {"enabled": False},
    }


@pytest_asyncio.fixture
async def site(tmp_path: Path) -> AsyncIterator[tuple[LocalSite, FakeClock]]:
    clock = FakeClock()
    local = LocalSite(parse_site_config(site_yaml(tmp_path), base_dir=tmp_path), clock=clock)
    await local.start()
    try:
        yield local, clock
    finally:
        await local.stop()


@pytest_asyncio.fixture
async def sims(site: tuple[LocalSite, FakeClock]) -> AsyncIterator[list[SimChargePoint]]:
    local, clock = site
    started = []
    for ident in ("RT-1", "RT-2"):
        sim = SimChargePoint(
            f"ws://127.0.0.1:{local.central.port}",
            ident,
            clock=clock,
            reconnect_delay=0.05,
            meter_interval=3600,
            car=Car(soc=50.0),
            vendor="Alfen",
            model="Eve",
        )
        await sim.start()
        started.append(sim)
    yield started
    for sim in started:
        await sim.close()


def grid(clock: FakeClock, *amps: float) -> MeterReading:
    a, b, c = amps
    return MeterReading("p1", clock.now, current_a=(a, b, c), power_w=(a * 230, b * 230, c * 230))


async def test_snapshot_follows_chargers_meters_and_commands(
    site: tuple[LocalSite, FakeClock], sims: list[SimChargePoint]
) -> None:
    local, clock = site
    seen: list[SiteSnapshot] = []
    local.add_listener(seen.append)
    meter = local.external_meter("p1")
    meter.push(grid(clock, 3.0, 3.0, 3.0))
    one = sims[0]
    await one.plug_in("CARD")
    await eventually(lambda: last_limit(one) == 16.0)
    await one.sample_now()
    await eventually(lambda: local.state().chargers["RT-1"].limit_sent_a == 16.0)
    await eventually(lambda: local.state().chargers["RT-1"].status == "Charging")
    await eventually(lambda: local.state().chargers["RT-1"].power_w is not None)
    snap = local.state()
    assert snap.fuse_a == (25.0, 25.0, 25.0)
    assert snap.grid_current_a == (3.0, 3.0, 3.0)
    assert snap.meters[0].quality == "ok"
    rt1 = snap.chargers["RT-1"]
    assert (rt1.online, rt1.vendor, rt1.model, rt1.status) == (True, "Alfen", "Eve", "Charging")
    assert (rt1.card, rt1.limit_a, rt1.limit_sent_a) == ("CARD", 16.0, 16.0)
    assert (rt1.mode, rt1.mode_setting) == ("dynamic", None)
    assert rt1.soc == 50.0
    assert snap.chargers["RT-2"].mode == "pv"
    assert seen, "listeners hear about changes"
    json_ready = snap.as_dict()
    assert json_ready["chargers"]["RT-1"]["card"] == "CARD"

    await local.set_max_current("RT-1", 10)
    await eventually(lambda: last_limit(one) == 10.0)
    await local.set_mode("RT-1", "off")
    await eventually(lambda: last_limit(one) == 0.0)
    assert local.state().chargers["RT-1"].balancer_status == "off"
    with pytest.raises(ValueError, match="warp"):
        await local.set_mode("RT-1", "warp")
    with pytest.raises(KeyError):
        await local.set_mode("NOPE", "fast")


async def test_a_departure_is_planned_and_reported(
    site: tuple[LocalSite, FakeClock], sims: list[SimChargePoint]
) -> None:
    local, clock = site
    local.external_meter("p1").push(grid(clock, 0.0, 0.0, 0.0))
    one = sims[0]
    await one.plug_in("CARD")
    await one.sample_now()  # SoC 50 %
    await eventually(lambda: local.state().chargers["RT-1"].soc == 50.0)
    ident = await local.set_departure(
        DepartureRequest("RT-1", clock.now + timedelta(hours=8), target_soc=80.0)
    )
    assert ident == "RT-1"
    await eventually(lambda: local.state().chargers["RT-1"].ready_by_departure is not None)
    rt1 = local.state().chargers["RT-1"]
    assert rt1.ready_by_departure is True
    assert rt1.shortfall_kwh == 0.0
    assert rt1.expected_finish is not None
    assert rt1.departure_at == clock.now + timedelta(hours=8)
    # 60 kWh x 30 % / 0.9 = 20 kWh at 11 kW: 1 h 49 min, in the quarter that ends at 2 h.
    assert timedelta(hours=1.75) < rt1.expected_finish - clock.now <= timedelta(hours=2)
    await local.set_departure(DepartureRequest("RT-1", clock.now + timedelta(hours=1)))
    await eventually(lambda: local.state().chargers["RT-1"].ready_by_departure is False)
    assert (local.state().chargers["RT-1"].shortfall_kwh or 0) > 0


async def test_a_silent_external_meter_turns_stale(
    site: tuple[LocalSite, FakeClock], sims: list[SimChargePoint]
) -> None:
    local, clock = site
    local.external_meter("p1").push(grid(clock, 0.0, 0.0, 0.0))
    await sims[0].plug_in("CARD")
    await eventually(lambda: last_limit(sims[0]) == 16.0)
    clock.advance(seconds=6)
    await eventually(lambda: last_limit(sims[0]) == 6.0)  # the safe current
    snap = local.state()
    assert snap.meters[0].quality == "stale"
    assert snap.balancer_status == "meter_lost"
