"""Form schemas and the steps shared by the config flow and the options flow.

The grid and meter questions are asked when an entry is created and again in its options; the
`SiteStepsMixin` holds those steps once, and each flow says what happens when they are done.
"""

from __future__ import annotations

from typing import Any

import voluptuous as vol
from homeassistant.components.sensor import SensorDeviceClass
from homeassistant.config_entries import ConfigEntryBaseFlow, ConfigFlowResult
from homeassistant.helpers import selector

from .checks import async_probe_meter, meter_profiles
from .const import (
    CONF_ACCEPT_NEW,
    CONF_CLOUD_TOKEN,
    CONF_CLOUD_URL,
    CONF_CURRENT_L1,
    CONF_CURRENT_L2,
    CONF_CURRENT_L3,
    CONF_FUSE_AMPS,
    CONF_HOST,
    CONF_MARGIN_AMPS,
    CONF_METER,
    CONF_METER_TYPE,
    CONF_MODBUS_PORT,
    CONF_PHASES,
    CONF_PORT,
    CONF_POWER,
    CONF_PROFILE,
    CONF_TOPIC,
    CONF_UNIT_ID,
    DEFAULT_FUSE_AMPS,
    DEFAULT_MARGIN_AMPS,
    DEFAULT_MODBUS_PORT,
    DEFAULT_PHASES,
    DEFAULT_PORT,
    DEFAULT_UNIT_ID,
    MAX_FUSE_AMPS,
    METER_MODBUS,
    METER_MQTT,
    METER_NONE,
    METER_SENSORS,
    MIN_CHARGING_AMPS,
    MIN_FUSE_AMPS,
)

METER_STEPS = ["meter_modbus", "meter_mqtt", "meter_sensors", "meter_none"]
# The meter menu again, with the error mqtt_not_configured as its description.
METER_MQTT_MISSING = "mqtt_not_configured"


def _box(low: float, high: float, unit: str | None = None, step: float = 1) -> vol.All:
    config = selector.NumberSelectorConfig(
        min=low, max=high, step=step, mode=selector.NumberSelectorMode.BOX
    )
    if unit is not None:
        config["unit_of_measurement"] = unit
    return vol.All(selector.NumberSelector(config), vol.Coerce(int))


def port_schema(defaults: dict[str, Any]) -> vol.Schema:
    return vol.Schema(
        {
            vol.Required(CONF_PORT, default=defaults.get(CONF_PORT, DEFAULT_PORT)): _box(1, 65535),
        }
    )


def accept_schema(defaults: dict[str, Any]) -> vol.Schema:
    return vol.Schema(
        {vol.Required(CONF_ACCEPT_NEW, default=defaults.get(CONF_ACCEPT_NEW, True)): bool}
    )


def grid_schema(defaults: dict[str, Any]) -> vol.Schema:
    phases = selector.SelectSelector(
        selector.SelectSelectorConfig(
            options=["1", "3"],
            mode=selector.SelectSelectorMode.LIST,
            translation_key=CONF_PHASES,
        )
    )
    return vol.Schema(
        {
            vol.Required(
                CONF_PHASES, default=str(defaults.get(CONF_PHASES, DEFAULT_PHASES))
            ): phases,
            vol.Required(
                CONF_FUSE_AMPS, default=defaults.get(CONF_FUSE_AMPS, DEFAULT_FUSE_AMPS)
            ): _box(MIN_FUSE_AMPS, MAX_FUSE_AMPS, "A"),
            vol.Required(
                CONF_MARGIN_AMPS, default=defaults.get(CONF_MARGIN_AMPS, DEFAULT_MARGIN_AMPS)
            ): _box(0, MAX_FUSE_AMPS, "A"),
        }
    )


