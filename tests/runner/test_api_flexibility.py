"""A charger's `flexibility` price on the local API: configured in site.yaml, shown in the answer
to `PUT /api/chargers/{id}/departure` and in `GET /api/chargers/{id}`, on a real socket and site."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest_asyncio

from custom_components.eflux.core.config import parse_site_config
from sim.chargepoint import SimChargePoint
from tests.central.support import eventually

from .support import TOKEN, Api, serving

FLEX = {
    "price_per_kwh": "0.30",
    "price_per_hour": "0.50",
    "discounts": [{"min_stay": "4h", "percent": 10}, {"min_stay": "8h", "percent": 25}],
}


@pytest_asyncio.fixture
async def api(tmp_path: Path, unused_port: Callable[[], int]) -> AsyncIterator[Api]:
    config = parse_site_config(
        {
            "central": {"host": "127.0.0.1", "port": 0, "free_charging": True},
            "circuits": [{"id": "grid", "limit_a": 25}],
            "meters": [{"name": "p1", "circuit": "grid", "kind": "external"}],
            "chargers": [
                {"id": "garage", "circuit": "grid", "charge_point": "FLEX-CP", "flexibility": FLEX},
                {"id": "street", "circuit": "grid", "charge_point": "PLAIN-CP"},
            ],
            "api": {"host": "127.0.0.1", "token": TOKEN},
        },
        base_dir=tmp_path,
    )
    async with serving(config, unused_port()) as served:
        yield served


async def plugged(api: Api, cp: str) -> tuple[SimChargePoint, datetime]:
    charger = SimChargePoint(f"ws://127.0.0.1:{api.site.central.port}", cp, meter_interval=3600)
    await charger.start()
    await charger.plug_in("CARD")

    def session() -> Any:
        state = api.site.central.charge_points().get(cp)
        connector = state.connectors.get(1) if state is not None else None
        return connector.transaction if connector is not None else None

    await eventually(lambda: session() is not None)
    started: datetime = session().started_at
    return charger, started


async def test_the_departure_answer_carries_the_stays_price(api: Api) -> None:
    charger, started = await plugged(api, "FLEX-CP")
    try:
        status, before = await api.call("GET", "/api/chargers/garage")
        assert (status, before["flexibility"]) == (200, None)  # no departure yet
        departure = started + timedelta(hours=8)
        body = {"departure_at": departure.isoformat(), "soc_now": 50, "battery_kwh": 10}
        status, answer = await api.call("PUT", "/api/chargers/garage/departure", body)
        assert status == 200
        price = answer["flexibility"]
        assert price is not None  # planned before answering: the app shows it at once
        assert price["since"] == started.isoformat()
        assert datetime.fromisoformat(price["departure_at"]) == departure
        assert (price["stay_h"], price["percent_off"]) == ("8.00", "25")
        assert (price["price_per_kwh"], price["price_per_hour"]) == ("0.225", "0.375")
        # 10 kWh from 50 to 100 % at 90 %: 5.556 kWh, plus what the car already drew.
        energy = Decimal(price["energy_kwh"])
        assert Decimal("5.556") <= energy < Decimal(6)
        exact = (energy * Decimal("0.30") + 8 * Decimal("0.50")) * Decimal("0.75")
        assert price["total"] == str(exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
        _, again = await api.call("GET", "/api/chargers/garage")
        assert again["flexibility"]["percent_off"] == "25"
        # A stay of 5 h reaches the first step only.
        body["departure_at"] = (started + timedelta(hours=5)).isoformat()
        _, shorter = await api.call("PUT", "/api/chargers/garage/departure", body)
        assert (shorter["flexibility"]["stay_h"], shorter["flexibility"]["percent_off"]) == (
            "5.00",
            "10",
        )
        assert shorter["flexibility"]["price_per_kwh"] == "0.27"  # not 0.2700
        status, cleared = await api.call("DELETE", "/api/chargers/garage/departure")
        assert (status, cleared["flexibility"]) == (200, None)
    finally:
        await charger.close()


async def test_a_charger_without_a_flexibility_price_shows_null(api: Api) -> None:
    charger, started = await plugged(api, "PLAIN-CP")
    try:
        departure = (started + timedelta(hours=9)).isoformat()
        body = {"departure_at": departure, "soc_now": 50, "battery_kwh": 10}
        status, answer = await api.call("PUT", "/api/chargers/street/departure", body)
        assert (status, answer["flexibility"]) == (200, None)
        assert answer["departure_at"] is not None
    finally:
        await charger.close()
