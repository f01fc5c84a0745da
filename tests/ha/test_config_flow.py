"""The first config-flow step: central-system port and grid fuse."""

from __future__ import annotations

import socket

from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.eflux.const import CONF_FUSE_AMPS, CONF_PORT, DOMAIN
from tests.support.ports import free_port


async def test_user_step_creates_an_entry_that_sets_up_and_unloads(hass: HomeAssistant) -> None:
    port = free_port()
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PORT: port, CONF_FUSE_AMPS: 35}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {CONF_PORT: port, CONF_FUSE_AMPS: 35}
    await hass.async_block_till_done()

    entry = hass.config_entries.async_entries(DOMAIN)[0]
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.fuse_amps == 35

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.NOT_LOADED


async def test_port_in_use_is_an_error_and_can_be_corrected(hass: HomeAssistant) -> None:
    with socket.socket() as squatter:
        squatter.bind(("0.0.0.0", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        result = await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": SOURCE_USER}
        )
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_PORT: taken, CONF_FUSE_AMPS: 25}
        )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_PORT: "port_in_use"}

    free = free_port()
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PORT: free, CONF_FUSE_AMPS: 25}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()


async def test_the_same_port_twice_aborts(hass: HomeAssistant) -> None:
    MockConfigEntry(domain=DOMAIN, data={CONF_PORT: 9000, CONF_FUSE_AMPS: 25}).add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PORT: 9000, CONF_FUSE_AMPS: 25}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
