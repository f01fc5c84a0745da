"""`eflux.set_prices`: day-ahead prices from an automation, in the shapes price sensors give."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import voluptuous as vol
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.script import Script
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.eflux.const import DOMAIN


def hour(offset: int) -> datetime:
    """Local (HA time zone) hour starts from the current hour on."""
    now = dt_util.now().replace(minute=0, second=0, microsecond=0)
    return now + timedelta(hours=offset)


def nordpool(values: list[float], first: int = 1) -> list[dict[str, Any]]:
    """Nordpool's raw_today shape: aware datetimes and float values."""
    return [
        {"start": hour(first + i), "end": hour(first + i + 1), "value": value}
        for i, value in enumerate(values)
    ]


async def _set(hass: HomeAssistant, **data: Any) -> Any:
    return await hass.services.async_call(
        DOMAIN, "set_prices", data, blocking=True, return_response=True
    )


def pushed(entry: MockConfigEntry) -> dict[datetime, Decimal]:
    table = entry.runtime_data.site.controller.price_table()
    return {row.start: row.price for row in table if row.source == "pushed"}


async def test_nordpool_attributes_set_the_planners_prices(
    hass: HomeAssistant, loaded: MockConfigEntry
) -> None:
    answer = await _set(
        hass, config_entry_id=loaded.entry_id, prices=nordpool([0.1234, -0.02, 0.3])
    )
    assert answer == {"hours_set": 3}
    assert pushed(loaded) == {
        dt_util.as_utc(hour(1)): Decimal("0.1234"),  # from the float's text, not its binary
        dt_util.as_utc(hour(2)): Decimal("-0.02"),
        dt_util.as_utc(hour(3)): Decimal("0.3"),
    }
    # Another hour is added; `replace` forgets the others.
    await _set(hass, config_entry_id=loaded.entry_id, prices=nordpool([0.5], first=5))
    assert len(pushed(loaded)) == 4
    await _set(hass, config_entry_id=loaded.entry_id, prices=nordpool([0.5], 5), replace=True)
    assert pushed(loaded) == {dt_util.as_utc(hour(5)): Decimal("0.5")}


async def test_a_price_sensor_is_read_by_entity_id(
    hass: HomeAssistant, loaded: MockConfigEntry
) -> None:
    """Nordpool keeps datetimes in raw_today/raw_tomorrow: no template can pass those on."""
    hass.states.async_set(
        "sensor.nordpool_kwh_nl",
        "0.21",
        {"raw_today": nordpool([0.25, 0.2]), "raw_tomorrow": nordpool([0.15], first=3)},
    )
    answer = await _set(hass, config_entry_id=loaded.entry_id, entity_id="sensor.nordpool_kwh_nl")
    assert answer == {"hours_set": 3}
    assert list(pushed(loaded).values()) == [Decimal("0.25"), Decimal("0.2"), Decimal("0.15")]
    hass.states.async_set("sensor.temperature", "21.5", {"unit_of_measurement": "°C"})
    for entity, message in (
        ("sensor.temperature", "none of raw_today"),
        ("sensor.nothing", "no such entity"),
    ):
        with pytest.raises(ServiceValidationError) as err:
            await _set(hass, config_entry_id=loaded.entry_id, entity_id=entity)
        assert message in str(err.value.translation_placeholders)


async def test_an_automation_passes_an_attribute_through_a_template(
    hass: HomeAssistant, loaded: MockConfigEntry
) -> None:
    """ENTSO-E's prices_today holds text times: `| to_json` in a script's data works."""
    entsoe = [
        {"time": hour(1).isoformat(), "price": 0.31},
        {"time": hour(2).isoformat(), "price": 0.12},
    ]
    hass.states.async_set("sensor.entsoe_average", "0.2", {"prices_today": entsoe})
    template = "{{ state_attr('sensor.entsoe_average', 'prices_today') | to_json }}"
    action = {
        "action": f"{DOMAIN}.set_prices",
        "data": {"config_entry_id": loaded.entry_id, "prices": template},
    }
    script = Script(hass, cv.SCRIPT_SCHEMA([action]), "prices", DOMAIN)  # templates compiled
    await script.async_run(context=Context())
    await hass.async_block_till_done()
    assert list(pushed(loaded).values()) == [Decimal("0.31"), Decimal("0.12")]


@pytest.mark.parametrize(
    ("prices", "message"),
    [
        ([{"start": "2030-01-01T00:00:00", "value": 0.1}], "prices[0].start: needs a UTC offset"),
        ([{"start": "2030-01-01T00:00:00Z"}], "prices[0].price: is required"),
        ('[{"start": "2030-01-01T00:00:00Z", "price": 0.1', "Expecting"),
        ('"cheap"', "prices: must be a list"),
    ],
)
async def test_bad_prices_are_a_clear_error_and_change_nothing(
    hass: HomeAssistant, loaded: MockConfigEntry, prices: Any, message: str
) -> None:
    await _set(hass, config_entry_id=loaded.entry_id, prices=nordpool([0.1]))
    with pytest.raises(ServiceValidationError) as err:
        await _set(hass, config_entry_id=loaded.entry_id, prices=prices)
    assert err.value.translation_key == "invalid_value"
    assert message in str(err.value.translation_placeholders)
    assert list(pushed(loaded).values()) == [Decimal("0.1")]


async def test_an_unknown_entry_is_refused(hass: HomeAssistant, loaded: MockConfigEntry) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await _set(hass, config_entry_id="nope", prices=[])
    assert err.value.translation_key == "unknown_entry"
    with pytest.raises(vol.Invalid, match="prices, entity_id"):  # neither given
        await _set(hass, config_entry_id=loaded.entry_id)
