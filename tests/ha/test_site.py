"""The site side: grid readings from HA sensors, events, repair issues, diagnostics, new chargers,
a port conflict, and unload/reload leaving nothing behind."""

from __future__ import annotations

import socket
from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import Event, HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
    get_diagnostics_for_device,
)
from pytest_homeassistant_custom_component.typing import (
    ClientSessionGenerator,
    WebSocketGenerator,
)

from custom_components.eflux.const import CONF_METER, CONF_PORT, DOMAIN

from .conftest import ENTRY_ID, HarnessSim, SimFactory, configured, wait_for_core_session_timers
from .helpers import settle, until

SENSORS = {
    "type": "sensors",
    "current_l1": "sensor.p1_current_l1",
    "current_l2": "sensor.p1_current_l2",
    "current_l3": "sensor.p1_current_l3",
    "power": "sensor.p1_power",
}


def _set_grid(hass: HomeAssistant, l1: float, l2: float, l3: float, kw: float) -> None:
    for phase, amps in (("l1", l1), ("l2", l2), ("l3", l3)):
        hass.states.async_set(f"sensor.p1_current_{phase}", str(amps), {"unit_of_measurement": "A"})
    hass.states.async_set("sensor.p1_power", str(kw), {"unit_of_measurement": "kW"})


async def test_grid_readings_from_ha_sensors_drive_the_site(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    hass.config_entries.async_update_entry(entry, options={**entry.options, CONF_METER: SENSORS})
    _set_grid(hass, 10.0, 4.0, 3.0, 3.9)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await settle(hass)
    site = entry.runtime_data.site
    await until(hass, lambda: site.state().grid_current_a == (10.0, 4.0, 3.0))
    assert hass.states.get("sensor.e_flux_site_grid_current_l1").state == "10.0"
    assert hass.states.get("sensor.e_flux_site_meter_status").state == "ok"
    assert site.state().meters[0].power_w == 3900.0  # kW converted

    _set_grid(hass, 20.0, 4.0, 3.0, 6.2)
    await until(hass, lambda: hass.states.get("sensor.e_flux_site_grid_current_l1").state == "20.0")
    hass.states.async_set("sensor.p1_current_l1", "unavailable")  # no reading, nothing pushed
    await settle(hass)
    assert site.state().grid_current_a[0] == 20.0
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


async def test_session_events_and_diagnostics(
    hass: HomeAssistant,
    loaded: MockConfigEntry,
    make_sim: SimFactory,
    hass_client: ClientSessionGenerator,
) -> None:
    seen: list[Event] = []
    for name in ("eflux_session_started", "eflux_session_ended"):
        hass.bus.async_listen(name, seen.append)
    sim = await make_sim("CP-1")
    await sim.plug_in("SECRET-CARD")
    await until(hass, lambda: len(seen) == 1)
    assert seen[0].data["charge_point_id"] == "CP-1"
    assert seen[0].data["card"] == "SECRET-CARD"

    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, loaded)
    text = str(diagnostics)
    assert "SECRET-CARD" not in text
    assert diagnostics["site"]["chargers"]["CP-1"]["card"] == "**REDACTED**"
    assert diagnostics["entry"]["data"][CONF_PORT] == loaded.data[CONF_PORT]

    # Per device: the charger (its session, boot data and configuration) and the site.
    registry = dr.async_get(hass)
    charger_device = registry.async_get_device({(DOMAIN, f"{ENTRY_ID}_CP-1")})
    assert charger_device is not None
    device = await get_diagnostics_for_device(hass, hass_client, loaded, charger_device)
    assert [c["id"] for c in device["chargers"]] == ["CP-1"]
    assert device["chargers"][0]["card"] == "**REDACTED**"
    assert device["charge_point"]["online"] is True
    assert "SECRET-CARD" not in str(device)
    site_device = registry.async_get_device({(DOMAIN, ENTRY_ID)})
    assert site_device is not None
    site_only = await get_diagnostics_for_device(hass, hass_client, loaded, site_device)
    assert set(site_only) == {"site"}
    assert "chargers" not in site_only["site"]

    await sim.unplug()
    await until(hass, lambda: len(seen) == 2)
    assert seen[1].event_type == "eflux_session_ended"
    assert seen[1].data["stop_reason"] == "EVDisconnected"


