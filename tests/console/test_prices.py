"""The report's costs follow the site's time-of-use prices (issue 17): prices pushed for the
hours a session ran override the tariff of site.yaml."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from custom_components.eflux.core.config import parse_site_config
from sim.chargepoint import Car, SimChargePoint
from tests.central.support import eventually
from tests.runner.support import TOKEN, serving

from .server import local_month, site_yaml


async def test_pushed_prices_price_the_session_instead_of_the_tariff(
    tmp_path: Path, unused_port: Callable[[], int]
) -> None:
    data = site_yaml(tmp_path)  # tariff 0.30
    data["api"] = {"host": "127.0.0.1", "token": TOKEN}
    config = parse_site_config(data, base_dir=tmp_path)
    async with serving(config, unused_port()) as api:
        hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        prices = [
            {"start": (hour + timedelta(hours=h)).isoformat(), "price": "0.55"} for h in (-1, 0, 1)
        ]
        status, _ = await api.call("PUT", "/api/prices", prices)
        assert status == 200
        sim = SimChargePoint(
            f"ws://127.0.0.1:{api.site.central.port}",
            "CON-A",
            reconnect_delay=0.05,
            meter_interval=3600,
            car=Car(soc=40.0),
        )
        await sim.start()
        try:
            await eventually(sim.connected.is_set)
            await sim.plug_in("CARD-ANN")
            await eventually(lambda: api.site.state().chargers["garage"].transaction_id)
            sim.register_wh += 4000
            await sim.sample_now()
            await sim.unplug()
            await eventually(lambda: api.site.state().chargers["garage"].transaction_id is None)
        finally:
            await sim.close()
        status, body = await api.call("GET", "/api/sessions?card=CARD-ANN")
        assert status == 200
        [session] = body["sessions"]
        assert session["energy_kwh"] == "4.000"
        assert session["cost"] == "2.20"  # 4 kWh x 0.55, not x 0.30
        month = local_month(session["stopped_at"])
        status, report = await api.call("GET", f"/api/reports/monthly?month={month}")
        assert report["totals"]["cost"] == "2.20"
