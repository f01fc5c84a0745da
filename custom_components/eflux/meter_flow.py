"""A sub-circuit's own meter and the grid connection's meter-loss policy, in the options flow.

A circuit below the grid connection (a garage, a floor) can have a meter of its own (site.yaml
`meters:` with its `circuit`): a Modbus TCP meter, read once before it is kept, or Home
Assistant sensors (its current per phase, fed by meter_link.py); and say whether that
meter sees its chargers too (`meter_includes_chargers`); the grid connection, like any
circuit, says what happens while its meter is silent and the fixed budget to share then
(`fallback_budget_a`). As everywhere in the options, core's parser judges the result.
"""

from __future__ import annotations

from typing import Any

import voluptuous as vol
from homeassistant.components.sensor import SensorDeviceClass
from homeassistant.config_entries import ConfigFlowResult
from homeassistant.helpers import selector

from .checks import async_probe_meter, meter_profiles
from .circuit_flow import (
    CONF_CIRCUIT,
    CONF_FALLBACK,
    CONF_LOSS,
    METER_LOSS,
    CircuitStepsMixin,
    amps_field,
    select_selector,
)
from .const import (
    CONF_CURRENT_L1,
    CONF_CURRENT_L2,
    CONF_CURRENT_L3,
    CONF_HOST,
    CONF_METER_TYPE,
    CONF_MODBUS_PORT,
    CONF_PHASES,
    CONF_POWER,
    CONF_PROFILE,
    CONF_UNIT_ID,
    DEFAULT_MODBUS_PORT,
    DEFAULT_PHASES,
    DEFAULT_UNIT_ID,
    METER_MODBUS,
    METER_SENSORS,
)
from .site_config import (
    CONF_CIRCUIT_METERS,
    CONF_GRID_FALLBACK,
    CONF_GRID_METER_LOSS,
    circuit_limit,
)


def _number(low: int, high: int) -> vol.All:
    config = selector.NumberSelectorConfig(
        min=low, max=high, step=1, mode=selector.NumberSelectorMode.BOX
    )
    return vol.All(selector.NumberSelector(config), vol.Coerce(int))


SENSOR_KEYS = (CONF_CURRENT_L1, CONF_CURRENT_L2, CONF_CURRENT_L3, CONF_POWER)


def _sensor(device_class: SensorDeviceClass) -> selector.EntitySelector:
    return selector.EntitySelector(
        selector.EntitySelectorConfig(domain="sensor", device_class=device_class)
    )


class CircuitMeterStepsMixin(CircuitStepsMixin):
    """The circuit_meter and grid_circuit steps of the circuits menu."""

    async def async_step_circuit_meter(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """A circuit's Modbus TCP meter, or its Home Assistant sensors (neither removes it)."""
        circuits = [c["id"] for c in self._circuits()]
        meters = dict(self._site.get(CONF_CIRCUIT_METERS) or {})
        profiles = await self.hass.async_add_executor_job(meter_profiles, METER_MODBUS)
        errors: dict[str, str] = {}
        reason = ""
        if user_input is not None:
            ident = str(user_input[CONF_CIRCUIT])
            host = str(user_input.get(CONF_HOST) or "").strip()
            sensors = {k: user_input[k] for k in SENSOR_KEYS if user_input.get(k)}
            three = int(self._site.get(CONF_PHASES, DEFAULT_PHASES)) == 3
            if not host and not sensors:
                meters.pop(ident, None)
            elif not host:  # Home Assistant sensors, as for the grid meter
                if CONF_CURRENT_L1 not in sensors or (
                    three and not {CONF_CURRENT_L2, CONF_CURRENT_L3} <= sensors.keys()
                ):
                    errors["base"] = "phase_sensor_missing"
                meters[ident] = {CONF_METER_TYPE: METER_SENSORS, **sensors}
            elif not user_input.get(CONF_PROFILE):
                errors[CONF_PROFILE] = "profile_missing"
            else:
                meter = {
                    CONF_METER_TYPE: METER_MODBUS,
                    CONF_HOST: host,
                    CONF_MODBUS_PORT: int(user_input[CONF_MODBUS_PORT]),
                    CONF_UNIT_ID: int(user_input[CONF_UNIT_ID]),
                    CONF_PROFILE: user_input[CONF_PROFILE],
                }
                bound = circuit_limit(self._site, ident)
                reason = await async_probe_meter(self.hass, meter, bound) or ""
                if reason:
                    errors["base"] = "meter_failed"
                meters[ident] = meter
            if not errors:
                options = {**self._site, CONF_CIRCUIT_METERS: meters}
                problem = await self._checked(options)
                if problem is None:
                    self._site = options
                    return await self.async_step_circuits()
                errors["base"], reason = "invalid_site", problem
        schema = vol.Schema(
            {
                vol.Required(CONF_CIRCUIT): select_selector(circuits),
                vol.Optional(CONF_HOST): str,
                vol.Required(CONF_MODBUS_PORT, default=DEFAULT_MODBUS_PORT): _number(1, 65535),
                vol.Required(CONF_UNIT_ID, default=DEFAULT_UNIT_ID): _number(0, 247),
                vol.Optional(CONF_PROFILE): select_selector(profiles, CONF_PROFILE),
                vol.Optional(CONF_CURRENT_L1): _sensor(SensorDeviceClass.CURRENT),
                vol.Optional(CONF_CURRENT_L2): _sensor(SensorDeviceClass.CURRENT),
                vol.Optional(CONF_CURRENT_L3): _sensor(SensorDeviceClass.CURRENT),
                vol.Optional(CONF_POWER): _sensor(SensorDeviceClass.POWER),
            }
        )
        return self.async_show_form(
            step_id="circuit_meter",
            data_schema=self.add_suggested_values_to_schema(schema, user_input or {}),
            errors=errors,
            description_placeholders={
                "reason": reason,
                "meters": ", ".join(
                    f"{c}: {m.get(CONF_HOST) or m.get(CONF_CURRENT_L1)}" for c, m in meters.items()
                )
                or "-",
            },
        )

    async def async_step_grid_circuit(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """What the chargers do while the grid meter is silent, and the fixed budget."""
        errors: dict[str, str] = {}
        reason = ""
        if user_input is not None:
            options = {**self._site, CONF_GRID_METER_LOSS: user_input[CONF_LOSS]}
            options.pop(CONF_GRID_FALLBACK, None)
            if user_input.get(CONF_FALLBACK) is not None:
                options[CONF_GRID_FALLBACK] = float(user_input[CONF_FALLBACK])
            problem = await self._checked(options)
            if problem is None:
                self._site = options
                return await self.async_step_circuits()
            errors["base"], reason = "invalid_site", problem
        schema = vol.Schema(
            {
                vol.Required(CONF_LOSS): select_selector(METER_LOSS, CONF_LOSS),
                vol.Optional(CONF_FALLBACK): amps_field(0, 4000),
            }
        )
        current = {
            CONF_LOSS: self._site.get(CONF_GRID_METER_LOSS) or METER_LOSS[0],
            CONF_FALLBACK: self._site.get(CONF_GRID_FALLBACK),
        }
        return self.async_show_form(
            step_id="grid_circuit",
            data_schema=self.add_suggested_values_to_schema(schema, user_input or current),
            errors=errors,
            description_placeholders={"reason": reason},
        )
