"""Services: departure, start/stop, a manual charging profile, prices, lost cards, a sync now.

Registered once in `async_setup`; charger services name the charger's device (a socket's
device for a socket of a box with several; the box's own device means its first socket), site
and cloud services the config entry. Each resolves its target and hands the call to core.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import voluptuous as vol
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_DEVICE_ID, ATTR_ENTITY_ID
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr

from .cloud import EfluxCloud
from .compat import device_entry_ids
from .const import DOMAIN
from .core.domain import DepartureRequest
from .core.runtime import ChargerSnapshot, NoActiveTransaction
from .data import EfluxConfigEntry
from .entity import charger_for_device, future_departure, run_command
from .sessions import async_export_sessions

ATTR_CONFIG_ENTRY_ID = "config_entry_id"
ATTR_DEPARTURE = "departure"
ATTR_SOC = "soc"
ATTR_BATTERY_KWH = "battery_kwh"
ATTR_TARGET_SOC = "target_soc"
ATTR_CURRENT = "current"
ATTR_PHASES = "phases"
ATTR_CARD = "card"
ATTR_PRICES = "prices"
ATTR_REPLACE = "replace"

SERVICE_SET_DEPARTURE = "set_departure"
SERVICE_START = "start_charging"
SERVICE_STOP = "stop_charging"
SERVICE_PROFILE = "set_charging_profile"
SERVICE_CARD_LOST = "report_card_lost"
SERVICE_SYNC = "sync_now"
SERVICE_PRICES = "set_prices"
SERVICE_EXPORT = "export_sessions"
ATTR_MONTH = "month"
SERVICE_CIRCUIT_LIMIT = "set_circuit_limit"
ATTR_CIRCUIT = "circuit"
ATTR_LIMIT = "limit_a"
ATTR_DURATION = "duration"
ATTR_MIN_KW = "min_kw_per_charger"
ATTR_CLEAR = "clear"
# Price-sensor attributes read with `entity_id` (Nordpool; ENTSO-E), in this order.
PRICE_ATTRIBUTES = ("raw_today", "raw_tomorrow", "prices_today", "prices_tomorrow")

_PERCENT = vol.All(vol.Coerce(float), vol.Range(min=0, max=100))
DEVICE_SCHEMA = vol.Schema({vol.Required(ATTR_DEVICE_ID): cv.string})
ENTRY_SCHEMA = vol.Schema({vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string})
DEPARTURE_SCHEMA = DEVICE_SCHEMA.extend(
    {
        vol.Required(ATTR_DEPARTURE): cv.datetime,
        vol.Optional(ATTR_SOC): _PERCENT,
        vol.Optional(ATTR_BATTERY_KWH): vol.All(vol.Coerce(float), vol.Range(min=1, max=1000)),
        vol.Optional(ATTR_TARGET_SOC, default=100.0): vol.All(
            vol.Coerce(float), vol.Range(min=1, max=100)
        ),
    }
)
PROFILE_SCHEMA = DEVICE_SCHEMA.extend(
    {
        vol.Required(ATTR_CURRENT): vol.All(vol.Coerce(float), vol.Range(min=0, max=80)),
        vol.Optional(ATTR_PHASES): vol.All(vol.Coerce(int), vol.In([1, 3])),
    }
)
PRICES_SCHEMA = vol.All(
    ENTRY_SCHEMA.extend(
        {
            # A list of {start, end?, price|value}, or the same as JSON text (what a template
            # with `| to_json` renders when it cannot be turned back into a list).
            vol.Optional(ATTR_PRICES): vol.Any(list, cv.string),
            # A price sensor whose attributes hold such lists (Nordpool, ENTSO-E): read here,
            # because datetimes in attributes do not survive a template.
            vol.Optional(ATTR_ENTITY_ID): cv.entity_id,
            vol.Optional(ATTR_REPLACE, default=False): cv.boolean,
        }
    ),
    cv.has_at_least_one_key(ATTR_PRICES, ATTR_ENTITY_ID),
)
_AMPS = vol.All(vol.Coerce(float), vol.Range(min=0, max=10000))
CIRCUIT_LIMIT_SCHEMA = ENTRY_SCHEMA.extend(
    {
        vol.Required(ATTR_CIRCUIT): vol.All(cv.string, vol.Strip, vol.Length(min=1, max=64)),
        # One value for every phase, or [L1, L2, L3].
        vol.Optional(ATTR_LIMIT): vol.Any(_AMPS, vol.All([_AMPS], vol.Length(min=3, max=3))),
        vol.Optional(ATTR_DURATION): cv.positive_time_period,
        vol.Optional(ATTR_MIN_KW): vol.All(vol.Coerce(float), vol.Range(min=0, max=50)),
        vol.Optional(ATTR_CLEAR, default=False): cv.boolean,
    }
)
EXPORT_SCHEMA = ENTRY_SCHEMA.extend(
    {
        vol.Optional(ATTR_MONTH): cv.string,  # YYYY-MM; default: the current month
        vol.Optional(ATTR_CARD): vol.All(cv.string, vol.Strip, vol.Length(min=1, max=64)),
    }
)
CARD_SCHEMA = ENTRY_SCHEMA.extend(
    {vol.Required(ATTR_CARD): vol.All(cv.string, vol.Strip, vol.Length(min=1, max=64))}
)


def _loaded_entry(hass: HomeAssistant, entry_id: str) -> EfluxConfigEntry:
    entry = hass.config_entries.async_get_entry(entry_id)
    if entry is None or entry.domain != DOMAIN:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="unknown_entry")
    if entry.state is not ConfigEntryState.LOADED:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="not_loaded")
    return entry


def _charger(hass: HomeAssistant, call: ServiceCall) -> tuple[EfluxConfigEntry, ChargerSnapshot]:
    """The loaded entry and the charger behind the service call's device."""
    device = dr.async_get(hass).async_get(call.data[ATTR_DEVICE_ID])
    if device is not None:
        for domain, ident in device.identifiers:
            if domain != DOMAIN:
                continue
            for entry_id in device_entry_ids(device):
                prefix = f"{entry_id}_"
                if not ident.startswith(prefix):
                    continue
                entry = _loaded_entry(hass, entry_id)
                chargers = entry.runtime_data.coordinator.data.chargers
                charger = charger_for_device(chargers, ident[len(prefix) :])
                if charger is not None:
                    return entry, charger
    raise ServiceValidationError(translation_domain=DOMAIN, translation_key="not_a_charger")


