"""Prices the planner weighs, in the options flow: a charger's flexibility price and Belgium's
capacity tariff (site.yaml parity).

Flexibility (site.yaml `chargers[].flexibility`): a price per kWh and per hour of stay, with
discounts for longer stays written on one line ("4h: 10, 8h: 25"), per charger. The capacity
tariff: the grid connection's monthly peak target in kW (`planner.capacity_tariff`). Core's
parser judges both, as everywhere in the options.
"""

from __future__ import annotations

from typing import Any

import voluptuous as vol
from homeassistant.config_entries import ConfigFlowResult
from homeassistant.helpers import selector

from .circuit_flow import CONF_CHARGER, CircuitStepsMixin, select_selector
from .core.config.flexibility import discounts_as_text, discounts_from_text
from .core.runtime import ConfigError
from .site_config import CONF_CAPACITY_TARGET_KW, CONF_CHARGER_SETTINGS

FLEXIBILITY = "flexibility"
CONF_PER_KWH, CONF_PER_HOUR, CONF_DISCOUNTS = "price_per_kwh", "price_per_hour", "discounts"


def flexibility_option(user_input: dict[str, Any]) -> dict[str, Any] | None:
    """site.yaml's `flexibility:` block from the form; None without a price per kWh.
    Raises core's ConfigError for a discount line it cannot read."""
    if user_input.get(CONF_PER_KWH) is None:
        return None
    return {
        CONF_PER_KWH: user_input[CONF_PER_KWH],
        CONF_PER_HOUR: user_input.get(CONF_PER_HOUR) or 0,
        CONF_DISCOUNTS: discounts_from_text(str(user_input.get(CONF_DISCOUNTS) or "")),
    }


class PlanningStepsMixin(CircuitStepsMixin):
    """The flexibility and capacity_tariff steps of the circuits menu."""

    async def async_step_flexibility(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """A charger's flexibility price (an empty price per kWh removes it)."""
        settings = dict(self._site.get(CONF_CHARGER_SETTINGS) or {})
        errors: dict[str, str] = {}
        reason = ""
        if user_input is not None:
            ident = str(user_input[CONF_CHARGER])
            charger = dict(settings.get(ident, {}))
            charger.pop(FLEXIBILITY, None)
            try:
                block = flexibility_option(user_input)
            except ConfigError as err:
                errors["base"], reason = "invalid_site", str(err)
            else:
                if block is not None:
                    charger[FLEXIBILITY] = block
                options = {**self._site, CONF_CHARGER_SETTINGS: {**settings, ident: charger}}
                problem = await self._checked(options)
                if problem is None:
                    self._site = options
                    return await self.async_step_circuits()
                errors["base"], reason = "invalid_site", problem
        price = vol.Coerce(float)
        schema = vol.Schema(
            {
                vol.Required(CONF_CHARGER): select_selector(self._charger_ids()),
                vol.Optional(CONF_PER_KWH): price,
                vol.Optional(CONF_PER_HOUR): price,
                vol.Optional(CONF_DISCOUNTS): str,
            }
        )
        shown = ", ".join(
            f"{ident}: {s[FLEXIBILITY][CONF_PER_KWH]}"
            f" ({discounts_as_text(s[FLEXIBILITY][CONF_DISCOUNTS]) or '-'})"
            for ident, s in settings.items()
            if FLEXIBILITY in s
        )
        return self.async_show_form(
            step_id="flexibility",
            data_schema=self.add_suggested_values_to_schema(schema, user_input or {}),
            errors=errors,
            description_placeholders={
                "reason": reason,
                "currency": self.hass.config.currency,
                "prices": shown or "-",
            },
        )

    async def async_step_capacity_tariff(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The grid connection's monthly peak target (empty: no capacity tariff)."""
        if user_input is not None:
            options = dict(self._site)
            options.pop(CONF_CAPACITY_TARGET_KW, None)
            if user_input.get(CONF_CAPACITY_TARGET_KW):
                options[CONF_CAPACITY_TARGET_KW] = float(user_input[CONF_CAPACITY_TARGET_KW])
            self._site = options
            return await self.async_step_circuits()
        target = selector.NumberSelector(
            selector.NumberSelectorConfig(
                min=0, max=1000, step=0.1, mode=selector.NumberSelectorMode.BOX,
                unit_of_measurement="kW",
            )
        )  # fmt: skip
        schema = vol.Schema({vol.Optional(CONF_CAPACITY_TARGET_KW): target})
        current = {CONF_CAPACITY_TARGET_KW: self._site.get(CONF_CAPACITY_TARGET_KW)}
        return self.async_show_form(
            step_id="capacity_tariff",
            data_schema=self.add_suggested_values_to_schema(schema, current),
        )
