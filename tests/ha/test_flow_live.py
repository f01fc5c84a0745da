"""Flow steps that try the real thing: a Modbus meter (pymodbus server) read before saving,
a cloud token checked against the real back end; options, reconfigure and reauth."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.eflux.const import (
    CONF_ACCEPT_NEW,
    CONF_CLOUD_TOKEN,
    CONF_CLOUD_URL,
    CONF_FUSE_AMPS,
    CONF_HOST,
    CONF_MARGIN_AMPS,
    CONF_METER,
    CONF_MODBUS_PORT,
    CONF_PHASES,
    CONF_PORT,
    CONF_PROFILE,
    CONF_UNIT_ID,
    DOMAIN,
)
from sim.modbus_meter import ModbusMeterSim
from tests.cloud.conftest import Cloud
from tests.support.ports import LOOPBACK, free_port

GRID = {
    "current_l1": 10.0,
    "current_l2": 4.0,
    "current_l3": 3.0,
    "voltage_l1": 230.0,
    "voltage_l2": 230.0,
    "voltage_l3": 230.0,
    "total_power": 3910.0,
}


@pytest.fixture
async def meter() -> AsyncIterator[tuple[ModbusMeterSim, int]]:
    sim = ModbusMeterSim("sdm630", GRID)
    port = free_port()
    await sim.start_tcp(LOOPBACK, port)
    yield sim, port
    await sim.stop()


async def _at_meter_menu(hass: HomeAssistant) -> str:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    flow_id = str(result["flow_id"])
    await hass.config_entries.flow.async_configure(
        flow_id, {CONF_PORT: free_port(), CONF_ACCEPT_NEW: True}
    )
    await hass.config_entries.flow.async_configure(
        flow_id, {CONF_PHASES: "3", CONF_FUSE_AMPS: 25, CONF_MARGIN_AMPS: 1}
    )
    return flow_id


def _modbus(port: int, unit: int = 1) -> dict[str, object]:
    return {CONF_HOST: LOOPBACK, CONF_MODBUS_PORT: port, CONF_UNIT_ID: unit, CONF_PROFILE: "sdm630"}


async def test_modbus_meter_is_read_before_it_is_saved(
    hass: HomeAssistant, meter: tuple[ModbusMeterSim, int]
) -> None:
    sim, port = meter
    flow_id = await _at_meter_menu(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"next_step_id": "meter_modbus"}
    )
    assert result["step_id"] == "meter_modbus"
    sim.fault = "exception"
    result = await hass.config_entries.flow.async_configure(flow_id, _modbus(port))
    assert result["errors"] == {"base": "meter_failed"}
    assert (
        "sdm630" in str(result["description_placeholders"])
        or result["description_placeholders"]["reason"]
    )
    sim.fault = None
    closed = free_port()
    result = await hass.config_entries.flow.async_configure(flow_id, _modbus(closed))
    assert result["errors"] == {"base": "meter_failed"}
    result = await hass.config_entries.flow.async_configure(flow_id, _modbus(port))
    assert result["step_id"] == "cloud"
    assert sim.requests > 0
    result = await hass.config_entries.flow.async_configure(flow_id, {})
    assert result["options"][CONF_METER] == {"type": "modbus", **_modbus(port)}


async def test_cloud_token_is_checked_live(hass: HomeAssistant, cloud: Cloud) -> None:
    flow_id = await _at_meter_menu(hass)
    await hass.config_entries.flow.async_configure(flow_id, {"next_step_id": "meter_none"})
    for given, error in (
        ({CONF_CLOUD_URL: cloud.url}, "cloud_incomplete"),
        ({CONF_CLOUD_URL: "ftp://x", CONF_CLOUD_TOKEN: "t"}, "invalid_url"),
        ({CONF_CLOUD_URL: cloud.url, CONF_CLOUD_TOKEN: "not-a-token"}, "invalid_auth"),
        (
            {CONF_CLOUD_URL: f"http://127.0.0.1:{free_port()}", CONF_CLOUD_TOKEN: "t"},
            "cloud_unreachable",
        ),
    ):
        result = await hass.config_entries.flow.async_configure(flow_id, given)
        assert result["errors"] == {"base": error}, given
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_CLOUD_URL: cloud.url + "/", CONF_CLOUD_TOKEN: cloud.tokens["site"]}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_CLOUD_URL] == cloud.url
    assert result["data"][CONF_CLOUD_TOKEN] == cloud.tokens["site"]


async def test_options_change_grid_and_meter_and_reload(
    hass: HomeAssistant, loaded: MockConfigEntry, meter: tuple[ModbusMeterSim, int]
) -> None:
    _, port = meter
    result = await hass.config_entries.options.async_init(loaded.entry_id)
    assert result["step_id"] == "init"
    assert result["menu_options"] == ["site_settings", "circuits", "security", "console"]
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "site_settings"}
    )
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_ACCEPT_NEW: False}
    )
    assert result["step_id"] == "grid"
    flow_id = result["flow_id"]
    result = await hass.config_entries.options.async_configure(
        flow_id, {CONF_PHASES: "1", CONF_FUSE_AMPS: 8, CONF_MARGIN_AMPS: 3}
    )
    assert result["errors"] == {CONF_MARGIN_AMPS: "margin_too_large"}
    result = await hass.config_entries.options.async_configure(
        flow_id, {CONF_PHASES: "1", CONF_FUSE_AMPS: 40, CONF_MARGIN_AMPS: 3}
    )
    assert result["type"] is FlowResultType.MENU
    result = await hass.config_entries.options.async_configure(
        flow_id, {"next_step_id": "meter_modbus"}
    )
    result = await hass.config_entries.options.async_configure(flow_id, _modbus(port))
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert loaded.options[CONF_ACCEPT_NEW] is False
    assert loaded.options[CONF_PHASES] == 1
    assert loaded.options["chargers"] == ["CP-1"]  # kept
    site = loaded.runtime_data.site  # the reloaded entry's site
    assert site.config.site.circuits[0].limit_a == (40.0, 0.0, 0.0)
    assert site.config.central.accept_new_chargers is False
    assert [m.kind for m in site.config.meters] == ["modbus_tcp"]


async def test_reconfigure_moves_the_port_and_links_the_cloud(
    hass: HomeAssistant,
    loaded: MockConfigEntry,
    cloud: Cloud,
) -> None:
    import socket

    with socket.socket() as squatter:
        squatter.bind(("0.0.0.0", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        result = await loaded.start_reconfigure_flow(hass)
        assert result["step_id"] == "reconfigure"
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_PORT: taken}
        )
        assert result["errors"] == {CONF_PORT: "port_in_use"}
    new_port = free_port()
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_PORT: new_port, CONF_CLOUD_URL: cloud.url, CONF_CLOUD_TOKEN: "wrong"},
    )
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_PORT: new_port, CONF_CLOUD_URL: cloud.url, CONF_CLOUD_TOKEN: cloud.tokens["site"]},
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert loaded.data == {
        CONF_PORT: new_port,
        CONF_CLOUD_URL: cloud.url,
        CONF_CLOUD_TOKEN: cloud.tokens["site"],
    }
    assert loaded.runtime_data.site.central.port == new_port
    assert loaded.runtime_data.cloud is not None


async def test_reconfigure_keeps_its_own_port(hass: HomeAssistant, loaded: MockConfigEntry) -> None:
    port = loaded.data[CONF_PORT]  # our own central system listens there: not "in use"
    result = await loaded.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_PORT: port})
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()


async def test_reconfigure_to_another_entrys_port_aborts(
    hass: HomeAssistant, loaded: MockConfigEntry
) -> None:
    other = MockConfigEntry(domain=DOMAIN, data={CONF_PORT: 9123})
    other.add_to_hass(hass)
    result = await loaded.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_PORT: 9123})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
