"""A dual-socket charger (one charge point, connectors 1 and 2): each socket is a balanced
charger with its own sub-device and entities; the box keeps what concerns it all."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.eflux.const import CONF_ACCEPT_NEW, DOMAIN
from custom_components.eflux.core.central import ChargePointState, ConnectorState
from custom_components.eflux.entry_setup import async_remove_config_entry_device
from custom_components.eflux.site_config import CONF_CHARGERS, CONF_REMOVED
from custom_components.eflux.sockets import (
    CONF_CONNECTORS,
    MAX_SOCKETS,
    balanced_sockets,
    detected_sockets,
    socket_charger_id,
    with_sockets,
)
from sim.chargepoint import SimChargePoint

from .conftest import ENTRY_ID, SimFactory
from .helpers import settle, until

BOX = "DUAL"
SOCKET_2 = f"{BOX}:2"


def _device(hass: HomeAssistant, key: str) -> dr.DeviceEntry:
    device = dr.async_get(hass).async_get_device({(DOMAIN, f"{ENTRY_ID}_{key}")})
    assert device is not None, key
    return device


def _state(hass: HomeAssistant, entity_id: str) -> str:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return state.state


def _loaded_with(entry: MockConfigEntry, *chargers: str) -> bool:
    if entry.state is not ConfigEntryState.LOADED:
        return False
    state = entry.runtime_data.site.state().chargers
    return all(c in state and state[c].online for c in chargers)


async def _setup(hass: HomeAssistant, entry: MockConfigEntry, **options: Any) -> None:
    hass.config_entries.async_update_entry(entry, options={**entry.options, **options})
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


async def _dual(make_sim: SimFactory, version: str = "1.6") -> SimChargePoint:
    return await make_sim(BOX, version, connectors=2, connector_id=2, model="Eve Double Pro-line")


@pytest.fixture
async def unload(hass: HomeAssistant, entry: MockConfigEntry) -> AsyncIterator[None]:
    yield
    if entry.state.recoverable:
        await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()


@pytest.mark.usefixtures("unload", "entity_registry_enabled_by_default")
@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_a_new_dual_socket_box_becomes_two_chargers(
    hass: HomeAssistant, entry: MockConfigEntry, make_sim: SimFactory, version: str
) -> None:
    await _setup(hass, entry, **{CONF_CHARGERS: []})
    await _dual(make_sim, version)
    await make_sim("SINGLE", version)  # boots with it: unchanged by the box next to it
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=6))
    await until(hass, lambda: _loaded_with(entry, BOX, SOCKET_2, "SINGLE"), wait_s=20)
    assert sorted(entry.options[CONF_CHARGERS]) == [BOX, "SINGLE"]
    assert entry.options[CONF_CONNECTORS] == {BOX: [1, 2]}  # only boxes with several sockets
    await settle(hass)

    box = _device(hass, BOX)
    assert (box.manufacturer, box.model, box.sw_version) == (
        "Alfen",
        "Eve Double Pro-line",
        "6.4.0",
    )
    sockets = [_device(hass, f"{BOX}:{n}") for n in (1, 2)]
    assert [d.name for d in sockets] == ["DUAL connector 1", "DUAL connector 2"]
    assert all(d.via_device_id == box.id for d in sockets)
    single = _device(hass, "SINGLE")
    site_device = dr.async_get(hass).async_get_device({(DOMAIN, ENTRY_ID)})
    assert site_device is not None
    assert box.via_device_id == site_device.id
    assert single.via_device_id == site_device.id

    registry = er.async_get(hass)
    on_box = {e.unique_id for e in er.async_entries_for_device(registry, box.id)}
    box_keys = ("reset", "online", "available", "firmware")
    assert on_box == {f"{ENTRY_ID}_{BOX}_{key}" for key in box_keys}
    assert {e.entity_id for e in er.async_entries_for_device(registry, box.id)} == {
        "button.dual_restart",
        "binary_sensor.dual_online",
        "switch.dual_available",
        "update.dual_firmware",
    }
    on_socket_2 = {e.entity_id for e in er.async_entries_for_device(registry, sockets[1].id)}
    assert {
        "sensor.dual_connector_2_status",
        "sensor.dual_connector_2_power",
        "sensor.dual_connector_2_current_limit",
        "sensor.dual_connector_2_session_energy",
        "number.dual_connector_2_maximum_current",
        "select.dual_connector_2_charging_mode",
        "datetime.dual_connector_2_departure",
        "switch.dual_connector_2_charging_allowed",
        "button.dual_connector_2_unlock_connector",
        "binary_sensor.dual_connector_2_car_connected",
    } <= on_socket_2
    assert not any("restart" in e or "online" in e for e in on_socket_2)
    for key, device in ((BOX, sockets[0]), (SOCKET_2, sockets[1])):  # ids: <cp>, <cp>:<n>
        entity_id = registry.async_get_entity_id("sensor", DOMAIN, f"{ENTRY_ID}_{key}_status")
        assert entity_id is not None
        entity = registry.async_get(entity_id)
        assert entity is not None
        assert entity.device_id == device.id
    assert _state(hass, "sensor.dual_connector_1_status") == "available"
    assert _state(hass, "sensor.dual_connector_2_status") == "available"
    # The single charger next to it: every entity on its one device, no sub-device.
    single_ids = {e.unique_id for e in er.async_entries_for_device(registry, single.id)}
    assert {f"{ENTRY_ID}_SINGLE_status", f"{ENTRY_ID}_SINGLE_reset"} <= single_ids
    assert dr.async_get(hass).async_get_device({(DOMAIN, f"{ENTRY_ID}_SINGLE:1")}) is None


@pytest.mark.usefixtures("unload")
@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_a_car_on_socket_2_gets_its_own_limit(
    hass: HomeAssistant, entry: MockConfigEntry, make_sim: SimFactory, version: str
) -> None:
    await _setup(hass, entry, **{CONF_CHARGERS: [BOX], CONF_CONNECTORS: {BOX: [1, 2]}})
    sim = await _dual(make_sim, version)
    site = entry.runtime_data.site
    await until(hass, lambda: _loaded_with(entry, BOX, SOCKET_2))
    await sim.plug_in("CARD-1")
    await sim.wait_for(lambda: sim.transaction is not None and sim.transaction.id is not None)
    await until(hass, lambda: site.state().chargers[SOCKET_2].transaction_id is not None)
    assert site.state().chargers[BOX].transaction_id is None

    # The controller's TxProfile for the transaction goes to socket 2, at the socket's own
    # limit (socket 1 keeps its idle default).
    tx_id = sim.transaction.id if sim.transaction else None
    await sim.wait_for(lambda: _tx_profiles(sim, version) != [])
    assert {_connector(p, version) for p in _tx_profiles(sim, version)} == {2}
    assert {str(_profile(p, version)["transactionId"]) for p in _tx_profiles(sim, version)} == {
        tx_id
    }
    socket = site.state().chargers[SOCKET_2]
    assert socket.limit_a is not None
    assert socket.limit_a > 0
    assert sim.offered_a() == socket.limit_a
    await until(hass, lambda: _state(hass, "binary_sensor.dual_connector_2_car_connected") == "on")
    assert _state(hass, "binary_sensor.dual_connector_1_car_connected") == "off"
    assert _state(hass, "sensor.dual_connector_1_status") == "available"

    # Charging off on socket 2 only: a 0 A TxProfile for socket 2's transaction.
    await hass.services.async_call(
        "switch",
        "turn_off",
        {"entity_id": "switch.dual_connector_2_charging_allowed"},
        blocking=True,
    )
    await sim.wait_for(lambda: sim.offered_a() == 0.0)
    assert _connector(_tx_profiles(sim, version)[-1], version) == 2
    await until(hass, lambda: _state(hass, "sensor.dual_connector_2_current_limit") == "0.0")
    assert _state(hass, "switch.dual_connector_1_charging_allowed") == "on"


def _tx_profiles(sim: SimChargePoint, version: str) -> list[dict[str, Any]]:
    return [
        p
        for p in sim.calls("SetChargingProfile")
        if _profile(p, version)["chargingProfilePurpose"] == "TxProfile"
    ]


def _profile(payload: dict[str, Any], version: str) -> dict[str, Any]:
    profile = payload["csChargingProfiles"] if version == "1.6" else payload["chargingProfile"]
    assert isinstance(profile, dict)
    return profile


def _connector(payload: dict[str, Any], version: str) -> int:
    return int(payload["connectorId"] if version == "1.6" else payload["evseId"])


@pytest.mark.usefixtures("unload")
async def test_services_name_a_socket_by_its_device(
    hass: HomeAssistant, entry: MockConfigEntry, make_sim: SimFactory
) -> None:
    await _setup(hass, entry, **{CONF_CHARGERS: [BOX], CONF_CONNECTORS: {BOX: [1, 2]}})
    sim = await _dual(make_sim)
    await until(hass, lambda: _loaded_with(entry, BOX, SOCKET_2))
    for key, connector in ((SOCKET_2, 2), (f"{BOX}:1", 1), (BOX, 1)):  # the box: socket 1
        before = len(sim.calls("SetChargingProfile"))
        await hass.services.async_call(
            DOMAIN,
            "set_charging_profile",
            {"device_id": _device(hass, key).id, "current": 7},
            blocking=True,
        )
        sent = await sim.wait_for_call("SetChargingProfile", before + 1)
        assert sent["connectorId"] == connector, key
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id, identifiers={(DOMAIN, f"{ENTRY_ID}_{BOX}:7")}
    )
    with pytest.raises(ServiceValidationError):  # no socket 7
        await hass.services.async_call(
            DOMAIN, "start_charging", {"device_id": device.id}, blocking=True
        )


@pytest.mark.usefixtures("unload")
async def test_a_box_adopted_before_its_second_socket_keeps_its_entities(
    hass: HomeAssistant, entry: MockConfigEntry, make_sim: SimFactory
) -> None:
    """An entry from before sockets were known: the box is charger "DUAL" on connector 1. Its
    second socket is added (one reload), socket 1's entities keep their ids."""
    await _setup(hass, entry, **{CONF_CHARGERS: [BOX], CONF_ACCEPT_NEW: False})
    registry = er.async_get(hass)
    status = registry.async_get_entity_id("sensor", DOMAIN, f"{ENTRY_ID}_{BOX}_status")
    assert status == "sensor.dual_status"
    await _dual(make_sim)
    assert CONF_CONNECTORS not in entry.options  # not before the settle window ends
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=6))
    await until(hass, lambda: _loaded_with(entry, BOX, SOCKET_2), wait_s=20)
    assert entry.options[CONF_CONNECTORS] == {BOX: [1, 2]}
    assert entry.options[CONF_CHARGERS] == [BOX]
    await settle(hass)
    moved = registry.async_get(status)
    assert moved is not None
    assert moved.device_id == _device(hass, f"{BOX}:1").id
    assert _state(hass, "sensor.dual_status") == "available"
    assert registry.async_get_entity_id("sensor", DOMAIN, f"{ENTRY_ID}_{SOCKET_2}_status") == (
        "sensor.dual_connector_2_status"
    )


