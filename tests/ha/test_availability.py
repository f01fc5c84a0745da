"""A charger that goes offline: its entities become unavailable (only Online stays), one log
line when it goes and one when it is back; settings come back only to their own entry."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    mock_restore_cache,
    mock_restore_cache_with_extra_data,
)

from .conftest import ENTRY_ID, SimFactory
from .helpers import until

WATCH_LOGGER = "custom_components.eflux.watch"
CHARGER_ENTITIES = (
    "sensor.cp_1_status",
    "sensor.cp_1_power",
    "binary_sensor.cp_1_car_connected",
    "number.cp_1_maximum_current",
    "select.cp_1_charging_mode",
    "switch.cp_1_available",
    "update.cp_1_firmware",
)


def _connection_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == WATCH_LOGGER]


async def test_offline_charger_entities_are_unavailable_and_it_is_logged_once(
    hass: HomeAssistant,
    loaded: MockConfigEntry,
    make_sim: SimFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger=WATCH_LOGGER)
    sim = await make_sim("CP-1")
    await until(hass, lambda: hass.states.get("binary_sensor.cp_1_online").state == "on")
    for entity_id in CHARGER_ENTITIES:
        assert hass.states.get(entity_id).state != STATE_UNAVAILABLE, entity_id
    assert _connection_lines(caplog) == []  # it came online for the first time: no line

    await sim.close()
    await until(hass, lambda: hass.states.get("binary_sensor.cp_1_online").state == "off")
    for entity_id in CHARGER_ENTITIES:
        assert hass.states.get(entity_id).state == STATE_UNAVAILABLE, entity_id
    # Many snapshots pass while it is away: still one line.
    loaded.runtime_data.site.recompute()
    await hass.async_block_till_done()
    assert _connection_lines(caplog) == ["Charger CP-1 disconnected; its entities are unavailable"]

    await make_sim("CP-1")
    await until(hass, lambda: hass.states.get("sensor.cp_1_status").state != STATE_UNAVAILABLE)
    assert hass.states.get("binary_sensor.cp_1_online").state == "on"
    assert _connection_lines(caplog) == [
        "Charger CP-1 disconnected; its entities are unavailable",
        "Charger CP-1 is connected again",
    ]


def _settings(extra_entry: str) -> list[tuple[State, dict[str, object]]]:
    return [
        (
            State("number.cp_1_maximum_current", STATE_UNAVAILABLE),
            {"entry_id": extra_entry, "value": "10.0"},
        ),
        (
            State("select.cp_1_charging_mode", "off"),
            {"entry_id": extra_entry, "value": "off"},
        ),
    ]


async def test_settings_of_this_entry_come_back_also_when_stored_offline(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    mock_restore_cache_with_extra_data(hass, _settings(ENTRY_ID))
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    charger = entry.runtime_data.site.state().chargers["CP-1"]
    assert charger.max_current_a == 10.0  # stored while the charger was offline (unavailable)
    assert charger.mode_setting == "off"
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


async def test_settings_of_a_deleted_entry_do_not_come_back(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """The same entity ids, but stored by another (deleted) entry: a fresh start."""
    mock_restore_cache_with_extra_data(hass, _settings("01JDELETEDENTRY00000000000"))
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    charger = entry.runtime_data.site.state().chargers["CP-1"]
    assert charger.max_current_a is None
    assert charger.mode_setting is None
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


async def test_a_state_stored_before_the_entry_id_was_kept(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """States from the previous version carry no entry id: restored only when the entity was
    registered before they were written (an upgrade), not for a newly made entity."""
    registry = er.async_get(hass)
    registry.async_get_or_create(
        "number", "eflux", f"{ENTRY_ID}_CP-1_max_current", config_entry=entry,
        suggested_object_id="cp_1_maximum_current",
    )  # fmt: skip
    later = dt_util.utcnow() + timedelta(seconds=5)
    mock_restore_cache(
        hass,
        [
            State("number.cp_1_maximum_current", "12.0", last_updated=later),
            State("select.cp_1_charging_mode", "off"),  # older than its new registry entry
        ],
    )
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    charger = entry.runtime_data.site.state().chargers["CP-1"]
    assert charger.max_current_a == 12.0
    assert charger.mode_setting is None
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
