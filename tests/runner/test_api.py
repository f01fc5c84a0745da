"""The local HTTP API against a running site, real chargers (simulated) and a real socket."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from custom_components.eflux.core.config import parse_site_config
from custom_components.eflux.core.runner.api import MAX_BODY_BYTES
from sim.chargepoint import SimChargePoint
from tests.central.support import eventually
from tests.runner.support import TOKEN, Api, serving


@pytest_asyncio.fixture
async def api(tmp_path: Path, unused_port: Callable[[], int]) -> AsyncIterator[Api]:
    config = parse_site_config(
        {
            "central": {"host": "127.0.0.1", "port": 0, "free_charging": True},
            "circuits": [{"id": "grid", "limit_a": 25}],
            "meters": [{"name": "p1", "circuit": "grid", "kind": "external"}],
            "chargers": [{"id": "garage", "circuit": "grid", "charge_point": "API-CP"}],
            "api": {"host": "127.0.0.1", "token": TOKEN},
        },
        base_dir=tmp_path,
    )
    async with serving(config, unused_port()) as served:
        yield served


@pytest_asyncio.fixture
async def sim(api: Api) -> AsyncIterator[SimChargePoint]:
    charger = SimChargePoint(
        f"ws://127.0.0.1:{api.site.central.port}",
        "API-CP",
        reconnect_delay=0.05,
        meter_interval=3600,
    )
    await charger.start()
    yield charger
    await charger.close()


async def test_read_the_site_and_its_chargers(api: Api, sim: SimChargePoint) -> None:
    status, site = await api.call("GET", "/api/site")
    assert status == 200
    assert site["fuse_a"] == [25.0, 25.0, 25.0]
    assert site["meters"][0]["name"] == "p1"
    assert "chargers" not in site
    status, listing = await api.call("GET", "/api/chargers")
    assert [c["id"] for c in listing["chargers"]] == ["garage"]
    status, one = await api.call("GET", "/api/chargers/garage")
    assert (status, one["charge_point_id"], one["online"]) == (200, "API-CP", True)


async def test_commands_change_the_controller(api: Api, sim: SimChargePoint) -> None:
    status, one = await api.call("POST", "/api/chargers/garage/mode", {"mode": "pv"})
    assert (status, one["mode"], one["mode_setting"]) == (200, "pv", "pv")
    status, one = await api.call("POST", "/api/chargers/garage/mode", {"mode": None})
    assert (status, one["mode"], one["mode_setting"]) == (200, "dynamic", None)
    status, one = await api.call("POST", "/api/chargers/garage/max_current", {"amps": 10})
    assert (status, one["max_current_a"]) == (200, 10.0)
    status, one = await api.call("POST", "/api/chargers/garage/target_soc", {"soc": 80})
    assert (status, one["target_soc"]) == (200, 80.0)
    status, one = await api.call(
        "PUT",
        "/api/chargers/garage/departure",
        {
            "departure_at": "2030-01-01T07:00:00+01:00",
            "soc_now": 40,
            "battery_kwh": 50,
            "target_soc": 0,
        },
    )
    assert (status, one["departure_at"]) == (200, "2030-01-01T06:00:00+00:00")
    stored = api.site.controller.departures.requests["garage"]
    assert (stored.soc_now, stored.battery_kwh, stored.target_soc) == (40.0, 50.0, 0.0)
    status, one = await api.call("DELETE", "/api/chargers/garage/departure")
    assert (status, one["departure_at"]) == (200, None)


async def test_start_stop_and_any_ocpp_message(api: Api, sim: SimChargePoint) -> None:
    await sim.plug_in()
    status, answer = await api.call("POST", "/api/chargers/garage/start", {"id_tag": "TAG-1"})
    assert (status, answer) == (200, {"status": "Accepted"})
    await eventually(lambda: sim.transaction is not None and sim.transaction.id is not None)
    status, answer = await api.call("POST", "/api/chargers/garage/stop")
    assert (status, answer) == (200, {"status": "Accepted"})
    status, answer = await api.call(
        "POST", "/api/chargers/garage/ocpp/GetConfiguration", {"key": ["HeartbeatInterval"]}
    )
    assert status == 200
    assert answer["response"]["configurationKey"][0]["key"] == "HeartbeatInterval"
    assert sim.calls("GetConfiguration")


@pytest.mark.parametrize(
    ("method", "path", "body", "raw", "token", "status", "code"),
    [
        ("GET", "/api/site", None, None, None, 401, "unauthorized"),
        ("GET", "/api/site", None, None, "wrong-token-wrong-token", 401, "unauthorized"),
        ("GET", "/api/chargers/nope", None, None, TOKEN, 404, "not_found"),
        ("GET", "/api/nothing", None, None, TOKEN, 404, "not_found"),
        ("POST", "/api/chargers/nope/mode", {"mode": "pv"}, None, TOKEN, 404, "not_found"),
        ("POST", "/api/chargers/garage/mode", {"mode": "warp"}, None, TOKEN, 400, "bad_request"),
        ("POST", "/api/chargers/garage/mode", {"mode": 3}, None, TOKEN, 400, "bad_request"),
        ("POST", "/api/chargers/garage/mode", None, b"{not json", TOKEN, 400, "bad_request"),
        ("POST", "/api/chargers/garage/mode", None, b"\xff\xfe", TOKEN, 400, "bad_request"),
        ("POST", "/api/chargers/garage/mode", [1], None, TOKEN, 400, "bad_request"),
        ("POST", "/api/chargers/garage/max_current", {"amps": -1}, None, TOKEN, 400, "bad_request"),
        (
            "POST",
            "/api/chargers/garage/max_current",
            {"amps": "9"},
            None,
            TOKEN,
            400,
            "bad_request",
        ),
        (
            "POST",
            "/api/chargers/garage/max_current",
            None,
            b'{"amps": NaN}',
            TOKEN,
            400,
            "bad_request",
        ),
        ("POST", "/api/chargers/garage/target_soc", {"soc": 101}, None, TOKEN, 400, "bad_request"),
        (
            "PUT",
            "/api/chargers/garage/departure",
            {"departure_at": "tomorrow"},
            None,
            TOKEN,
            400,
            "bad_request",
        ),
        (
            "PUT",
            "/api/chargers/garage/departure",
            {"departure_at": "2030-01-01T07:00:00"},
            None,
            TOKEN,
            400,
            "bad_request",
        ),
        (
            "PUT",
            "/api/chargers/garage/departure",
            {"departure_at": "2030-01-01T07:00:00Z", "colour": "red"},
            None,
            TOKEN,
            400,
            "bad_request",
        ),
        ("POST", "/api/chargers/garage/ocpp/Get%20Config", {}, None, TOKEN, 400, "bad_request"),
        (
            "POST",
            "/api/chargers/garage/ocpp/Reset",
            {"type": "Sideways"},
            None,
            TOKEN,
            400,
            "bad_request",
        ),
        ("POST", "/api/chargers/garage/stop", {}, None, TOKEN, 409, "no_transaction"),
        (
            "POST",
            "/api/chargers/garage/mode",
            None,
            b"x" * (MAX_BODY_BYTES + 1),
            TOKEN,
            413,
            "too_large",
        ),
    ],
)
async def test_hostile_requests_get_clear_errors_and_change_nothing(
    api: Api,
    sim: SimChargePoint,
    method: str,
    path: str,
    body: Any,
    raw: bytes | None,
    token: str | None,
    status: int,
    code: str,
) -> None:
    before = api.site.controller.user_settings("garage")
    got, answer = await api.call(method, path, body, raw=raw, token=token)
    assert (got, answer["error"]) == (status, code)
    assert answer["message"]
    assert api.site.controller.user_settings("garage") == before
    assert api.site.controller.departures.requests == {}


async def test_an_offline_charger_is_a_409(api: Api) -> None:
    status, answer = await api.call("POST", "/api/chargers/garage/ocpp/Heartbeat", {})
    assert (status, answer["error"]) == (409, "charger_offline")


async def test_events_stream_pushes_the_state_on_connect_and_on_change(
    api: Api, sim: SimChargePoint
) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with api.http.get(api.base + "/api/events", headers=headers) as response:
        assert response.headers["Content-Type"] == "text/event-stream"
        first = await _next_event(response)
        assert first["chargers"]["garage"]["mode"] == "dynamic"
        await api.call("POST", "/api/chargers/garage/mode", {"mode": "fast"})
        while True:
            event = await _next_event(response)
            if event["chargers"]["garage"]["mode"] == "fast":
                break
        assert "fuse_a" in event["site"]


async def _next_event(response: aiohttp.ClientResponse) -> dict[str, Any]:
    name = None
    while True:
        line = (await asyncio.wait_for(response.content.readline(), 5)).decode().strip()
        if line.startswith("event: "):
            name = line.removeprefix("event: ")
        elif line.startswith("data: ") and name == "site":
            data: dict[str, Any] = json.loads(line.removeprefix("data: "))
            return data