@pytest.mark.usefixtures("unload")
async def test_removing_an_offline_box_removes_its_sockets(
    hass: HomeAssistant, entry: MockConfigEntry, make_sim: SimFactory
) -> None:
    await _setup(hass, entry, **{CONF_CHARGERS: ["CP-1", BOX], CONF_CONNECTORS: {BOX: [1, 2]}})
    sim = await _dual(make_sim)
    await until(hass, lambda: _loaded_with(entry, BOX, SOCKET_2))
    await settle(hass)
    box, socket = _device(hass, BOX), _device(hass, SOCKET_2)
    assert not await async_remove_config_entry_device(hass, entry, box)  # online
    await sim.close()
    # What HA knows (the coordinator's snapshot), not only the site: that is what is checked.
    await until(hass, lambda: not entry.runtime_data.coordinator.data.chargers[BOX].online)
    assert not await async_remove_config_entry_device(hass, entry, socket)  # goes with its box
    assert await async_remove_config_entry_device(hass, entry, box)
    await hass.async_block_till_done()
    assert entry.options[CONF_CHARGERS] == ["CP-1"]
    assert entry.options[CONF_CONNECTORS] == {}
    assert BOX in entry.options[CONF_REMOVED]
    assert dr.async_get(hass).async_get_device({(DOMAIN, f"{ENTRY_ID}_{SOCKET_2}")}) is None


