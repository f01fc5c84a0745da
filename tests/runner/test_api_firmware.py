"""POST /api/chargers/{id}/firmware against a running site and a simulated charger."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest_asyncio

from custom_components.eflux.core.config import parse_site_config
from sim.chargepoint import SimChargePoint
from sim.chargepoint.firmware import version_of
from tests.central.support import eventually
from tests.runner.support import TOKEN, Api, serving


@pytest_asyncio.fixture
async def api(tmp_path: Path, unused_port: Callable[[], int]) -> AsyncIterator[Api]:
    config = parse_site_config(
        {
            "central": {"host": "127.0.0.1", "port": 0, "free_charging": True},
            "circuits": [{"id": "grid", "limit_a": 25}],
            "meters": [{"name": "p1", "circuit": "grid", "kind": "external"}],
            "chargers": [
                {"id": "drive", "circuit": "grid", "charge_point": "FW-API"},
                {"id": "away", "circuit": "grid", "charge_point": "FW-OFFLINE"},
            ],
            "api": {"host": "127.0.0.1", "token": TOKEN},
        },
        base_dir=tmp_path,
    )
    async with serving(config, unused_port()) as served:
        yield served


async def test_firmware_route(api: Api, tmp_path: Path) -> None:
    image = tmp_path / "fw.bin"
    image.write_bytes(b"new firmware image")
    sim = SimChargePoint(
        f"ws://127.0.0.1:{api.site.central.port}", "FW-API", "2.0.1", reconnect_delay=0.05
    )
    await sim.start()
    try:
        status, answer = await api.call(
            "POST", "/api/chargers/drive/firmware", {"path": str(image)}
        )
        assert status == 202, answer
        firmware = answer["firmware"]
        assert (firmware["status"], firmware["file_name"], firmware["signed"]) == (
            "Requested",
            "fw.bin",
            False,
        )
        assert firmware["version_before"] == "sim-1.0"
        await eventually(
            lambda: (
                api.site.central.charge_points()["FW-API"].firmware
                == version_of(b"new firmware image")
            )
        )
    finally:
        await sim.close()


async def test_firmware_route_errors(api: Api, tmp_path: Path) -> None:
    image = tmp_path / "fw.bin"
    image.write_bytes(b"x")
    cases = [
        ("drive", {}, 400, "bad_request"),
        ("drive", {"path": "relative/fw.bin"}, 400, "bad_request"),
        ("drive", {"path": str(image), "colour": "red"}, 400, "bad_request"),
        ("drive", {"path": str(image), "signature": "abc"}, 400, "bad_request"),
        ("nope", {"path": str(image)}, 404, "not_found"),
        ("away", {"path": str(image)}, 409, "charger_offline"),
    ]
    for charger, body, status, code in cases:
        got, answer = await api.call("POST", f"/api/chargers/{charger}/firmware", body)
        assert (got, answer["error"]) == (status, code), (charger, body, answer)