async def _set_departure(call: ServiceCall) -> None:
    entry, charger = _charger(call.hass, call)
    request = DepartureRequest(
        charge_point_id=charger.charge_point_id,
        connector_id=charger.connector_id,
        departure_at=future_departure(call.data[ATTR_DEPARTURE]),
        soc_now=call.data.get(ATTR_SOC),
        target_soc=call.data[ATTR_TARGET_SOC],
        battery_kwh=call.data.get(ATTR_BATTERY_KWH),
    )
    site = entry.runtime_data.site
    await run_command(site.set_target_soc(charger.id, call.data[ATTR_TARGET_SOC]))
    await run_command(site.set_departure(request))


async def _start(call: ServiceCall) -> None:
    entry, charger = _charger(call.hass, call)
    await run_command(entry.runtime_data.site.start_charging(charger.id))


async def _stop(call: ServiceCall) -> ServiceResponse:
    """RemoteStop of the charger's session; which one it stopped. With no session running
    there is nothing to stop and the call succeeds with `stopped` false: the charger is not
    charging, as asked (an automation stopping at a high price must not fail on an idle
    charger, and HA's REST API answers any error of a service, ServiceValidationError too,
    with a 500)."""
    entry, charger = _charger(call.hass, call)
    site = entry.runtime_data.site
    transaction_id = site.charger_state(charger.id).transaction_id

    async def stop() -> bool:
        try:
            await site.stop_charging(charger.id)
        except NoActiveTransaction:
            return False
        return True

    if not await run_command(stop()):
        return {"stopped": False, "transaction_id": None}
    return {"stopped": True, "transaction_id": transaction_id}


async def _profile(call: ServiceCall) -> None:
    entry, charger = _charger(call.hass, call)
    await run_command(
        entry.runtime_data.site.set_current_limit(
            charger.id, call.data[ATTR_CURRENT], call.data.get(ATTR_PHASES)
        )
    )


async def _set_prices(call: ServiceCall) -> ServiceResponse:
    """Day-ahead prices per kWh over the tariff (e.g. Nordpool's raw_today + raw_tomorrow)."""
    entry = _loaded_entry(call.hass, call.data[ATTR_CONFIG_ENTRY_ID])
    try:
        site = entry.runtime_data.site
        hours = await site.push_prices(_price_items(call), replace=call.data[ATTR_REPLACE])
    except ValueError as err:  # PlanInputError names the entry and field; JSON errors too
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="invalid_value",
            translation_placeholders={"error": str(err)},
        ) from err
    return {"hours_set": hours}


