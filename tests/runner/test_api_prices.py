"""`GET/PUT/DELETE /api/prices` and a car's `estimated_cost`, on a real socket and site."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from custom_components.eflux.core.config import parse_site_config
from sim.chargepoint import SimChargePoint
from tests.central.support import eventually

from .support import TOKEN, Api, serving


@pytest_asyncio.fixture
async def api(tmp_path: Path, unused_port: Callable[[], int]) -> AsyncIterator[Api]:
    config = parse_site_config(
        {
            "central": {"host": "127.0.0.1", "port": 0, "free_charging": True},
            "circuits": [{"id": "grid", "limit_a": 25}],
            "meters": [{"name": "p1", "circuit": "grid", "kind": "external"}],
            "chargers": [{"id": "garage", "circuit": "grid", "charge_point": "PRICE-CP"}],
            "api": {"host": "127.0.0.1", "token": TOKEN},
            "timezone": "Europe/Amsterdam",
            "tariff": {"price": 0.30, "zones": [{"hours": "23-7", "price": "0.21"}]},
        },
        base_dir=tmp_path,
    )
    async with serving(config, unused_port()) as served:
        yield served


def next_hour(after: int = 1) -> datetime:
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=after)


def quarters(start: datetime, prices: list[Any]) -> list[dict[str, Any]]:
    return [
        {
            "start": (start + timedelta(minutes=15 * i)).isoformat(),
            "end": (start + timedelta(minutes=15 * (i + 1))).isoformat(),
            "price": price,
        }
        for i, price in enumerate(prices)
    ]


def row(answer: dict[str, Any], start: datetime) -> dict[str, Any]:
    found: dict[str, Any] = next(r for r in answer["prices"] if r["start"] == start.isoformat())
    return found


async def test_the_tariff_then_pushed_prices_then_back(api: Api) -> None:
    status, answer = await api.call("GET", "/api/prices")
    assert status == 200
    assert answer["timezone"] == "Europe/Amsterdam"
    assert len(answer["prices"]) == 48
    assert {r["source"] for r in answer["prices"]} == {"tariff"}
    assert {r["price"] for r in answer["prices"]} == {"0.3", "0.21"}  # decimal text
    first = answer["prices"][0]
    assert datetime.fromisoformat(first["end"]) - datetime.fromisoformat(first["start"]) == (
        timedelta(hours=1)
    )
    # Quarter-hour day-ahead prices as JSON numbers (read as decimals, not floats).
    hour = next_hour()
    status, answer = await api.call("PUT", "/api/prices", quarters(hour, [0.1, 0.2, 0.1, 0.2]))
    assert (status, answer["hours_set"]) == (200, 1)
    assert row(answer, hour) == {
        "start": hour.isoformat(),
        "end": (hour + timedelta(hours=1)).isoformat(),
        "price": "0.15",
        "source": "pushed",
    }
    # The object form, text prices, another hour: the first push is kept.
    later = next_hour(5)
    body = {"prices": [{"start": later.isoformat(), "price": "-0.05"}]}
    status, answer = await api.call("PUT", "/api/prices", body)
    assert status == 200
    assert (row(answer, hour)["price"], row(answer, later)["price"]) == ("0.15", "-0.05")
    status, answer = await api.call("DELETE", "/api/prices")
    assert status == 200
    assert {r["source"] for r in answer["prices"]} == {"tariff"}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"not json", "body is not JSON"),
        (b'[{"start": "2030-01-01T00:00:00Z", "price": NaN}]', "NaN is not a price"),
        (b'{"start": "2030-01-01T00:00:00Z", "price": 1}', "unknown field 'price'"),
        (b'"0.21"', "prices: must be a list"),
        (b"[]", None),  # nothing to set: accepted, nothing changes
        (b'[{"start": "2030-01-01T00:00:00", "price": 1}]', "prices[0].start: needs a UTC offset"),
        (b'[{"start": "2030-01-01T00:00:00Z", "price": "cheap"}]', "prices[0].price: is not"),
        (b'[{"start": "2030-01-01T00:00:00Z", "price": true}]', "prices[0].price: must be"),
        (b'[{"start": "2030-01-01T00:07:00Z", "price": 1}]', "prices[0].start: must be on a"),
        (b'[{"start": "2030-01-01T00:00:00Z", "price": 1}]', "prices: more than 8 days ahead"),
        (b'[{"start": "2030-01-01T00:00:00Z"}]', "prices[0].price: is required"),
    ],
)
async def test_hostile_price_pushes_are_refused_and_change_nothing(
    api: Api, raw: bytes, message: str | None
) -> None:
    before = api.site.controller.price_table()
    status, answer = await api.call("PUT", "/api/prices", raw=raw)
    if message is None:
        assert (status, answer["hours_set"]) == (200, 0)
    else:
        assert (status, answer["error"]) == (400, "bad_request")
        assert message in answer["message"]
    assert api.site.controller.price_table() == before


async def test_overlapping_entries_name_both(api: Api) -> None:
    hour = next_hour()
    body = quarters(hour, [1, 1]) + quarters(hour + timedelta(minutes=15), [2])
    status, answer = await api.call("PUT", "/api/prices", body)
    assert status == 400
    assert "prices[2]: overlaps prices[1]" in answer["message"]


async def test_a_planned_car_shows_its_estimated_cost(api: Api) -> None:
    charger = SimChargePoint(
        f"ws://127.0.0.1:{api.site.central.port}", "PRICE-CP", meter_interval=3600
    )
    await charger.start()
    try:
        await api.call("POST", "/api/chargers/garage/mode", {"mode": "smart"})
        await charger.plug_in("CARD")
        await eventually(lambda: charger.transaction is not None)
        # Every hour up to the departure costs 0.50: 10 kWh x 50 % / 0.9 = 5.56 kWh -> 2.78.
        start = next_hour(0)
        flat = [{"start": (start + timedelta(hours=h)).isoformat(), "price": 0.5} for h in range(4)]
        status, _ = await api.call("PUT", "/api/prices", flat)
        assert status == 200
        departure = (start + timedelta(hours=3)).isoformat()
        body = {"departure_at": departure, "soc_now": 50, "battery_kwh": 10}
        status, _ = await api.call("PUT", "/api/chargers/garage/departure", body)
        assert status == 200

        async def cost() -> Any:
            _, one = await api.call("GET", "/api/chargers/garage")
            return one["estimated_cost"]

        for _ in range(100):
            if await cost() is not None:
                break
            await charger.sample_now()
        assert await cost() == "2.78"
        _, everything = await api.call("GET", "/api/chargers")
        assert json.dumps(everything)  # the whole state stays JSON
    finally:
        await charger.close()
