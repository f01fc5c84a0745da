"""Chargers that boot together with "accept new chargers" on are all added, across reloads too,
and join the running site without a reload."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.eflux.const import DOMAIN
from custom_components.eflux.site_config import CONF_CHARGERS
from sim.chargepoint import SimChargePoint

from .conftest import SimFactory
from .helpers import until

NEW = ["NEW-1", "NEW-2", "NEW-3"]


async def _boot_together(make_sim: SimFactory) -> list[SimChargePoint]:
    return list(await asyncio.gather(*(make_sim(cp_id) for cp_id in NEW)))


def _all_online(entry: ConfigEntry) -> bool:
    if entry.state is not ConfigEntryState.LOADED:
        return False
    chargers = entry.runtime_data.site.state().chargers
    return all(cp in chargers and chargers[cp].online for cp in NEW)


async def _unload(hass: HomeAssistant, entry: ConfigEntry) -> None:
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


async def test_chargers_booting_together_are_added_in_one_update(
    hass: HomeAssistant, entry: MockConfigEntry, make_sim: SimFactory
) -> None:
    hass.config_entries.async_update_entry(entry, options={**entry.options, CONF_CHARGERS: []})
    updates: list[list[str]] = []

    async def seen(_hass: HomeAssistant, changed: ConfigEntry) -> None:
        updates.append(list(changed.options[CONF_CHARGERS]))

    # Ahead of the entry's own reload listener: HA skips the next listener when the reload
    # (started eagerly) removes its own from the list during the loop.
    stop_watching = entry.add_update_listener(seen)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    try:
        await _boot_together(make_sim)
        assert entry.options[CONF_CHARGERS] == []  # not before the settle window ends
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=6))
        await until(hass, lambda: _all_online(entry), wait_s=20)
        assert sorted(entry.options[CONF_CHARGERS]) == NEW
        assert updates == [NEW]  # one update, so one reload that cancels nothing
    finally:
        stop_watching()
        await _unload(hass, entry)


async def test_a_reload_before_the_settle_window_loses_no_charger(
    hass: HomeAssistant, entry: MockConfigEntry, make_sim: SimFactory
) -> None:
    hass.config_entries.async_update_entry(entry, options={**entry.options, CONF_CHARGERS: []})
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    try:
        sims = await _boot_together(make_sim)
        # E.g. the user saves the options now: the pending adds die with the old entry, and the
        # chargers reconnect without booting again.
        assert await hass.config_entries.async_reload(entry.entry_id)
        await hass.async_block_till_done()
        await until(hass, lambda: all(s.connected.is_set() for s in sims), wait_s=20)
        assert entry.options[CONF_CHARGERS] == []
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=6))
        await until(hass, lambda: _all_online(entry), wait_s=20)
        assert sorted(entry.options[CONF_CHARGERS]) == NEW
    finally:
        await _unload(hass, entry)


async def test_a_new_charger_joins_without_a_reload(
    hass: HomeAssistant, entry: MockConfigEntry, make_sim: SimFactory
) -> None:
    """The running site takes the new charger: no socket closes, no setting is lost, and its
    entities appear on a device of its own."""
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    try:
        first = await make_sim("CP-1")
        adapter = first._adapter  # the first charger's connection, to see it is never replaced
        await hass.services.async_call(
            "number",
            "set_value",
            {"entity_id": "number.cp_1_maximum_current", "value": 10},
            blocking=True,
        )
        site = entry.runtime_data.site
        await make_sim("NEW-1")
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=6))
        await until(hass, lambda: hass.states.get("sensor.new_1_status") is not None, wait_s=20)
        await until(hass, lambda: hass.states.get("sensor.new_1_status").state == "available")
        assert entry.options[CONF_CHARGERS] == ["CP-1", "NEW-1"]
        assert entry.runtime_data.site is site  # the same site: no reload
        assert first._adapter is adapter
        assert first.close_reason is None
        assert site.state().chargers["CP-1"].max_current_a == 10.0
        assert "NEW-1" in {c.id for c in site.config.site.chargers}
        assert hass.states.get("number.cp_1_maximum_current").state == "10.0"
        device = dr.async_get(hass).async_get_device({(DOMAIN, f"{entry.entry_id}_NEW-1")})
        assert device is not None
        assert device.manufacturer == "Alfen"
    finally:
        await _unload(hass, entry)