def cloud_schema(defaults: dict[str, Any]) -> vol.Schema:
    return vol.Schema(
        {
            vol.Optional(
                CONF_CLOUD_URL, description={"suggested_value": defaults.get(CONF_CLOUD_URL)}
            ): selector.TextSelector(
                selector.TextSelectorConfig(type=selector.TextSelectorType.URL)
            ),
            vol.Optional(CONF_CLOUD_TOKEN): selector.TextSelector(
                selector.TextSelectorConfig(type=selector.TextSelectorType.PASSWORD)
            ),
        }
    )


def token_schema() -> vol.Schema:
    return vol.Schema(
        {
            vol.Required(CONF_CLOUD_TOKEN): selector.TextSelector(
                selector.TextSelectorConfig(type=selector.TextSelectorType.PASSWORD)
            )
        }
    )


def _profile_selector(profiles: list[str]) -> selector.SelectSelector:
    """Device profiles by their translated names (selector.profile in strings.json)."""
    return selector.SelectSelector(
        selector.SelectSelectorConfig(
            options=profiles,
            mode=selector.SelectSelectorMode.DROPDOWN,
            translation_key=CONF_PROFILE,
        )
    )


# Meter forms carry no defaults of their own beyond the usual port and unit: what the user
# entered before comes in as suggested values (`SiteStepsMixin._meter_step`).
def modbus_schema(profiles: list[str]) -> vol.Schema:
    return vol.Schema(
        {
            vol.Required(CONF_HOST): str,
            vol.Required(CONF_MODBUS_PORT, default=DEFAULT_MODBUS_PORT): _box(1, 65535),
            vol.Required(CONF_UNIT_ID, default=DEFAULT_UNIT_ID): _box(0, 247),
            vol.Required(CONF_PROFILE): _profile_selector(profiles),
        }
    )


def mqtt_schema() -> vol.Schema:
    return vol.Schema(
        {
            vol.Required(CONF_PROFILE): _profile_selector(meter_profiles(METER_MQTT)),
            vol.Required(CONF_TOPIC): str,
        }
    )


def sensors_schema() -> vol.Schema:
    def pick(device_class: SensorDeviceClass) -> selector.EntitySelector:
        return selector.EntitySelector(
            selector.EntitySelectorConfig(domain="sensor", device_class=device_class)
        )

    current = pick(SensorDeviceClass.CURRENT)
    return vol.Schema(
        {
            vol.Required(CONF_CURRENT_L1): current,
            vol.Optional(CONF_CURRENT_L2): current,
            vol.Optional(CONF_CURRENT_L3): current,
            vol.Optional(CONF_POWER): pick(SensorDeviceClass.POWER),
        }
    )


def grid_errors(user_input: dict[str, Any]) -> dict[str, str]:
    """The margin must leave room for at least one car at 6 A."""
    if int(user_input[CONF_FUSE_AMPS]) - int(user_input[CONF_MARGIN_AMPS]) < MIN_CHARGING_AMPS:
        return {CONF_MARGIN_AMPS: "margin_too_large"}
    return {}


def grid_values(user_input: dict[str, Any]) -> dict[str, Any]:
    return {
        CONF_PHASES: int(user_input[CONF_PHASES]),
        CONF_FUSE_AMPS: int(user_input[CONF_FUSE_AMPS]),
        CONF_MARGIN_AMPS: int(user_input[CONF_MARGIN_AMPS]),
    }


