"""Who holds a card, for the reports and the card list (issue 17): site.yaml's resident and
apartment, else the driver a card names (local API or the cloud's card vehicle); a session of
such a card reports under that name, and GET /api/cards shows both."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from custom_components.eflux.core.config import parse_site_config
from sim.chargepoint import Car, SimChargePoint
from tests.central.support import eventually
from tests.runner.support import TOKEN, serving

from .server import local_month, site_yaml


async def test_a_card_profile_names_the_resident_when_site_yaml_does_not(
    tmp_path: Path, unused_port: Callable[[], int]
) -> None:
    data = site_yaml(tmp_path)
    data["api"] = {"host": "127.0.0.1", "token": TOKEN}
    data["central"]["free_charging"] = True
    config = parse_site_config(data, base_dir=tmp_path)
    async with serving(config, unused_port()) as api:
        status, _ = await api.call("PUT", "/api/cards/CARD-CARLA/vehicle", {"driver": "Carla"})
        assert status == 200
        # A driver named in the card profile does not replace site.yaml's resident.
        status, _ = await api.call("PUT", "/api/cards/CARD-ANN/vehicle", {"driver": "Someone"})
        assert status == 200
        sim = SimChargePoint(
            f"ws://127.0.0.1:{api.site.central.port}", "CON-A", reconnect_delay=0.05,
            meter_interval=3600, car=Car(soc=40.0),
        )  # fmt: skip
        await sim.start()
        try:
            await eventually(sim.connected.is_set)
            for card in ("CARD-CARLA", "CARD-ANN"):
                await sim.plug_in(card)
                await eventually(lambda: api.site.state().chargers["garage"].transaction_id)
                sim.register_wh += 2000
                await sim.sample_now()
                await sim.unplug()
                await eventually(lambda: api.site.state().chargers["garage"].transaction_id is None)
        finally:
            await sim.close()
        status, body = await api.call("GET", "/api/sessions")
        assert status == 200
        by_card = {s["card"]: s for s in body["sessions"]}
        assert (by_card["CARD-CARLA"]["resident"], by_card["CARD-CARLA"]["apartment"]) == (
            "Carla",
            None,
        )
        assert (by_card["CARD-ANN"]["resident"], by_card["CARD-ANN"]["apartment"]) == (
            "Ann de Vries",
            "1A",
        )
        # Id tags are case-insensitive (OCPP CiString): one card, however it is typed.
        status, lower = await api.call("GET", "/api/sessions?card=card-carla")
        assert [x["card"] for x in lower["sessions"]] == ["CARD-CARLA"]
        month = local_month(body["sessions"][0]["stopped_at"])
        status, report = await api.call("GET", f"/api/reports/monthly?month={month}")
        assert {c["card"]: c["resident"] for c in report["cards"]} == {
            "CARD-CARLA": "Carla",
            "CARD-ANN": "Ann de Vries",
        }
        assert report["totals"]["energy_kwh"] == "4.000"
        status, cards = await api.call("GET", "/api/cards")
        listed = {c["uid"]: c for c in cards["cards"]}
        assert (listed["CARD-BOB"]["resident"], listed["CARD-BOB"]["apartment"]) == (
            "Bob Jansen",
            "2B",
        )
