"""The cloud link wired to a running central system: a finished session wakes the sync."""

from __future__ import annotations

from pathlib import Path

from custom_components.eflux.core.cloud import CloudClient
from custom_components.eflux.core.cloud.link import CloudLink
from sim.chargepoint import SimChargePoint
from tests.central.support import FakeClock, RawCharger, eventually, running_central

from .conftest import NOW, Cloud
from .support import Charger, free_charging_config


async def test_a_finished_session_reaches_the_cloud_without_waiting_for_the_interval(
    tmp_path: Path, cloud: Cloud
) -> None:
    clock = FakeClock(NOW)
    config = free_charging_config(tmp_path)
    client = CloudClient(cloud.url, cloud.tokens["site"])
    async with running_central(config, clock, client.authorize) as central:
        link = await CloudLink.start(client, central, interval=3600)
        try:
            await eventually(lambda: link.status.online)
            assert link.status.card_list_version > 0  # the first round pulled the card list
            async with RawCharger.connect(central.port, "CP-L") as raw:
                charger = Charger(raw, clock)
                await charger.boot()
                tx = await charger.start(1, "ANN01")
                clock.advance(minutes=30)
                await charger.stop(tx, 4200)
            await eventually(lambda: link.status.sent == 1)
            assert await cloud.session_rows() == [("CP-L", tx)]
            await link.report_card_lost("ANN01")
            assert (await central.authorize("ANN01")).status == "Blocked"
        finally:
            await link.stop()


async def test_a_card_lost_in_the_cloud_is_blocked_on_the_charger(
    tmp_path: Path, cloud: Cloud
) -> None:
    """Driver reports the card lost in the app; the next sync pushes it to the charger."""
    clock = FakeClock(NOW)
    config = free_charging_config(tmp_path)
    client = CloudClient(cloud.url, cloud.tokens["site"])
    driver = CloudClient(cloud.url, cloud.tokens["driver"])
    async with running_central(config, clock, client.authorize) as central:
        link = await CloudLink.start(client, central, interval=3600)
        sim = SimChargePoint(
            f"ws://127.0.0.1:{central.port}", "CP-S", "1.6", clock=clock, meter_interval=3600
        )
        try:
            await sim.start()
            await eventually(lambda: sim.local_list.get("ANN01") == "Accepted")
            await driver.request("POST", f"/cards/{cloud.ids['ANN01']}/report-lost", {})
            link.sync.wake()
            await eventually(lambda: sim.local_list.get("ANN01") == "Blocked")
            assert sim.local_list.get("ANN02") == "Accepted"
        finally:
            await sim.close()
            await link.stop()
            await driver.close()
