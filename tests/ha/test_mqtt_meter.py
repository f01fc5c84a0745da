"""A meter on MQTT through Home Assistant's own MQTT integration, on a real Mosquitto broker."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from homeassistant.components import mqtt
from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.eflux.const import (
    CONF_ACCEPT_NEW,
    CONF_FUSE_AMPS,
    CONF_MARGIN_AMPS,
    CONF_METER,
    CONF_PHASES,
    CONF_PORT,
    CONF_PROFILE,
    CONF_TOPIC,
    DOMAIN,
)
from tests.support.mosquitto import MosquittoBroker
from tests.support.ports import free_port

from .helpers import until

SHELLY = {"type": "mqtt", CONF_PROFILE: "shelly_pro_3em", CONF_TOPIC: "shellypro3em-home"}
EM = {
    "a_current": 10.5, "b_current": 3.0, "c_current": 2.5,
    "a_voltage": 231.0, "b_voltage": 230.0, "c_voltage": 229.0,
    "a_act_power": 2400.0, "b_act_power": 690.0, "c_act_power": -570.0,
    "total_act_power": 2520.0,
}  # fmt: skip


@pytest.fixture
async def ha_mqtt(
    hass: HomeAssistant, private_mqtt_broker: Callable[..., MosquittoBroker], config_dir: Path
) -> AsyncIterator[None]:
    (config_dir / "configuration.yaml").write_text("")  # HA's MQTT reads it at setup
    # A broker of this test's own: the session one starts before HA's plugin allows sockets.
    mqtt_broker = private_mqtt_broker()
    entry = MockConfigEntry(
        domain="mqtt", data={"broker": mqtt_broker.host, "port": mqtt_broker.port}
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert await mqtt.async_wait_for_mqtt_client(hass)
    yield
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


async def test_flow_offers_mqtt_once_the_integration_runs(
    hass: HomeAssistant, ha_mqtt: None
) -> None:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    flow_id = result["flow_id"]
    await hass.config_entries.flow.async_configure(
        flow_id, {CONF_PORT: free_port(), CONF_ACCEPT_NEW: True}
    )
    await hass.config_entries.flow.async_configure(
        flow_id, {CONF_PHASES: "3", CONF_FUSE_AMPS: 25, CONF_MARGIN_AMPS: 1}
    )
    result = await hass.config_entries.flow.async_configure(flow_id, {"next_step_id": "meter_mqtt"})
    assert result["step_id"] == "meter_mqtt"
    for topic in ("meters/#", "meters/+/x", "   "):
        result = await hass.config_entries.flow.async_configure(
            flow_id, {CONF_PROFILE: "shelly_pro_3em", CONF_TOPIC: topic}
        )
        assert result["errors"] == {CONF_TOPIC: "invalid_topic"}, topic
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_PROFILE: "shelly_pro_3em", CONF_TOPIC: " shellypro3em-home "}
    )
    result = await hass.config_entries.flow.async_configure(flow_id, {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["options"][CONF_METER] == SHELLY


async def test_readings_arrive_through_ha_mqtt(
    hass: HomeAssistant, ha_mqtt: None, entry: MockConfigEntry
) -> None:
    hass.config_entries.async_update_entry(entry, options={**entry.options, CONF_METER: SHELLY})
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    site = entry.runtime_data.site

    # Retained: HA's MQTT sends its SUBSCRIBE a moment after setup; the broker hands it over.
    await mqtt.async_publish(hass, "shellypro3em-home/status/em:0", json.dumps(EM), retain=True)
    await until(hass, lambda: site.state().meters[0].quality == "ok")
    assert site.state().grid_current_a == (10.5, 3.0, -2.5)  # L3 exports
    await until(hass, lambda: hass.states.get("sensor.e_flux_site_grid_current_l1").state == "10.5")

    for junk in ("{not json", "[1, 2]", json.dumps({"a_current": "lots"})):
        await mqtt.async_publish(hass, "shellypro3em-home/status/em:0", junk)
    await mqtt.async_publish(
        hass, "shellypro3em-home/status/em:0", json.dumps({**EM, "a_current": 12.0})
    )
    await until(hass, lambda: site.state().grid_current_a[0] == 12.0)  # junk ignored, no crash
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
