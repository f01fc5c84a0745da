"""Readings that arrive through Home Assistant: sensor entities, or HA's own MQTT, for the grid
meter and for a circuit's own meter (options `circuit_meters`).

Both feed core's `ExternalMeterSource` of that meter (staleness and plausibility stay in core).
A Modbus meter needs nothing here: core polls it itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from homeassistant.components import mqtt
from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN, UnitOfElectricCurrent, UnitOfPower
from homeassistant.core import (
    Event,
    EventStateChangedData,
    EventStateReportedData,
    HomeAssistant,
    State,
    callback,
)
from homeassistant.helpers.event import (
    async_track_state_change_event,
    async_track_state_report_event,
)
from homeassistant.util import dt as dt_util

from .const import (
    CONF_CURRENT_L1,
    CONF_CURRENT_L2,
    CONF_CURRENT_L3,
    CONF_METER,
    CONF_METER_TYPE,
    CONF_POWER,
    CONF_PROFILE,
    CONF_TOPIC,
    METER_MQTT,
    METER_SENSORS,
)
from .core.loadcontrol.meter_feed import ExternalMeterSource
from .core.meters.mqtt_payload import PayloadError, decode
from .core.meters.mqtt_profiles import PROFILES
from .core.meters.reading import MeterReading, from_fields
from .core.runtime import LocalSite
from .data import EfluxConfigEntry
from .site_config import CONF_CIRCUIT_METERS, METER_NAME, circuit_meter_name

_LOGGER = logging.getLogger(__name__)
_TO_BASE = {
    UnitOfElectricCurrent.MILLIAMPERE: 0.001,
    UnitOfPower.KILO_WATT: 1000.0,
}


def _value(state: State | None) -> float | None:
    """A sensor's value in A or W; None when it has none right now."""
    if state is None or state.state in (STATE_UNAVAILABLE, STATE_UNKNOWN):
        return None
    try:
        value = float(state.state)
    except ValueError:
        return None
    return value * _TO_BASE.get(state.attributes.get("unit_of_measurement", ""), 1.0)


def sensor_reading(
    hass: HomeAssistant, meter: Mapping[str, Any], name: str = METER_NAME
) -> MeterReading | None:
    """The current reading of the chosen sensors, or None while L1 has no value."""
    l1, l2, l3 = (
        _value(hass.states.get(meter[key])) if meter.get(key) else None
        for key in (CONF_CURRENT_L1, CONF_CURRENT_L2, CONF_CURRENT_L3)
    )
    if l1 is None:
        return None
    power = _value(hass.states.get(meter[CONF_POWER])) if meter.get(CONF_POWER) else None
    return MeterReading(
        source=name,
        timestamp=dt_util.utcnow(),
        current_a=(l1, l2, l3),
        total_power_w=power,
    )


async def async_link_meter(
    hass: HomeAssistant, entry: EfluxConfigEntry, site: LocalSite
) -> Callable[[], None]:
    """Start feeding the site's external meters; returns what stops it."""
    meters = [(METER_NAME, entry.options.get(CONF_METER) or {})]
    meters += [
        (circuit_meter_name(circuit), meter)
        for circuit, meter in (entry.options.get(CONF_CIRCUIT_METERS) or {}).items()
    ]
    stops: list[Callable[[], None]] = []
    for name, meter in meters:
        kind = meter.get(CONF_METER_TYPE)
        if kind == METER_SENSORS:
            stops.append(_link_sensors(hass, meter, site.external_meter(name), name))
        elif kind == METER_MQTT:
            stops.append(await _link_mqtt(hass, meter, site.external_meter(name), name))

    def stop() -> None:
        for each in stops:
            each()

    return stop


def _link_sensors(
    hass: HomeAssistant, meter: Mapping[str, Any], source: ExternalMeterSource, name: str
) -> Callable[[], None]:
    entity_ids = [
        meter[key]
        for key in (CONF_CURRENT_L1, CONF_CURRENT_L2, CONF_CURRENT_L3, CONF_POWER)
        if meter.get(key)
    ]

    @callback
    def push(
        _event: Event[EventStateChangedData] | Event[EventStateReportedData] | None = None,
    ) -> None:
        reading = sensor_reading(hass, meter, name)
        if reading is not None:
            source.push(reading)

    # A value re-reported unchanged still proves the meter is alive (state_reported).
    removers = [
        async_track_state_change_event(hass, entity_ids, push),
        async_track_state_report_event(hass, entity_ids, push),
    ]
    push()

    def stop() -> None:
        for remove in removers:
            remove()

    return stop


async def _link_mqtt(
    hass: HomeAssistant, meter: Mapping[str, Any], source: ExternalMeterSource, name: str
) -> Callable[[], None]:
    profile = PROFILES[meter[CONF_PROFILE]]
    routes = profile.routes(meter[CONF_TOPIC], {})
    raw: dict[str, float] = {}

    @callback
    def message(msg: mqtt.ReceiveMessage) -> None:
        payload = msg.payload if isinstance(msg.payload, bytes) else str(msg.payload).encode()
        try:
            raw.update(decode(routes[msg.topic], payload))
        except PayloadError as err:
            _LOGGER.warning("ignored a meter message on %s: %s", msg.topic, err)
            return
        fields = profile.combine(raw)
        if fields:
            source.push(from_fields(name, dt_util.utcnow(), fields))

    removers = [await mqtt.async_subscribe(hass, topic, message, encoding=None) for topic in routes]

    def stop() -> None:
        for remove in removers:
            remove()

    return stop
