"""E-Flux Local in a real `hass` process: an entry made through the config-flow REST API, the
charger's entities seen over the websocket API."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.ports import free_port

from .real_hass import HassProcess, SimThread


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

    # A charger connects to the integration's port; it becomes a device with entities.
    charger = SimThread(f"ws://127.0.0.1:{ocpp_port}", "CP-REAL")
    charger.start()
    try:
        deadline = time.monotonic() + 60
        status = None
        while time.monotonic() < deadline and status is None:
            [states] = real_hass.ws({"type": "get_states"})
            status = next((s for s in states if s["entity_id"] == "sensor.cp_real_status"), None)
            time.sleep(0.5)
        assert status is not None, real_hass.log()
        [entities, devices] = real_hass.ws(
            {"type": "config/entity_registry/list"}, {"type": "config/device_registry/list"}
        )
        mine = {e["entity_id"] for e in entities if e["platform"] == "eflux"}
        assert {
            "sensor.cp_real_power",
            "sensor.cp_real_total_energy",
            "number.cp_real_maximum_current",
            "select.cp_real_charging_mode",
            "switch.cp_real_available",
            "binary_sensor.cp_real_online",
            "datetime.cp_real_departure",
            "button.cp_real_unlock_connector",
            "sensor.e_flux_site_balancer_status",
        } <= mine
        [device] = [d for d in devices if d["serial_number"] == "CP-REAL"]
        assert (device["manufacturer"], device["model"]) == ("Alfen", "Eve Single Pro")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and status["state"] != "available":
            time.sleep(0.5)
            [states] = real_hass.ws({"type": "get_states"})
            status = next(s for s in states if s["entity_id"] == "sensor.cp_real_status")
        assert status["state"] == "available"
    finally:
        charger.stop()
