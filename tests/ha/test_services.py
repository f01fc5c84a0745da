"""Each service and entity action sends the right OCPP call to a simulated charger."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.eflux.const import DOMAIN
from sim.chargepoint import SimChargePoint

from .conftest import ENTRY_ID, SimFactory
from .helpers import settle, until


def _device_id(hass: HomeAssistant, charger: str = "CP-1") -> str:
    device = dr.async_get(hass).async_get_device({(DOMAIN, f"{ENTRY_ID}_{charger}")})
    assert device is not None
    return device.id


async def _call(hass: HomeAssistant, service: str, **data: Any) -> None:
    await hass.services.async_call(DOMAIN, service, data, blocking=True)


async def _online(hass: HomeAssistant, make_sim: SimFactory, **kwargs: Any) -> SimChargePoint:
    sim = await make_sim("CP-1", **kwargs)
    await settle(hass)
    return sim


async def test_start_and_stop_charging(
    hass: HomeAssistant, loaded: MockConfigEntry, make_sim: SimFactory
) -> None:
    sim = await _online(hass, make_sim)
    await sim.plug_in()
    await _call(hass, "start_charging", device_id=_device_id(hass))
    start = await sim.wait_for_call("RemoteStartTransaction")
    assert start["idTag"] == "EFLUX-LOCAL"
    await sim.wait_for(lambda: sim.transaction is not None and sim.transaction.id is not None)
    await until(hass, lambda: hass.states.get("sensor.cp_1_session_card").state == "EFLUX-LOCAL")

    answer = await _stop(hass)
    stop = await sim.wait_for_call("RemoteStopTransaction")
    await sim.wait_for(lambda: bool(sim.finished))
    assert str(stop["transactionId"]) == sim.finished[-1].id
    assert answer == {"stopped": True, "transaction_id": sim.finished[-1].id}
    site = loaded.runtime_data.site
    await until(hass, lambda: site.state().chargers["CP-1"].transaction_id is None)
    # Nothing left to stop: nothing is sent, and the call says so (it does not fail).
    assert await _stop(hass) == {"stopped": False, "transaction_id": None}
    await _call(hass, "stop_charging", device_id=_device_id(hass))  # without a response too
    assert len(sim.calls("RemoteStopTransaction")) == 1


async def _stop(hass: HomeAssistant) -> Any:
    return await hass.services.async_call(
        DOMAIN,
        "stop_charging",
        {"device_id": _device_id(hass)},
        blocking=True,
        return_response=True,
    )


async def test_set_charging_profile(
    hass: HomeAssistant, loaded: MockConfigEntry, make_sim: SimFactory
) -> None:
    sim = await _online(hass, make_sim)
    before = len(sim.calls("SetChargingProfile"))
    await _call(hass, "set_charging_profile", device_id=_device_id(hass), current=10.5, phases=1)
    sent = await sim.wait_for_call("SetChargingProfile", before + 1)
    profile = sent["csChargingProfiles"]
    assert profile["chargingProfilePurpose"] == "TxDefaultProfile"
    period = profile["chargingSchedule"]["chargingSchedulePeriod"][0]
    assert period["limit"] == 10.5
    assert period["numberPhases"] == 1


async def test_set_departure_plans_the_car(
    hass: HomeAssistant, loaded: MockConfigEntry, make_sim: SimFactory
) -> None:
    sim = await _online(hass, make_sim)
    await sim.plug_in("CARD-1")
    departure = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=8)
    await _call(
        hass,
        "set_departure",
        device_id=_device_id(hass),
        departure=departure.isoformat(),
        soc=30,
        battery_kwh=60,
        target_soc=80,
    )
    await settle(hass)
    charger = loaded.runtime_data.site.state().chargers["CP-1"]
    assert charger.departure_at == departure
    assert charger.target_soc == 80
    assert hass.states.get("datetime.cp_1_departure").state == departure.isoformat()
    assert hass.states.get("number.cp_1_target_state_of_charge").state == "80.0"


async def test_a_service_on_a_device_that_is_no_charger(
    hass: HomeAssistant, loaded: MockConfigEntry
) -> None:
    site_device = dr.async_get(hass).async_get_device({(DOMAIN, ENTRY_ID)})
    assert site_device is not None
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "start_charging", device_id=site_device.id)
    assert err.value.translation_key == "not_a_charger"
    with pytest.raises(ServiceValidationError):
        await _call(hass, "start_charging", device_id="no-such-device")


async def test_an_offline_charger_is_a_clear_error(
    hass: HomeAssistant, loaded: MockConfigEntry
) -> None:
    with pytest.raises(HomeAssistantError) as err:
        await _call(hass, "start_charging", device_id=_device_id(hass))
    assert err.value.translation_key == "charger_offline"


async def test_cloud_services_need_a_cloud_account(
    hass: HomeAssistant, loaded: MockConfigEntry
) -> None:
    for service, data in (("sync_now", {}), ("report_card_lost", {"card": "ANN01"})):
        with pytest.raises(ServiceValidationError) as err:
            await _call(hass, service, config_entry_id=loaded.entry_id, **data)
        assert err.value.translation_key == "no_cloud"
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "sync_now", config_entry_id="nope")
    assert err.value.translation_key == "unknown_entry"


@pytest.mark.usefixtures("entity_registry_enabled_by_default")  # restart, unlock
async def test_entity_actions(
    hass: HomeAssistant, loaded: MockConfigEntry, make_sim: SimFactory
) -> None:
    sim = await _online(hass, make_sim)
    site = loaded.runtime_data.site

    await hass.services.async_call(
        "number",
        "set_value",
        {"entity_id": "number.cp_1_maximum_current", "value": 10},
        blocking=True,
    )
    await hass.services.async_call(
        "select",
        "select_option",
        {"entity_id": "select.cp_1_charging_mode", "option": "fast"},
        blocking=True,
    )
    await settle(hass)
    charger = site.state().chargers["CP-1"]
    assert (charger.max_current_a, charger.mode) == (10.0, "fast")
    assert hass.states.get("number.cp_1_maximum_current").state == "10.0"
    assert hass.states.get("select.cp_1_charging_mode").state == "fast"

    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": "switch.cp_1_charging_allowed"}, blocking=True
    )
    await settle(hass)
    assert site.state().chargers["CP-1"].mode == "off"
    assert hass.states.get("switch.cp_1_charging_allowed").state == "off"
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": "switch.cp_1_charging_allowed"}, blocking=True
    )
    await settle(hass)
    assert site.state().chargers["CP-1"].mode_setting is None  # back to the site default

    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": "switch.cp_1_available"}, blocking=True
    )
    assert (await sim.wait_for_call("ChangeAvailability"))["type"] == "Inoperative"
    await until(hass, lambda: hass.states.get("switch.cp_1_available").state == "off")
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": "switch.cp_1_available"}, blocking=True
    )
    assert (await sim.wait_for_call("ChangeAvailability", 2))["type"] == "Operative"

    await hass.services.async_call(
        "button", "press", {"entity_id": "button.cp_1_restart"}, blocking=True
    )
    assert (await sim.wait_for_call("Reset"))["type"] == "Soft"
    await hass.services.async_call(
        "button", "press", {"entity_id": "button.cp_1_unlock_connector"}, blocking=True
    )
    assert (await sim.wait_for_call("UnlockConnector"))["connectorId"] == 1

    departure = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=3)
    await hass.services.async_call(
        "datetime",
        "set_value",
        {"entity_id": "datetime.cp_1_departure", "datetime": departure},
        blocking=True,
    )
    await settle(hass)
    assert site.state().chargers["CP-1"].departure_at == departure


@pytest.mark.usefixtures("entity_registry_enabled_by_default")  # restart, unlock
async def test_ocpp_2_0_1_buttons(
    hass: HomeAssistant, loaded: MockConfigEntry, make_sim: SimFactory
) -> None:
    sim = await _online(hass, make_sim, version="2.0.1")
    await hass.services.async_call(
        "button", "press", {"entity_id": "button.cp_1_restart"}, blocking=True
    )
    assert (await sim.wait_for_call("Reset"))["type"] == "OnIdle"
    # The 2.0.1 simulator does not implement UnlockConnector: its CALLERROR is a clear error.
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            "button", "press", {"entity_id": "button.cp_1_unlock_connector"}, blocking=True
        )
    assert err.value.translation_key == "charger_error"
    assert "NotImplemented" in str(err.value.translation_placeholders)


async def test_a_past_departure_is_refused_with_a_translated_error(
    hass: HomeAssistant, loaded: MockConfigEntry, make_sim: SimFactory
) -> None:
    await _online(hass, make_sim)
    await until(hass, lambda: hass.states.get("datetime.cp_1_departure").state != "unavailable")
    past = dt_util.utcnow() - timedelta(hours=1)
    with pytest.raises(ServiceValidationError) as caught:
        await _call(hass, "set_departure", device_id=_device_id(hass), departure=past.isoformat())
    assert caught.value.translation_key == "departure_in_past"
    with pytest.raises(ServiceValidationError) as caught:
        await hass.services.async_call(
            "datetime",
            "set_value",
            {"entity_id": "datetime.cp_1_departure", "datetime": "2020-01-01T08:00:00+00:00"},
            blocking=True,
        )
    assert caught.value.translation_key == "departure_in_past"
    assert "2020-01-01" in str(caught.value.translation_placeholders)
    charger = loaded.runtime_data.site.state().chargers["CP-1"]
    assert charger.departure_at is None  # nothing planned