async def test_a_new_charger_becomes_a_device(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    hass.config_entries.async_update_entry(entry, options={**entry.options, "chargers": []})
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    sim = HarnessSim(
        f"ws://127.0.0.1:{entry.data[CONF_PORT]}",
        "NEW-7",
        reconnect_delay=0.05,
        vendor="Alfen",
        model="Eve Single Pro",
        firmware="6.4.0",
        meter_interval=3600,
    )
    try:
        await sim.start()
        await configured(sim)
        assert entry.options["chargers"] == []  # added once the central system configured it
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=6))
        await until(hass, lambda: entry.options["chargers"] == ["NEW-7"])
        await until(
            hass,
            lambda: (
                entry.state is ConfigEntryState.LOADED
                and "NEW-7" in entry.runtime_data.site.state().chargers
                and entry.runtime_data.site.state().chargers["NEW-7"].online
            ),
        )
        await until(hass, lambda: hass.states.get("binary_sensor.new_7_online").state == "on")
        device = dr.async_get(hass).async_get_device({(DOMAIN, f"{ENTRY_ID}_NEW-7")})
        assert device is not None
        assert (device.manufacturer, device.model, device.sw_version) == (
            "Alfen",
            "Eve Single Pro",
            "6.4.0",
        )
    finally:
        await sim.close()
        await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()


async def test_offline_an_hour_raises_a_repair_issue(
    hass: HomeAssistant, loaded: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    issues = ir.async_get(hass)
    issue_id = f"charger_offline_{ENTRY_ID}_CP-1"
    freezer.tick(timedelta(minutes=30))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert issues.async_get_issue(DOMAIN, issue_id) is None
    freezer.tick(timedelta(minutes=31))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    issue = issues.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_placeholders == {"charger": "CP-1"}


async def test_a_taken_port_is_a_repair_issue_and_a_retry(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    with socket.socket() as squatter:
        squatter.bind(("0.0.0.0", entry.data[CONF_PORT]))
        squatter.listen()
        await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        assert entry.state is ConfigEntryState.SETUP_RETRY
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"port_conflict_{ENTRY_ID}")
    assert issue is not None
    assert issue.translation_placeholders == {"port": str(entry.data[CONF_PORT])}
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"port_conflict_{ENTRY_ID}") is None
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


async def test_unload_and_reload_leave_nothing_behind(
    hass: HomeAssistant, loaded: MockConfigEntry, make_sim: SimFactory
) -> None:
    sim = await make_sim("CP-1")
    port = loaded.data[CONF_PORT]
    assert await hass.config_entries.async_reload(loaded.entry_id)
    await hass.async_block_till_done()
    await sim.wait_for(lambda: sim.connected.is_set())  # reconnected to the new central
    await until(hass, lambda: hass.states.get("binary_sensor.cp_1_online").state == "on")
    assert await hass.config_entries.async_unload(loaded.entry_id)
    await hass.async_block_till_done()
    assert loaded.state is ConfigEntryState.NOT_LOADED
    assert hass.states.get("binary_sensor.cp_1_online").state == "unavailable"
    with socket.socket() as probe:  # the port is free again
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("0.0.0.0", port))
    # the plugin's verify_cleanup then checks for lingering tasks and timers


