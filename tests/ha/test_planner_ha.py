"""The planner in Home Assistant: `eflux.set_circuit_limit` (and its hostile calls), and the
`eflux_plan_changed` event when a car's promise is made or broken, on a real simulated charger."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import voluptuous as vol
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.eflux.const import DOMAIN, EVENT_PLAN_CHANGED
from sim.chargepoint import SimBehaviour

from .conftest import ENTRY_ID, SimFactory
from .helpers import settle, until


async def _limit(hass: HomeAssistant, **data: Any) -> None:
    await hass.services.async_call(DOMAIN, "set_circuit_limit", data, blocking=True)


async def test_set_circuit_limit_holds_for_its_duration_and_hostile_calls_change_nothing(
    hass: HomeAssistant, loaded: MockConfigEntry
) -> None:
    site = loaded.runtime_data.site
    circuit = site.config.site.circuits[0].id
    entry_id = loaded.entry_id
    for data, kind in (
        ({"circuit": "basement", "limit_a": 10}, ServiceValidationError),
        ({"circuit": circuit}, ServiceValidationError),  # neither a limit nor clear
        ({"circuit": circuit, "limit_a": [10, 10]}, vol.Invalid),
        ({"circuit": circuit, "limit_a": -1}, vol.Invalid),
        ({"circuit": circuit, "limit_a": "lots"}, vol.Invalid),
        ({"circuit": circuit, "limit_a": 10, "min_kw_per_charger": 99}, vol.Invalid),
    ):
        with pytest.raises(kind):
            await _limit(hass, config_entry_id=entry_id, **data)
    assert site.circuit_limits() == {}
    await _limit(
        hass,
        config_entry_id=entry_id,
        circuit=circuit,
        limit_a=[10, 12, 99],
        duration={"minutes": 30},
    )
    override = site.circuit_limits()[circuit]
    fuse = site.config.site.circuits[0].limit_a
    assert override.limit_a == (10.0, 12.0, fuse[2])  # never above the fuse
    assert override.expires_at is not None
    left = override.expires_at - datetime.now(UTC)
    assert timedelta(minutes=29) < left <= timedelta(minutes=30)
    await _limit(hass, config_entry_id=entry_id, circuit=circuit, clear=True)
    assert site.circuit_limits() == {}


async def test_a_promise_made_and_broken_fires_eflux_plan_changed(
    hass: HomeAssistant, loaded: MockConfigEntry, make_sim: SimFactory
) -> None:
    heard: list[Event] = []

    @callback
    def listen(event: Event) -> None:
        heard.append(event)

    hass.bus.async_listen(EVENT_PLAN_CHANGED, listen)
    sim = await make_sim("CP-1")
    await settle(hass)
    await sim.plug_in("CARD-1")
    device = dr.async_get(hass).async_get_device({(DOMAIN, f"{ENTRY_ID}_CP-1")})
    assert device is not None
    departure = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=3)
    await hass.services.async_call(
        DOMAIN,
        "set_departure",
        {
            "device_id": device.id,
            "departure": departure.isoformat(),
            "soc": 50,
            "battery_kwh": 40,
            "target_soc": 80,
        },
        blocking=True,
    )
    await settle(hass)
    await until(hass, lambda: any(e.data["ready_by_departure"] for e in heard))
    made = next(e for e in heard if e.data["ready_by_departure"])
    assert made.data["charger_id"] == "CP-1"
    assert "departure_set" in made.data["reason"]
    assert made.data["departure_at"] == departure.isoformat()
    # The grid operator leaves nothing: the promise breaks at once, and says why.
    circuit = loaded.runtime_data.site.config.site.circuits[0].id
    await _limit(hass, config_entry_id=loaded.entry_id, circuit=circuit, limit_a=0)
    await until(hass, lambda: heard[-1].data["broken"])
    broken = heard[-1].data
    assert broken["reason"] == "circuit_limit_changed"
    assert broken["ready_by_departure"] is False
    assert broken["shortfall_kwh"] > 0


@pytest.fixture
def options(options: dict[str, Any]) -> dict[str, Any]:
    """CP-1 is a box that switches between one and three phases."""
    return {**options, "phase_switching": ["CP-1"]}


async def test_the_phases_select_switches_a_charger_that_can(
    hass: HomeAssistant, loaded: MockConfigEntry, make_sim: SimFactory
) -> None:
    sim = await make_sim("CP-1", "2.0.1", behaviour=SimBehaviour(switches_phases=True))
    await settle(hass)
    await sim.plug_in("CARD-1")
    await until(hass, lambda: sim.amps > 0)
    entity = "select.cp_1_phases"
    assert hass.states.get(entity).state == "auto"
    await hass.services.async_call(
        "select", "select_option", {"entity_id": entity, "option": "1"}, blocking=True
    )
    await until(hass, lambda: sim.drawing_phases == 1)
    await until(hass, lambda: hass.states.get(entity).state == "1")
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(
            "select", "select_option", {"entity_id": entity, "option": "2"}, blocking=True
        )
    assert loaded.runtime_data.site.state().chargers["CP-1"].phase_mode == "1"


@pytest.mark.parametrize("extra", [{"capacity_target_kw": 5.0}])
async def test_capacity_tariff_sensors_on_a_site_that_has_one(
    hass: HomeAssistant, entry: MockConfigEntry, extra: dict[str, Any]
) -> None:
    hass.config_entries.async_update_entry(entry, options={**entry.options, **extra})
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    try:
        target = hass.states.get("sensor.e_flux_site_capacity_target")
        assert target is not None
        assert float(target.state) == 5.0
        assert target.attributes["unit_of_measurement"] == "kW"
        for name in ("capacity_month_peak", "capacity_quarter_hour_average"):
            assert hass.states.get(f"sensor.e_flux_site_{name}") is not None, name
    finally:
        await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()
