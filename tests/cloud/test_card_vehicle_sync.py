"""A card's driver and car set in the cloud reach the site with the card delta and survive a
restart of the site (kept beside the card list, as a restart pulls only what changed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from custom_components.eflux.core.cloud import CloudClient
from custom_components.eflux.core.config import parse_site_config
from custom_components.eflux.core.runtime import LocalSite
from tests.central.support import eventually

from .conftest import Cloud

CAR = {
    "name": "ID.3",
    "battery_kwh": 58,
    "phases": 3,
    "target_soc": 80,
    "departures": {"mon": "07:30"},
}


def site_config(tmp_path: Path) -> Any:
    return parse_site_config(
        {
            "central": {"host": "127.0.0.1", "port": 0, "db_path": "site.sqlite"},
            "circuits": [{"id": "grid", "limit_a": 25}],
            "chargers": [{"id": "CP-V", "circuit": "grid"}],
            "api": {"enabled": False},
        },
        base_dir=tmp_path,
    )


async def connected(tmp_path: Path, cloud: Cloud) -> tuple[LocalSite, Any]:
    site = LocalSite(site_config(tmp_path))
    await site.start()
    link = await site.connect_cloud(CloudClient(cloud.url, cloud.tokens["site"]))
    return site, link


async def test_a_cards_vehicle_set_in_the_cloud_reaches_the_site_and_stays(
    tmp_path: Path, cloud: Cloud
) -> None:
    driver = CloudClient(cloud.url, cloud.tokens["driver"])
    card = cloud.ids["ANN01"]
    site, link = await connected(tmp_path, cloud)
    try:
        await eventually(lambda: link.status.online)
        assert site.card_profile("ANN01") is None
        await driver.request("PUT", f"/cards/{card}/vehicle", {"driver": "Ann", "car": CAR})
        link.sync.wake()
        await eventually(lambda: site.card_profile("ANN01") is not None)
        profile = site.card_profile("ANN01")
        assert profile is not None
        assert profile.driver == "Ann"
        assert profile.car is not None
        assert (profile.car.battery_kwh, profile.car.target_soc) == (58, 80)
        assert profile.car.departures == {0: "07:30"}
        # A car with only a battery (the cloud sends the other fields as null or empty).
        await driver.request(
            "PUT", f"/cards/{cloud.ids['ANN02']}/vehicle", {"car": {"battery_kwh": 40}}
        )
        link.sync.wake()
        await eventually(lambda: site.card_profile("ANN02") is not None)
    finally:
        await link.stop()
        await site.stop()
    # A restart pulls only what changed since: the vehicle comes from beside the card list.
    site, link = await connected(tmp_path, cloud)
    try:
        await eventually(lambda: site.card_profile("ANN01") is not None)
        second = site.card_profile("ANN02")
        assert second is not None
        assert second.car is not None
        assert (second.driver, second.car.battery_kwh, second.car.name) == ("", 40, "")
    finally:
        await link.stop()
        await site.stop()
        await driver.close()
