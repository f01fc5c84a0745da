"""A grid meter fed from HA sensors stays fresh while its value is re-reported unchanged."""

from __future__ import annotations

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.eflux.const import CONF_METER
from custom_components.eflux.core.meters.reading import Quality
from custom_components.eflux.site_config import EXTERNAL_TIMEOUT_S

from .helpers import settle

SENSORS = {
    "type": "sensors",
    "current_l1": "sensor.p1_current_l1",
    "current_l2": "sensor.p1_current_l2",
    "current_l3": "sensor.p1_current_l3",
    "power": "sensor.p1_power",
}
STEP = timedelta(seconds=10)
# Well past the meter's timeout, so a meter fed only by state changes would be stale by then.
STEPS = int(3 * EXTERNAL_TIMEOUT_S / STEP.total_seconds())


def _report(hass: HomeAssistant, entity_id: str, value: str, unit: str = "A") -> None:
    hass.states.async_set(entity_id, value, {"unit_of_measurement": unit})


def _report_all(hass: HomeAssistant) -> None:
    for phase in ("l1", "l2", "l3"):
        _report(hass, f"sensor.p1_current_{phase}", "7.0")
    _report(hass, "sensor.p1_power", "4.8", "kW")


async def _setup(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    hass.config_entries.async_update_entry(entry, options={**entry.options, CONF_METER: SENSORS})
    _report_all(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await settle(hass)


async def test_a_frozen_value_re_reported_stays_fresh(
    hass: HomeAssistant, entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    await _setup(hass, entry)
    source = entry.runtime_data.site.external_meter("grid")
    changed = hass.states.get("sensor.p1_current_l1").last_changed
    for _ in range(STEPS):
        freezer.tick(STEP)
        # Only L1 is written again (unchanged: state_reported); the others keep their state.
        _report(hass, "sensor.p1_current_l1", "7.0")
        await settle(hass)
        assert source.status is Quality.OK
    assert hass.states.get("sensor.p1_current_l1").last_changed == changed  # never a change
    assert entry.runtime_data.site.state().grid_current_a == (7.0, 7.0, 7.0)
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


async def test_a_sensor_not_written_at_all_goes_stale(
    hass: HomeAssistant, entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """The other side: nothing re-reported for longer than the timeout is stale."""
    await _setup(hass, entry)
    source = entry.runtime_data.site.external_meter("grid")
    assert source.status is Quality.OK
    freezer.tick(timedelta(seconds=EXTERNAL_TIMEOUT_S + 1))
    assert source.status is Quality.STALE
    _report(hass, "sensor.p1_current_l1", "7.0")  # one re-report revives it
    await settle(hass)
    assert source.status is Quality.OK
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
