"""A circuit's own meter in the options (issue 21.1): a Modbus TCP meter (the real pymodbus
simulator) is read before it is kept, lands in the site as site.yaml's `meters:` item of that
circuit, and the running site reads it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.eflux.site_config import (
    CONF_CIRCUIT_METERS,
    CONF_CIRCUITS,
    build_site_config,
)
from sim.modbus_meter import ModbusMeterSim
from tests.support.ports import LOOPBACK, free_port

from .helpers import until

GARAGE = {"id": "garage", "parent": "grid", "limit_a": 20.0, "margin_a": 0.0}
READING = {"current_l1": 7.0, "current_l2": 5.0, "current_l3": 3.0, "total_power": 3450.0}


@pytest.fixture
async def meter() -> AsyncIterator[tuple[ModbusMeterSim, int]]:
    sim = ModbusMeterSim("sdm630", READING)
    port = free_port()
    await sim.start_tcp(LOOPBACK, port)
    yield sim, port
    await sim.stop()


@pytest.fixture
def options(options: dict[str, Any]) -> dict[str, Any]:
    return {**options, CONF_CIRCUITS: [GARAGE]}


async def _menu(hass: HomeAssistant, flow_id: str, step: str) -> dict[str, Any]:
    result = await hass.config_entries.options.async_configure(flow_id, {"next_step_id": step})
    return dict(result)


async def test_a_circuit_meter_is_read_kept_and_polled(
    hass: HomeAssistant,
    loaded: MockConfigEntry,
    meter: tuple[ModbusMeterSim, int],
    config_dir: Path,
) -> None:
    entry = loaded
    sim, port = meter
    result = await hass.config_entries.options.async_init(entry.entry_id)
    flow_id = result["flow_id"]
    await _menu(hass, flow_id, "circuits")
    result = await _menu(hass, flow_id, "circuit_meter")
    assert result["step_id"] == "circuit_meter"
    given = {"circuit": "garage", "host": LOOPBACK, "modbus_port": port, "unit_id": 1}
    result = await hass.config_entries.options.async_configure(flow_id, given)
    assert result["errors"] == {"profile": "profile_missing"}
    closed = free_port()
    result = await hass.config_entries.options.async_configure(
        flow_id, {**given, "modbus_port": closed, "profile": "sdm630"}
    )
    assert result["errors"] == {"base": "meter_failed"}
    assert result["description_placeholders"]["reason"]
    result = await hass.config_entries.options.async_configure(
        flow_id, {**given, "profile": "sdm630"}
    )
    assert result["step_id"] == "circuits", result.get("errors")
    assert sim.requests > 0  # read before it was kept
    old_site = entry.runtime_data.site
    result = await _menu(hass, flow_id, "save")
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.options[CONF_CIRCUIT_METERS]["garage"]["modbus_port"] == port
    built = await hass.async_add_executor_job(
        build_site_config, entry.data, entry.options, config_dir, entry.entry_id
    )
    [garage_meter] = built.meters
    assert (garage_meter.circuit, garage_meter.kind) == ("garage", "modbus_tcp")
    assert next(c for c in built.site.circuits if c.id == "garage").metered

    # The reloaded site polls it.
    await until(
        hass,
        lambda: entry.state is ConfigEntryState.LOADED and entry.runtime_data.site is not old_site,
    )
    polled = sim.requests
    await until(hass, lambda: sim.requests > polled, wait_s=20)

    # Removing the circuit takes its meter with it.
    result = await hass.config_entries.options.async_init(entry.entry_id)
    flow_id = result["flow_id"]
    await _menu(hass, flow_id, "circuits")
    await _menu(hass, flow_id, "remove_circuit")
    result = await hass.config_entries.options.async_configure(flow_id, {"circuit": "garage"})
    assert result["step_id"] == "circuits", result.get("description_placeholders")
    await _menu(hass, flow_id, "save")
    await hass.async_block_till_done()
    assert entry.options[CONF_CIRCUIT_METERS] == {}
    assert entry.options[CONF_CIRCUITS] == []


async def test_a_circuit_meter_from_home_assistant_sensors(
    hass: HomeAssistant, loaded: MockConfigEntry
) -> None:
    """The garage's own current sensors (say a Shelly on its feed) become its meter: the running
    site reads the garage from them."""
    entry = loaded
    attributes = {"device_class": "current", "unit_of_measurement": "A"}
    for phase, amps in (("l1", 7.0), ("l2", 5.0), ("l3", 3.0)):
        hass.states.async_set(f"sensor.garage_{phase}", str(amps), attributes)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    flow_id = result["flow_id"]
    await _menu(hass, flow_id, "circuits")
    await _menu(hass, flow_id, "circuit_meter")
    given = {"circuit": "garage", "current_l1": "sensor.garage_l1"}
    result = await hass.config_entries.options.async_configure(flow_id, given)
    assert result["errors"] == {"base": "phase_sensor_missing"}  # a three-phase site
    result = await hass.config_entries.options.async_configure(
        flow_id, {**given, "current_l2": "sensor.garage_l2", "current_l3": "sensor.garage_l3"}
    )
    assert result["step_id"] == "circuits", result.get("errors")
    assert "sensor.garage_l1" in str(
        (await _menu(hass, flow_id, "circuit_meter"))["description_placeholders"]["meters"]
    )
    result = await hass.config_entries.options.async_configure(
        flow_id,
        {**given, "current_l2": "sensor.garage_l2", "current_l3": "sensor.garage_l3"},
    )
    old_site = entry.runtime_data.site
    await _menu(hass, flow_id, "save")
    await hass.async_block_till_done()
    await until(
        hass,
        lambda: entry.state is ConfigEntryState.LOADED and entry.runtime_data.site is not old_site,
    )

    def garage() -> Any:
        meters = entry.runtime_data.site.state().meters
        return next((m for m in meters if m.circuit == "garage"), None)

    hass.states.async_set("sensor.garage_l1", "9.5", attributes)
    await until(hass, lambda: garage() is not None and garage().current_a[0] == 9.5)
    assert garage().kind == "external"
    assert garage().current_a == (9.5, 5.0, 3.0)
