"""E-Flux Local in a real `hass` process: an entry made through the config-flow REST API, the
charger's entities seen over the websocket API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.ports import free_port

from .real_hass import HassProcess


@pytest.fixture
def real_hass(tmp_path: Path) -> Iterator[HassProcess]:
    process = HassProcess(tmp_path / "config")
    process.config_dir.mkdir()
    try:
        process.start()
        process.onboard()
        yield process
    finally:
        process.stop()


def test_entry_made_over_rest_and_entities_over_websocket(real_hass: HassProcess) -> None:
    ocpp_port = free_port()
    flow = real_hass.post("/api/config/config_entries/flow", {"handler": "eflux"})
    assert flow["step_id"] == "user"
    flow_url = f"/api/config/config_entries/flow/{flow['flow_id']}"
    flow = real_hass.post(flow_url, {"port": ocpp_port, "accept_new_chargers": True})
    assert flow["step_id"] == "grid", flow
    flow = real_hass.post(flow_url, {"phases": "3", "fuse_amps": 25, "safety_margin_amps": 2})
    assert flow["type"] == "menu"
    flow = real_hass.post(flow_url, {"next_step_id": "meter_none"})
    assert flow["step_id"] == "cloud"
    flow = real_hass.post(flow_url, {})
    assert flow["type"] == "create_entry", flow
    [entries] = real_hass.ws({"type": "config_entries/get", "domain": "eflux"})
    assert [e["state"] for e in entries] == ["loaded"], real_hass.log()
