"""Config flow: port, grid, meter source, cloud account; each error and how it is corrected."""

from __future__ import annotations

import socket

from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.eflux.const import (
    CONF_ACCEPT_NEW,
    CONF_CURRENT_L1,
    CONF_CURRENT_L2,
    CONF_CURRENT_L3,
    CONF_FUSE_AMPS,
    CONF_MARGIN_AMPS,
    CONF_METER,
    CONF_PHASES,
    CONF_PORT,
    DOMAIN,
)
from tests.support.ports import free_port


async def _to_meter_menu(hass: HomeAssistant, port: int, phases: str = "3") -> str:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PORT: port, CONF_ACCEPT_NEW: True}
    )
    assert result["step_id"] == "grid"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PHASES: phases, CONF_FUSE_AMPS: 25, CONF_MARGIN_AMPS: 2}
    )
    assert result["type"] is FlowResultType.MENU
    return str(result["flow_id"])


async def test_without_meter_or_cloud_an_entry_is_made(hass: HomeAssistant) -> None:
    port = free_port()
    flow_id = await _to_meter_menu(hass, port)
    result = await hass.config_entries.flow.async_configure(flow_id, {"next_step_id": "meter_none"})
    assert result["step_id"] == "cloud"
    result = await hass.config_entries.flow.async_configure(flow_id, {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == f"E-Flux Local (port {port})"
    assert result["data"] == {CONF_PORT: port}
    assert result["options"] == {
        CONF_ACCEPT_NEW: True,
        CONF_PHASES: 3,
        CONF_FUSE_AMPS: 25,
        CONF_MARGIN_AMPS: 2,
        CONF_METER: {"type": "none"},
    }


async def test_port_in_use_is_an_error_and_can_be_corrected(hass: HomeAssistant) -> None:
    with socket.socket() as squatter:
        squatter.bind(("0.0.0.0", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_PORT: taken, CONF_ACCEPT_NEW: False}
        )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_PORT: "port_in_use"}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PORT: free_port(), CONF_ACCEPT_NEW: False}
    )
    assert result["step_id"] == "grid"


async def test_the_same_port_twice_aborts(hass: HomeAssistant) -> None:
    MockConfigEntry(domain=DOMAIN, data={CONF_PORT: 9000}).add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PORT: 9000, CONF_ACCEPT_NEW: True}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_a_margin_that_leaves_no_room_for_a_car_is_refused(hass: HomeAssistant) -> None:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PORT: free_port(), CONF_ACCEPT_NEW: True}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PHASES: "1", CONF_FUSE_AMPS: 10, CONF_MARGIN_AMPS: 5}
    )
    assert result["errors"] == {CONF_MARGIN_AMPS: "margin_too_large"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PHASES: "1", CONF_FUSE_AMPS: 10, CONF_MARGIN_AMPS: 4}
    )
    assert result["type"] is FlowResultType.MENU


async def test_ha_sensors_per_phase(hass: HomeAssistant) -> None:
    flow_id = await _to_meter_menu(hass, free_port())
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"next_step_id": "meter_sensors"}
    )
    assert result["step_id"] == "meter_sensors"
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_CURRENT_L1: "sensor.l1_current"}
    )
    assert result["errors"] == {"base": "phase_sensor_missing"}
    phases = {
        CONF_CURRENT_L1: "sensor.l1_current",
        CONF_CURRENT_L2: "sensor.l2_current",
        CONF_CURRENT_L3: "sensor.l3_current",
    }
    result = await hass.config_entries.flow.async_configure(flow_id, phases)
    assert result["step_id"] == "cloud"
    result = await hass.config_entries.flow.async_configure(flow_id, {})
    assert result["options"][CONF_METER] == {"type": "sensors", **phases}


async def test_one_phase_needs_only_l1(hass: HomeAssistant) -> None:
    flow_id = await _to_meter_menu(hass, free_port(), phases="1")
    await hass.config_entries.flow.async_configure(flow_id, {"next_step_id": "meter_sensors"})
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_CURRENT_L1: "sensor.current"}
    )
    assert result["step_id"] == "cloud"


async def test_mqtt_needs_the_mqtt_integration(hass: HomeAssistant) -> None:
    flow_id = await _to_meter_menu(hass, free_port())
    result = await hass.config_entries.flow.async_configure(flow_id, {"next_step_id": "meter_mqtt"})
    # The meter menu again, saying why; nothing entered so far is lost.
    assert result["type"] is FlowResultType.MENU
    assert result["step_id"] == "mqtt_not_configured"
    assert result["menu_options"] == ["meter_modbus", "meter_mqtt", "meter_sensors", "meter_none"]
    result = await hass.config_entries.flow.async_configure(flow_id, {"next_step_id": "meter_none"})
    assert result["step_id"] == "cloud"
    result = await hass.config_entries.flow.async_configure(flow_id, {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["options"][CONF_FUSE_AMPS] == 25
    assert result["options"][CONF_METER] == {"type": "none"}