class SiteStepsMixin(ConfigEntryBaseFlow):
    """Grid and meter steps; `_site` collects the answers, `async_site_done` finishes."""

    _site: dict[str, Any]

    def _site_defaults(self) -> dict[str, Any]:
        return self._site

    async def async_site_done(self) -> ConfigFlowResult:
        raise NotImplementedError

    async def async_step_grid(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Phases, main fuse and safety margin of the grid connection."""
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = grid_errors(user_input)
            if not errors:
                self._site.update(grid_values(user_input))
                return await self.async_step_meter()
        return self.async_show_form(
            step_id="grid",
            data_schema=grid_schema(user_input or self._site_defaults()),
            errors=errors,
        )

    async def async_step_meter(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Where the grid readings come from."""
        return self.async_show_menu(step_id="meter", menu_options=METER_STEPS)

    async def async_step_mqtt_not_configured(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The meter menu again, saying that HA's MQTT is not set up (an abort would lose
        what was entered so far)."""
        return self.async_show_menu(step_id=METER_MQTT_MISSING, menu_options=METER_STEPS)

    def _meter_defaults(self, kind: str) -> dict[str, Any]:
        meter = self._site_defaults().get(CONF_METER) or {}
        return dict(meter) if meter.get(CONF_METER_TYPE) == kind else {}

    async def _meter_step(
        self,
        kind: str,
        schema: vol.Schema,
        user_input: dict[str, Any] | None,
        errors: dict[str, str] | None = None,
        reason: str = "",
    ) -> ConfigFlowResult:
        return self.async_show_form(
            step_id=f"meter_{kind}",
            data_schema=self.add_suggested_values_to_schema(
                schema, user_input or self._meter_defaults(kind)
            ),
            errors=errors or {},
            description_placeholders={"reason": reason},
        )

    async def async_step_meter_modbus(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """A Modbus TCP meter, read once before it is saved."""
        # The built-in profiles are files: listed (and read, by the probe) in the executor.
        schema = modbus_schema(await self.hass.async_add_executor_job(meter_profiles, METER_MODBUS))
        if user_input is None:
            return await self._meter_step(METER_MODBUS, schema, None)
        meter = {CONF_METER_TYPE: METER_MODBUS, **user_input}
        meter[CONF_MODBUS_PORT] = int(meter[CONF_MODBUS_PORT])
        meter[CONF_UNIT_ID] = int(meter[CONF_UNIT_ID])
        fuse = float(self._site.get(CONF_FUSE_AMPS, DEFAULT_FUSE_AMPS))
        reason = await async_probe_meter(self.hass, meter, fuse)
        if reason is not None:
            return await self._meter_step(
                METER_MODBUS, schema, user_input, {"base": "meter_failed"}, reason
            )
        return await self._meter_chosen(meter)

    async def async_step_meter_mqtt(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """A meter on MQTT, received through Home Assistant's own MQTT integration."""
        if not self.hass.config_entries.async_loaded_entries("mqtt"):
            return await self.async_step_mqtt_not_configured()
        if user_input is None:
            return await self._meter_step(METER_MQTT, mqtt_schema(), None)
        topic = str(user_input[CONF_TOPIC]).strip()
        if not topic or any(char in topic for char in "+#\0"):
            return await self._meter_step(
                METER_MQTT, mqtt_schema(), user_input, {CONF_TOPIC: "invalid_topic"}
            )
        return await self._meter_chosen(
            {CONF_METER_TYPE: METER_MQTT, CONF_PROFILE: user_input[CONF_PROFILE], CONF_TOPIC: topic}
        )

    async def async_step_meter_sensors(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Existing HA sensors (DSMR, HomeWizard, ...) per phase."""
        if user_input is None:
            return await self._meter_step(METER_SENSORS, sensors_schema(), None)
        phases = int(self._site.get(CONF_PHASES, DEFAULT_PHASES))
        if phases == 3 and not (
            user_input.get(CONF_CURRENT_L2) and user_input.get(CONF_CURRENT_L3)
        ):
            return await self._meter_step(
                METER_SENSORS, sensors_schema(), user_input, {"base": "phase_sensor_missing"}
            )
        return await self._meter_chosen({CONF_METER_TYPE: METER_SENSORS, **user_input})

    async def async_step_meter_none(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """No meter: chargers share the fuse minus the margin (static balancing)."""
        return await self._meter_chosen({CONF_METER_TYPE: METER_NONE})

    async def _meter_chosen(self, meter: dict[str, Any]) -> ConfigFlowResult:
        self._site[CONF_METER] = meter
        return await self.async_site_done()


def accept_value(user_input: dict[str, Any]) -> dict[str, Any]:
    return {CONF_ACCEPT_NEW: bool(user_input[CONF_ACCEPT_NEW])}
