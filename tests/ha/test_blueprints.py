"""Each automation blueprint, loaded by HA's own blueprint machinery: inputs filled, trigger fired,
action observed.

Actions in other domains (select, notify) and the E-Flux services are captured with
`async_mock_service`; the E-Flux ones are registered with the integration's real schemas, so a
blueprint that sends data our services would refuse fails here.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.automation import DOMAIN as AUTOMATION_DOMAIN
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import (
    async_fire_time_changed,
    async_mock_service,
)

from custom_components.eflux.services import CARD_SCHEMA, DEPARTURE_SCHEMA

BLUEPRINTS = Path(__file__).parents[2] / "blueprints" / "automation" / "eflux"
CHARGER_DEVICE = "0123456789abcdef0123456789abcdef"
MODE_SELECT = "select.garage_charging_mode"


@pytest.fixture
async def blueprint_hass(hass: HomeAssistant, tmp_path: Path) -> AsyncIterator[HomeAssistant]:
    """A hass whose config dir holds our blueprints where users put them (HACS or by hand)."""
    hass.config.config_dir = str(tmp_path)
    shutil.copytree(BLUEPRINTS, tmp_path / "blueprints" / "automation" / "eflux")
    yield hass
    # Turning the automations off detaches their triggers and stops runs still waiting for a
    # notification button, so no timer outlives the test.
    if hass.services.has_service(AUTOMATION_DOMAIN, "turn_off"):
        await hass.services.async_call(
            AUTOMATION_DOMAIN, "turn_off", {"entity_id": "all"}, blocking=True
        )
        await hass.async_block_till_done()


async def use_blueprint(hass: HomeAssistant, name: str, inputs: dict[str, Any]) -> None:
    config = {
        AUTOMATION_DOMAIN: {
            "id": name,
            "alias": name,
            "use_blueprint": {"path": f"eflux/{name}.yaml", "input": inputs},
        }
    }
    assert await async_setup_component(hass, AUTOMATION_DOMAIN, config)
    await hass.async_block_till_done()
    state = hass.states.get(f"automation.{name}")
    assert state is not None, f"blueprint {name} did not load"
    assert state.state == "on"


async def pass_time(hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta) -> None:
    freezer.tick(delta)
    async_fire_time_changed(hass)
    await hass.async_block_till_done()


async def until(condition: Callable[[], bool], what: str) -> None:
    """Let the loop run until `condition` holds. `async_block_till_done` cannot be used while an
    automation run waits for a notification button: that run is a task it would wait for.
    Zero-length sleeps only: under `freezer` the loop's clock stands still."""
    for _ in range(2000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError(f"never happened: {what}")


def options(calls: list[ServiceCall]) -> list[str]:
    return [call.data["option"] for call in calls]


def test_every_blueprint_is_valid_yaml_with_the_blueprint_header() -> None:
    class BlueprintLoader(yaml.SafeLoader):
        pass

    BlueprintLoader.add_constructor("!input", lambda loader, node: loader.construct_scalar(node))
    files = sorted(BLUEPRINTS.glob("*.yaml"))
    assert len(files) >= 5
    for file in files:
        data = yaml.load(file.read_text(), Loader=BlueprintLoader)
        assert data["blueprint"]["domain"] == "automation", file.name
        assert data["blueprint"]["homeassistant"]["min_version"] == "2025.4.0", file.name
        assert data["blueprint"]["source_url"].endswith(f"/{file.name}"), file.name


async def test_solar_surplus_switches_mode_after_the_delays(
    blueprint_hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    hass = blueprint_hass
    selects = async_mock_service(hass, "select", "select_option")
    hass.states.async_set("sensor.pv_surplus", "0", {"device_class": "power"})
    await use_blueprint(
        hass,
        "solar_surplus",
        {
            "surplus_sensor": "sensor.pv_surplus",
            "mode_select": MODE_SELECT,
            "start_delay": 5,
            "stop_delay": 10,
        },
    )

    hass.states.async_set("sensor.pv_surplus", "2500", {"device_class": "power"})
    await hass.async_block_till_done()
    await pass_time(hass, freezer, timedelta(minutes=4))
    assert selects == [], "started before the surplus lasted its delay"
    await pass_time(hass, freezer, timedelta(minutes=2))
    assert options(selects) == ["pv"]
    assert selects[0].data["entity_id"] == [MODE_SELECT]

    hass.states.async_set("sensor.pv_surplus", "100", {"device_class": "power"})
    await hass.async_block_till_done()
    await pass_time(hass, freezer, timedelta(minutes=11))
    assert options(selects) == ["pv", "off"]


async def test_departure_follows_the_next_alarm(blueprint_hass: HomeAssistant) -> None:
    hass = blueprint_hass
    departures = async_mock_service(hass, "eflux", "set_departure", schema=DEPARTURE_SCHEMA)
    hass.states.async_set("sensor.phone_next_alarm", "unknown", {"device_class": "timestamp"})
    await use_blueprint(
        hass,
        "departure_from_alarm",
        {
            "next_alarm": "sensor.phone_next_alarm",
            "charger": CHARGER_DEVICE,
            "leave_after": 30,
            "target_soc": 90,
        },
    )

    hass.states.async_set("sensor.phone_next_alarm", "2026-12-02T06:15:00+00:00")
    await hass.async_block_till_done()
    assert len(departures) == 1
    call = departures[0].data
    assert call["device_id"] == CHARGER_DEVICE
    assert call["departure"] == datetime(2026, 12, 2, 6, 45, tzinfo=UTC)
    assert call["target_soc"] == 90

    hass.states.async_set("sensor.phone_next_alarm", "unavailable")
    await hass.async_block_till_done()
    assert len(departures) == 1, "an alarm that went away must not move the departure"


async def test_not_ready_notifies_with_the_expected_finish(
    blueprint_hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    hass = blueprint_hass
    notes = async_mock_service(hass, "notify", "mobile_app_phone")
    hass.states.async_set("binary_sensor.garage_ready_by_departure", "on")
    hass.states.async_set(
        "sensor.garage_expected_finish", "2026-12-02T09:30:00+00:00", {"device_class": "timestamp"}
    )
    await use_blueprint(
        hass,
        "not_ready_notify",
        {
            "ready_sensor": "binary_sensor.garage_ready_by_departure",
            "finish_sensor": "sensor.garage_expected_finish",
            "notify_action": "notify.mobile_app_phone",
            "grace": 2,
        },
    )

    hass.states.async_set("binary_sensor.garage_ready_by_departure", "off")
    await hass.async_block_till_done()
    await pass_time(hass, freezer, timedelta(minutes=1))
    assert notes == [], "notified before the grace period"
    await pass_time(hass, freezer, timedelta(minutes=2))
    assert len(notes) == 1
    assert "will not be ready" in notes[0].data["title"]
    assert "Expected to finish at" in notes[0].data["message"]


@pytest.mark.parametrize(
    ("attributes", "price", "expected"),
    [
        ({"today": [0.30, 0.10, 0.12, 0.40, 0.35]}, "0.12", "fast"),  # 2nd cheapest of 5, N=2
        ({"today": [0.30, 0.10, 0.12, 0.40, 0.35]}, "0.30", "off"),  # 3rd cheapest
        ({}, "0.15", "fast"),  # no price list: at or under the 0.20 threshold
        ({}, "0.25", "off"),
    ],
)
async def test_cheapest_hours_picks_the_mode_from_the_price(
    blueprint_hass: HomeAssistant, attributes: dict[str, Any], price: str, expected: str
) -> None:
    hass = blueprint_hass
    selects = async_mock_service(hass, "select", "select_option")
    hass.states.async_set("sensor.price", "unknown")
    await use_blueprint(
        hass,
        "cheapest_hours",
        {"price_sensor": "sensor.price", "mode_select": MODE_SELECT, "cheapest_hours": 2},
    )

    hass.states.async_set("sensor.price", price, attributes)
    await hass.async_block_till_done()
    assert options(selects) == [expected]


async def test_overload_alert_notifies_and_pauses_on_the_button(
    blueprint_hass: HomeAssistant,
) -> None:
    hass = blueprint_hass
    notes = async_mock_service(hass, "notify", "notify")
    selects = async_mock_service(hass, "select", "select_option")
    hass.states.async_set("sensor.site_balancer_status", "ok")
    hass.states.async_set("sensor.site_meter_status", "ok")
    await use_blueprint(
        hass,
        "overload_alert",
        {
            "balancer_status": "sensor.site_balancer_status",
            "meter_status": "sensor.site_meter_status",
            "mode_selects": [MODE_SELECT, "select.drive_charging_mode"],
        },
    )

    hass.states.async_set("sensor.site_balancer_status", "overload")
    await until(lambda: len(notes) == 1, "the overload notification")
    assert "overloaded" in notes[0].data["title"]
    button = notes[0].data["data"]["actions"][0]
    assert button["title"] == "Pause charging"
    assert selects == []

    hass.bus.async_fire("mobile_app_notification_action", {"action": "SOMETHING_ELSE"})
    for _ in range(50):
        await asyncio.sleep(0)
    assert selects == []
    hass.bus.async_fire("mobile_app_notification_action", {"action": button["action"]})
    await until(lambda: len(selects) == 1, "charging paused from the button")
    assert options(selects) == ["off"]
    assert selects[0].data["entity_id"] == [MODE_SELECT, "select.drive_charging_mode"]


async def test_overload_alert_on_a_meter_that_stays_stale(
    blueprint_hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    hass = blueprint_hass
    notes = async_mock_service(hass, "notify", "notify")
    hass.states.async_set("sensor.site_balancer_status", "ok")
    hass.states.async_set("sensor.site_meter_status", "ok")
    await use_blueprint(
        hass,
        "overload_alert",
        {
            "balancer_status": "sensor.site_balancer_status",
            "meter_status": "sensor.site_meter_status",
            "stale_for": 30,
        },
    )
    hass.states.async_set("sensor.site_meter_status", "stale")
    await hass.async_block_till_done()
    freezer.tick(timedelta(seconds=20))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert notes == [], "alerted before the meter was stale long enough"
    freezer.tick(timedelta(seconds=11))
    async_fire_time_changed(hass)
    await until(lambda: len(notes) == 1, "the stale-meter notification")
    assert "meter" in notes[0].data["title"]


async def test_unknown_card_is_reported_lost_from_the_notification(
    blueprint_hass: HomeAssistant,
) -> None:
    hass = blueprint_hass
    notes = async_mock_service(hass, "notify", "notify")
    reports = async_mock_service(hass, "eflux", "report_card_lost", schema=CARD_SCHEMA)
    hass.states.async_set("sensor.garage_card", "unknown")
    await use_blueprint(
        hass,
        "unknown_card_report_lost",
        {
            "card_sensor": "sensor.garage_card",
            "known_cards": "04AA11, 04bb22 ",
            "eflux_entry": "01JEFLUXTESTENTRY000000000",
        },
    )

    hass.states.async_set("sensor.garage_card", "04BB22")
    await hass.async_block_till_done()
    assert notes == [], "a known card (any case, spaces trimmed) must not alert"

    hass.states.async_set("sensor.garage_card", "04cc33")
    await until(lambda: len(notes) == 1, "the unknown-card notification")
    assert "04CC33" in notes[0].data["message"]
    button = notes[0].data["data"]["actions"][0]
    hass.bus.async_fire("mobile_app_notification_action", {"action": button["action"]})
    await until(lambda: len(reports) == 1, "the card reported lost")
    assert [call.data["card"] for call in reports] == ["04CC33"]
    assert reports[0].data["config_entry_id"] == "01JEFLUXTESTENTRY000000000"
