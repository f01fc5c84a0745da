"""The planner's money in HA: a car plan's cost per charger and the current hour's price."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.eflux.const import DOMAIN
from sim.chargepoint import Car

from .conftest import ENTRY_ID, SimFactory
from .helpers import settle, until

COST = "sensor.cp_1_planned_charging_cost"
PRICE = "sensor.e_flux_site_current_electricity_price"


def hour(offset: int) -> datetime:
    """Hour starts (HA's time zone) from the current hour on."""
    now = dt_util.now().replace(minute=0, second=0, microsecond=0)
    return now + timedelta(hours=offset)


def prices(values: list[str]) -> list[dict[str, Any]]:
    return [
        {"start": hour(i).isoformat(), "end": hour(i + 1).isoformat(), "price": value}
        for i, value in enumerate(values)
    ]


async def _set_prices(hass: HomeAssistant, entry: MockConfigEntry, values: list[str]) -> None:
    await hass.services.async_call(
        DOMAIN,
        "set_prices",
        {"config_entry_id": entry.entry_id, "prices": prices(values)},
        blocking=True,
    )


async def test_the_plans_cost_at_the_pushed_prices(
    hass: HomeAssistant, loaded: MockConfigEntry, make_sim: SimFactory
) -> None:
    site = loaded.runtime_data.site
    sim = await make_sim("CP-1", car=Car(soc=40.0))
    await sim.plug_in("CARD-1")
    await until(hass, lambda: site.state().chargers["CP-1"].transaction_id is not None)
    await settle(hass)
    assert hass.states.get(COST).state == "unknown"  # no departure: no plan
    state = hass.states.get(COST)
    assert state.attributes["unit_of_measurement"] == "EUR"  # HA's currency
    assert state.attributes["device_class"] == "monetary"

    device = dr.async_get(hass).async_get_device({(DOMAIN, f"{ENTRY_ID}_CP-1")})
    assert device is not None
    departure = dt_util.utcnow().replace(microsecond=0) + timedelta(hours=8)
    await hass.services.async_call(
        DOMAIN,
        "set_departure",
        {
            "device_id": device.id,
            "departure": departure.isoformat(),
            "soc": 40,
            "battery_kwh": 45,
            "target_soc": 100,
        },
        blocking=True,
    )
    await until(hass, lambda: site.controller.car_plan("CP-1") is not None)
    await settle(hass)
    # Planned, but HA has no tariff: the hours it charges in have no price yet.
    assert hass.states.get(COST).state == "unknown"
    assert hass.states.get(PRICE).state == "unknown"

    # 45 kWh x 60 % / 0.9 = 30 kWh; the three cheap hours (3, 4, 5) hold it: the 25 A fuse
    # less its 2 A margin leaves 15.9 kW (hours from 7 on have no price: used only last).
    await _set_prices(hass, loaded, ["0.30", "0.30", "0.30", "0.10", "0.10", "0.10", "0.30"])

    def cost() -> Decimal | None:
        plan = site.controller.car_plan("CP-1")
        return plan.estimated_cost if plan is not None else None

    await until(hass, lambda: cost() is not None)
    await settle(hass)
    assert cost() == Decimal("3.00")
    assert hass.states.get(COST).state == "3.00"
    assert hass.states.get(PRICE).state == "0.30"  # the current hour's
    assert hass.states.get(PRICE).attributes["unit_of_measurement"] == "EUR/kWh"

    # Dearer cheap hours: the plan and the sensor follow (a push re-plans at once).
    await _set_prices(hass, loaded, ["0.30", "0.30", "0.30", "0.20", "0.20", "0.20", "0.30"])
    await until(hass, lambda: cost() == Decimal("6.00"))
    await settle(hass)
    assert hass.states.get(COST).state == "6.00"


async def test_the_price_moves_on_at_the_hour_without_a_pass(
    hass: HomeAssistant, loaded: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """Nothing else happens at the hour (no meter, no charger): the sensor reads it anyway."""
    await _set_prices(hass, loaded, ["0.25", "0.15"])
    await settle(hass)
    assert hass.states.get(PRICE).state == "0.25"
    passes = loaded.runtime_data.site.controller.passes
    next_hour = dt_util.as_utc(hour(1))
    freezer.move_to(next_hour)
    async_fire_time_changed(hass, next_hour)
    await settle(hass)
    assert hass.states.get(PRICE).state == "0.15"
    assert loaded.runtime_data.site.controller.passes == passes