def test_sockets_from_the_central_systems_records() -> None:
    def state(connectors: list[int], number: str | None = None) -> ChargePointState:
        config = {} if number is None else {"NumberOfConnectors": number}
        return ChargePointState(
            id="X", connectors={n: ConnectorState(n) for n in connectors}, configuration=config
        )

    assert detected_sockets(None) == {1}
    assert detected_sockets(state([0, 1])) == {1}  # connector 0 is the box
    assert detected_sockets(state([0, 1, 2])) == {1, 2}  # StatusNotification (2.0.1: EVSEs)
    assert detected_sockets(state([1], "2")) == {1, 2}  # 1.6 NumberOfConnectors
    assert detected_sockets(state([1], "255")) == set(range(1, MAX_SOCKETS + 1))
    assert detected_sockets(state([1], "two")) == {1}
    # Grown, never shrunk; nothing for a single socket.
    options = {CONF_CONNECTORS: {"A": [1, 2]}}
    assert with_sockets(options, {"A": {1}, "B": {1}}) is None
    assert with_sockets(options, {"B": {1, 2}}) == {"A": [1, 2], "B": [1, 2]}
    assert with_sockets({}, {"A": {1}}) is None
    assert balanced_sockets(options, ["A", "B"]) == [("A", 1), ("A", 2), ("B", 1)]
    assert balanced_sockets(options, ["A", "A:2"]) == [("A", 1), ("A:2", 1)]  # no clash
    assert [socket_charger_id(cp, n) for cp, n in balanced_sockets(options, ["A"])] == [
        "A",
        "A:2",
    ]


@pytest.mark.usefixtures("unload")
async def test_a_box_known_from_the_records_gets_its_sockets_at_setup(
    hass: HomeAssistant, entry: MockConfigEntry, make_sim: SimFactory
) -> None:
    """An entry from before sockets were known whose central system has already stored the
    box's two connectors: setup adds socket 2 even while the box stays offline."""
    await _setup(hass, entry, **{CONF_CHARGERS: []})
    sim = await _dual(make_sim)  # stored: connectors 1 and 2, NumberOfConnectors 2
    await sim.close()
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    await _setup(hass, entry, **{CONF_CHARGERS: [BOX]})
    assert CONF_CONNECTORS not in entry.options
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=6))
    await until(hass, lambda: entry.options.get(CONF_CONNECTORS) == {BOX: [1, 2]})
    await until(
        hass,
        lambda: (
            entry.state is ConfigEntryState.LOADED
            and SOCKET_2 in entry.runtime_data.site.state().chargers
        ),
    )
    await settle(hass)
    assert _device(hass, SOCKET_2).via_device_id == _device(hass, BOX).id
