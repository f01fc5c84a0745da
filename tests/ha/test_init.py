"""Setup with a real central system: a simulated charger connects, its device and entities
appear with its values; unload and reload leave nothing behind."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.eflux.const import DOMAIN

from .conftest import ENTRY_ID, SimFactory


async def test_a_charger_connects_and_its_entities_follow(
    hass: HomeAssistant, loaded: MockConfigEntry, make_sim: SimFactory
) -> None:
    sim = await make_sim("CP-1")
    await sim.plug_in("CARD-1")
    await hass.async_block_till_done()
    device = dr.async_get(hass).async_get_device({(DOMAIN, f"{ENTRY_ID}_CP-1")})
    assert device is not None
    state = hass.states.get("sensor.cp_1_status")
    assert state is not None, sorted(hass.states.async_entity_ids())
    print(state)