async def test_overload_departure_risk_and_a_stale_meter(
    hass: HomeAssistant, entry: MockConfigEntry, make_sim: SimFactory
) -> None:
    hass.config_entries.async_update_entry(entry, options={**entry.options, CONF_METER: SENSORS})
    _set_grid(hass, 5.0, 5.0, 5.0, 3.4)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    seen: list[Event] = []
    for name in ("eflux_overload", "eflux_departure_at_risk"):
        hass.bus.async_listen(name, seen.append)
    site = entry.runtime_data.site
    sim = await make_sim("CP-1")
    await sim.plug_in("CARD-1")
    await until(hass, lambda: site.state().chargers["CP-1"].limit_sent_a is not None)

    _set_grid(hass, 30.0, 30.0, 30.0, 20.0)  # above the 25 A fuse with the car charging
    await until(hass, lambda: any(e.event_type == "eflux_overload" for e in seen))
    overload = next(e for e in seen if e.event_type == "eflux_overload")
    # 30 A at the grid minus the car's 6 A, or all of it when its draw was not measured yet
    assert overload.data["household_a"] in ([24.0] * 3, [30.0] * 3)
    assert overload.data["constraints"]

    device = dr.async_get(hass).async_get_device({(DOMAIN, f"{ENTRY_ID}_CP-1")})
    assert device is not None
    soon = dt_util.utcnow().replace(microsecond=0) + timedelta(minutes=20)
    await hass.services.async_call(
        DOMAIN,
        "set_departure",
        {
            "device_id": device.id,
            "departure": soon.isoformat(),
            "soc": 10,
            "battery_kwh": 80,
            "target_soc": 100,
        },
        blocking=True,
    )
    await until(hass, lambda: any(e.event_type == "eflux_departure_at_risk" for e in seen))
    risk = next(e for e in seen if e.event_type == "eflux_departure_at_risk")
    assert risk.data["charge_point_id"] == "CP-1"
    assert risk.data["shortfall_kwh"] > 0
    assert hass.states.get("binary_sensor.cp_1_ready_by_departure").state == "off"

    # The meter goes silent: after its timeout the repair issue appears, and leaves with it.
    issue_id = f"meter_stale_{ENTRY_ID}_grid"
    source = site.external_meter("grid")
    source._last_good -= timedelta(minutes=5)  # age the last reading
    source.check_stale()
    await until(hass, lambda: ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is not None)
    _set_grid(hass, 5.0, 5.0, 5.0, 3.4)
    await until(hass, lambda: ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None)
    await wait_for_core_session_timers(hass)
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


async def test_an_offline_charger_device_can_be_removed(
    hass: HomeAssistant,
    loaded: MockConfigEntry,
    make_sim: SimFactory,
    hass_ws_client: WebSocketGenerator,
) -> None:
    assert await async_setup_component(hass, "config", {})
    registry = dr.async_get(hass)
    site_device = registry.async_get_device({(DOMAIN, ENTRY_ID)})
    charger = registry.async_get_device({(DOMAIN, f"{ENTRY_ID}_CP-1")})
    assert site_device is not None
    assert charger is not None
    client = await hass_ws_client(hass)

    async def remove(device_id: str) -> dict[str, Any]:
        await client.send_json_auto_id(
            {
                "type": "config/device_registry/remove_config_entry",
                "config_entry_id": loaded.entry_id,
                "device_id": device_id,
            }
        )
        return dict(await client.receive_json())

    sim = await make_sim("CP-1")
    await until(hass, lambda: loaded.runtime_data.coordinator.data.chargers["CP-1"].online)
    assert not (await remove(charger.id))["success"]  # connected: not stale
    assert not (await remove(site_device.id))["success"]  # the site stays
    await sim.close()
    await until(hass, lambda: not loaded.runtime_data.coordinator.data.chargers["CP-1"].online)
    assert (await remove(charger.id))["success"]
    await hass.async_block_till_done()
    assert loaded.options["chargers"] == []
    assert registry.async_get_device({(DOMAIN, f"{ENTRY_ID}_CP-1")}) is None


async def test_user_settings_survive_a_reload(
    hass: HomeAssistant, loaded: MockConfigEntry, make_sim: SimFactory
) -> None:
    await make_sim("CP-1")  # settings are entities of an online charger (unavailable offline)
    await until(hass, lambda: hass.states.get("select.cp_1_charging_mode").state != "unavailable")
    departure = dt_util.utcnow().replace(microsecond=0) + timedelta(hours=9)
    for domain, service, data in (
        ("number", "set_value", {"entity_id": "number.cp_1_maximum_current", "value": 11}),
        ("number", "set_value", {"entity_id": "number.cp_1_target_state_of_charge", "value": 70}),
        ("select", "select_option", {"entity_id": "select.cp_1_charging_mode", "option": "pv"}),
        ("datetime", "set_value", {"entity_id": "datetime.cp_1_departure", "datetime": departure}),
    ):
        await hass.services.async_call(domain, service, data, blocking=True)
    await settle(hass)
    assert await hass.config_entries.async_reload(loaded.entry_id)
    await hass.async_block_till_done()
    charger = loaded.runtime_data.site.state().chargers["CP-1"]  # a new site
    assert (charger.max_current_a, charger.target_soc, charger.mode) == (11.0, 70.0, "pv")
    assert charger.departure_at == departure
