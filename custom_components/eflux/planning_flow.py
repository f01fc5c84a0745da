"""Prices the planner weighs, in the options flow: the time-of-use tariff, a charger's
flexibility price and Belgium's capacity tariff (site.yaml parity).

The tariff (site.yaml `tariff:`, in HA's currency and time zone): a price, a night price over
some hours, a weekend price, and any other zones on one line ("mon-fri 17-21: 0.40"; they come
first, and the first zone that covers an hour wins); pushed prices (eflux.set_prices) override
it per hour.

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
from .core.config.tariff import zones_as_text, zones_from_text
from .core.runtime import ConfigError
from .site_config import CONF_CAPACITY_TARGET_KW, CONF_CHARGER_SETTINGS, CONF_TARIFF

CONF_PRICE, CONF_NIGHT_PRICE, CONF_NIGHT_HOURS = "price", "night_price", "night_hours"
CONF_WEEKEND_PRICE, CONF_OTHER_ZONES = "weekend_price", "other_zones"
WEEKEND = "sat,sun"

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


def tariff_option(user_input: dict[str, Any]) -> dict[str, Any]:
    """site.yaml's `tariff` from the form: the other zones first, then the night, then the
    weekend (the first zone that covers an hour wins, so a weekend night is a night). Raises
    core's ConfigError for a zone line it cannot read."""
    zones: list[dict[str, Any]] = zones_from_text(str(user_input.get(CONF_OTHER_ZONES) or ""))
    if user_input.get(CONF_NIGHT_PRICE) is not None:
        hours = str(user_input.get(CONF_NIGHT_HOURS) or "").strip()
        zones.append({"hours": hours, "price": user_input[CONF_NIGHT_PRICE]})
    if user_input.get(CONF_WEEKEND_PRICE) is not None:
        zones.append({"days": WEEKEND, "price": user_input[CONF_WEEKEND_PRICE]})
    tariff: dict[str, Any] = {"zones": zones} if zones else {}
    if user_input.get(CONF_PRICE) is not None:
        tariff["price"] = user_input[CONF_PRICE]
    return tariff


def tariff_form_values(tariff: dict[str, Any]) -> dict[str, Any]:
    """The form's values for a stored tariff (the inverse of `tariff_option`)."""
    others = list(tariff.get("zones", []))  # stored as: others, night, weekend
    weekend = night = None
    if others and others[-1].get("days") == WEEKEND and set(others[-1]) == {"days", "price"}:
        weekend = others.pop()
    if others and set(others[-1]) == {"hours", "price"}:
        night = others.pop()
    return {
        CONF_PRICE: tariff.get("price"),
        CONF_NIGHT_PRICE: night["price"] if night else None,
        CONF_NIGHT_HOURS: night["hours"] if night else "23-7",
        CONF_WEEKEND_PRICE: weekend["price"] if weekend else None,
        CONF_OTHER_ZONES: zones_as_text(others) or None,
    }


class PlanningStepsMixin(CircuitStepsMixin):
    """The tariff, flexibility and capacity_tariff steps of the circuits menu."""

    async def async_step_tariff(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """A time-of-use tariff per kWh (empty prices and zones: no tariff)."""
        errors: dict[str, str] = {}
        reason = ""
        if user_input is not None:
            try:
                options = {**self._site, CONF_TARIFF: tariff_option(user_input)}
            except ConfigError as err:
                errors["base"], reason = "invalid_site", str(err)
            else:
                problem = await self._checked(options)
                if problem is None:
                    self._site = options
                    return await self.async_step_circuits()
                errors["base"], reason = "invalid_site", problem
        price = vol.Coerce(float)
        schema = vol.Schema(
            {
                vol.Optional(CONF_PRICE): price,
                vol.Optional(CONF_NIGHT_PRICE): price,
                vol.Optional(CONF_NIGHT_HOURS): str,
                vol.Optional(CONF_WEEKEND_PRICE): price,
                vol.Optional(CONF_OTHER_ZONES): str,
            }
        )
        current = tariff_form_values(dict(self._site.get(CONF_TARIFF) or {}))
        return self.async_show_form(
            step_id="tariff",
            data_schema=self.add_suggested_values_to_schema(schema, user_input or current),
            errors=errors,
            description_placeholders={"reason": reason, "currency": self.hass.config.currency},
        )

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