async def _export(call: ServiceCall) -> ServiceResponse:
    """A month's sessions as CSV (grouped per card, with totals) under the config dir."""
    entry = _loaded_entry(call.hass, call.data[ATTR_CONFIG_ENTRY_ID])
    try:
        return await async_export_sessions(
            call.hass,
            entry.runtime_data.site,
            entry.entry_id,
            call.data.get(ATTR_MONTH),
            call.data.get(ATTR_CARD),
        )
    except ValueError as err:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="invalid_value",
            translation_placeholders={"error": str(err)},
        ) from err


def _price_items(call: ServiceCall) -> list[Any]:
    items: list[Any] = []
    if ATTR_ENTITY_ID in call.data:
        state = call.hass.states.get(call.data[ATTR_ENTITY_ID])
        if state is None:
            raise ValueError(f"{call.data[ATTR_ENTITY_ID]}: no such entity")
        lists = [state.attributes.get(name) for name in PRICE_ATTRIBUTES]
        if not any(isinstance(found, list) for found in lists):
            raise ValueError(f"{state.entity_id}: none of {', '.join(PRICE_ATTRIBUTES)}")
        items = [item for found in lists if isinstance(found, list) for item in found]
    given: Any = call.data.get(ATTR_PRICES, [])
    if isinstance(given, str):
        given = json.loads(given, parse_float=Decimal)
    if not isinstance(given, list):
        raise ValueError(f"prices: must be a list of {{start, price}}, got {given!r:.40}")
    return items + given


async def _set_circuit_limit(call: ServiceCall) -> None:
    """A grid operator's signal or a demand response: the circuit's limit until `duration`
    has passed (or `clear`), never above its fuse."""
    site = _loaded_entry(call.hass, call.data[ATTR_CONFIG_ENTRY_ID]).runtime_data.site
    circuit = call.data[ATTR_CIRCUIT]
    limit = call.data.get(ATTR_LIMIT)
    try:
        if call.data[ATTR_CLEAR]:
            site.clear_circuit_limit(circuit)
        else:
            duration = call.data.get(ATTR_DURATION)
            site.set_circuit_limit(
                circuit,
                limit_a=tuple(limit) if isinstance(limit, list) else limit,
                expires_at=site.clock.now() + duration if duration is not None else None,
                min_kw_per_charger=call.data.get(ATTR_MIN_KW),
                reason="home_assistant",
            )
    except (KeyError, ValueError) as err:  # unknown circuit, CircuitLimitError
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="invalid_value",
            translation_placeholders={"error": str(err.args[0] if err.args else err)},
        ) from err
    site.recompute()


def _cloud(hass: HomeAssistant, call: ServiceCall) -> EfluxCloud:
    entry = _loaded_entry(hass, call.data[ATTR_CONFIG_ENTRY_ID])
    if entry.runtime_data.cloud is None:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="no_cloud")
    return entry.runtime_data.cloud


async def _card_lost(call: ServiceCall) -> None:
    await _cloud(call.hass, call).async_report_card_lost(call.data[ATTR_CARD])


async def _sync(call: ServiceCall) -> None:
    await _cloud(call.hass, call).async_sync_now()


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    for name, handler, schema in (
        (SERVICE_SET_DEPARTURE, _set_departure, DEPARTURE_SCHEMA),
        (SERVICE_START, _start, DEVICE_SCHEMA),
        (SERVICE_PROFILE, _profile, PROFILE_SCHEMA),
        (SERVICE_CARD_LOST, _card_lost, CARD_SCHEMA),
        (SERVICE_SYNC, _sync, ENTRY_SCHEMA),
        (SERVICE_CIRCUIT_LIMIT, _set_circuit_limit, CIRCUIT_LIMIT_SCHEMA),
    ):
        hass.services.async_register(DOMAIN, name, handler, schema=schema)
    hass.services.async_register(
        DOMAIN,
        SERVICE_STOP,
        _stop,
        schema=DEVICE_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_EXPORT,
        _export,
        schema=EXPORT_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_PRICES,
        _set_prices,
        schema=PRICES_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
