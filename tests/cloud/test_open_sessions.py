"""Open sessions from a real central system and a sim charger up to the cloud, live."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from custom_components.eflux.core.central import CentralSystem
from custom_components.eflux.core.cloud import CloudClient
from custom_components.eflux.core.cloud.link import CloudLink
from sim.chargepoint import SimChargePoint
from tests.central.support import FakeClock, eventually, running_central

from .conftest import NOW, Cloud
from .support import free_charging_config


async def open_in_cloud(cloud: Cloud) -> list[tuple[str, str | None, float]]:
    found = await cloud.store.open_sessions.list_open(None, now=cloud.clock())
    return [(s.cp_ocpp_id, s.id_tag, s.energy_kwh) for s in found]


@asynccontextmanager
async def site(
    tmp_path: Path, cloud: Cloud, clock: FakeClock, **sync: Any
) -> AsyncIterator[tuple[CentralSystem, CloudLink, SimChargePoint]]:
    """A central system linked to the cloud (rounds hourly: only events send in between)."""
    client = CloudClient(cloud.url, cloud.tokens["site"])
    async with running_central(free_charging_config(tmp_path), clock, client.authorize) as central:
        link = await CloudLink.start(client, central, interval=3600, **sync)
        sim = SimChargePoint(
            f"ws://127.0.0.1:{central.port}", "CP-S", "1.6", clock=clock, meter_interval=3600
        )
        try:
            await sim.start()
            await eventually(lambda: link.status.online)
            yield central, link, sim
        finally:
            await sim.close()
            await link.stop()


async def test_a_running_session_appears_in_the_cloud_and_leaves_when_it_stops(
    tmp_path: Path, cloud: Cloud
) -> None:
    clock = FakeClock(NOW)
    async with site(tmp_path, cloud, clock, open_sessions_every=0.05) as (central, link, sim):
        tx = await sim.plug_in("ANN01")
        await eventually(lambda: central.open_transactions() != [])
        assert tx is not None
        await eventually_async(lambda: _has(cloud, [("CP-S", "ANN01", 0.0)]))
        # Half an hour of charging, metered: the new energy reaches the cloud between rounds.
        clock.advance(minutes=30)
        await sim.sample_now()
        await eventually(lambda: central.open_transactions()[0].energy_wh > 0)
        energy = central.open_transactions()[0].energy_wh
        await eventually_async(lambda: _has(cloud, [("CP-S", "ANN01", round(energy) / 1000)]))
        [shown] = await cloud.store.open_sessions.list_open(cloud.ids["account"], now=NOW)
        assert shown.transaction_id == tx
        assert shown.card_id == cloud.ids["ANN01"]
        assert shown.power_w is not None
        assert shown.power_w > 0
        assert shown.live
        await sim.unplug()
        await eventually(lambda: link.status.sent == 1)
        await eventually_async(lambda: _has(cloud, []))
        assert await cloud.session_rows() == [("CP-S", tx)]


async def test_offline_nothing_is_queued_and_the_next_round_sends_the_latest(
    tmp_path: Path, cloud: Cloud
) -> None:
    clock = FakeClock(NOW)
    async with site(tmp_path, cloud, clock, open_sessions_every=0.05) as (central, link, sim):
        await cloud.down()
        await sim.plug_in("ANN02")
        clock.advance(minutes=10)
        await sim.sample_now()
        await eventually(
            lambda: (
                central.open_transactions() != [] and central.open_transactions()[0].energy_wh > 0
            )
        )
        assert await open_in_cloud(cloud) == []
        await cloud.up()
        link.sync.wake()
        energy = central.open_transactions()[0].energy_wh
        await eventually_async(lambda: _has(cloud, [("CP-S", "ANN02", round(energy) / 1000)]))
        assert link.status.online


async def test_meter_values_between_rounds_are_throttled(tmp_path: Path, cloud: Cloud) -> None:
    clock = FakeClock(NOW)
    async with site(tmp_path, cloud, clock, open_sessions_every=3600) as (central, link, sim):
        await sim.plug_in("ANN01")  # within the hour after the first round's snapshot
        await eventually(lambda: central.open_transactions() != [])
        link.sync.wake()
        await eventually_async(lambda: _has(cloud, [("CP-S", "ANN01", 0.0)]))
        clock.advance(minutes=30)
        await sim.sample_now()
        await eventually(lambda: central.open_transactions()[0].energy_wh > 0)
        await asyncio.sleep(0.3)  # room for a send the throttle should hold back
        assert await open_in_cloud(cloud) == [("CP-S", "ANN01", 0.0)]
        link.sync.wake()  # a sync round is not throttled
        energy = central.open_transactions()[0].energy_wh
        await eventually_async(lambda: _has(cloud, [("CP-S", "ANN01", round(energy) / 1000)]))


async def _has(cloud: Cloud, expected: list[tuple[str, str | None, float]]) -> bool:
    return await open_in_cloud(cloud) == expected


async def eventually_async(check: Any, wait_s: float = 5.0) -> None:
    """Like `eventually`, for a check that has to query the database."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_s
    while not await check():
        assert loop.time() < deadline, "the cloud never got there"
        await asyncio.sleep(0.02)
