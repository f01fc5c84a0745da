"""The site's circuits and each charger's place in them, in the options flow (site.yaml parity).

A menu: add, edit or remove a circuit below the grid connection (parent, limit per phase,
margin, what it does while its meter is silent and the fixed budget then, whether its meter
includes its chargers), and set a charger's circuit, wiring (phase rotation or the one phase of
a single-phase charger), breaker rating (its maximum current), priority, whether it is balanced
or only monitored and whether the box switches between 1 and 3 phases. A circuit's own meter and
the grid's meter-loss policy are in meter_flow.py, prices in planning_flow.py, charger security
in security_flow.py. Every change is checked by core's own
site.yaml parser before it is kept (a circuit above its parent's, a charger on a missing
circuit, ... are shown as `invalid_site` with core's reason); nothing is saved until *Save*.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import voluptuous as vol
from homeassistant.config_entries import ConfigFlowResult, OptionsFlow
from homeassistant.helpers import selector

from .const import DOMAIN
from .core.runtime import ConfigError
from .site_config import (
    CONF_CHARGER_SETTINGS,
    CONF_CHARGERS,
    CONF_CIRCUIT_METERS,
    CONF_CIRCUITS,
    CONF_PHASE_SWITCHING,
    GRID,
    build_site_config,
)
from .site_import import SiteImportError, imported_options, read_site_yaml
from .sockets import SEPARATOR, balanced_sockets, socket_charger_id

CIRCUIT_MENU = [
    "add_circuit",
    "edit_circuit",
    "remove_circuit",
    "circuit_meter",  # meter_flow.py
    "grid_circuit",  # meter_flow.py
    "charger",
    "import_site_yaml",
    "tariff",  # planning_flow.py
    "flexibility",  # planning_flow.py
    "capacity_tariff",  # planning_flow.py
    "save",
]
CONF_PATH = "path"
METER_LOSS = ["safe_limit", "fixed_budget", "stop", "hold"]
WIRINGS = ["L1,L2,L3", "L2,L3,L1", "L3,L1,L2", "L1", "L2", "L3"]
CONF_ID, CONF_NAME, CONF_PARENT = "id", "name", "parent"
CONF_LIMIT, CONF_MARGIN, CONF_LOSS = "limit_a", "margin_a", "on_meter_loss"
CONF_CHARGER, CONF_CIRCUIT, CONF_WIRING = "charger", "circuit", "wiring"
CONF_MAX, CONF_PRIORITY, CONF_MANAGED = "max_current_a", "priority", "managed"
CONF_INCLUDES, CONF_FALLBACK = "meter_includes_chargers", "fallback_budget_a"
CONF_SWITCHES = "can_switch_phases"


def select_selector(options: list[str], key: str | None = None) -> selector.SelectSelector:
    config = selector.SelectSelectorConfig(
        options=options, mode=selector.SelectSelectorMode.DROPDOWN
    )
    if key is not None:
        config["translation_key"] = key
    return selector.SelectSelector(config)


def amps_field(low: float, high: float) -> vol.All:
    config = selector.NumberSelectorConfig(
        min=low, max=high, step=0.5, mode=selector.NumberSelectorMode.BOX, unit_of_measurement="A"
    )
    return vol.All(selector.NumberSelector(config), vol.Coerce(float))


class CircuitStepsMixin(OptionsFlow):
    """Circuit and charger steps of the options flow; `_site` holds the options being edited."""

    _site: dict[str, Any]
    _editing: str | None = None

    def _circuits(self) -> list[dict[str, Any]]:
        return [dict(c) for c in self._site.get(CONF_CIRCUITS) or []]

    def _circuit_ids(self) -> list[str]:
        return [GRID, *(c[CONF_ID] for c in self._circuits())]

    def _charger_ids(self) -> list[str]:
        chargers = self._site.get(CONF_CHARGERS, [])
        return [socket_charger_id(cp, n) for cp, n in balanced_sockets(self._site, chargers)]

    def _problem(self, options: dict[str, Any]) -> str | None:
        """Core's reason why these options make no valid site, or None."""
        entry = self.config_entry
        try:
            build_site_config(
                entry.data,
                options,
                Path(self.hass.config.path(DOMAIN)),
                entry.entry_id,
                self.hass.config.time_zone,
            )
        except ConfigError as err:
            return str(err)
        return None

    async def _checked(self, options: dict[str, Any]) -> str | None:
        return await self.hass.async_add_executor_job(self._problem, options)

    async def async_step_circuits(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The site's circuits and chargers."""
        return self.async_show_menu(
            step_id="circuits",
            menu_options=CIRCUIT_MENU,
            description_placeholders={"circuits": ", ".join(self._circuit_ids())},
        )

    async def async_step_save(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        return self.async_create_entry(data=dict(self._site))

    # ---- circuits --------------------------------------------------------------------------
    def _circuit_schema(self, current: dict[str, Any]) -> vol.Schema:
        parents = [c for c in self._circuit_ids() if c != current.get(CONF_ID)]
        fields: dict[Any, Any] = {}
        if not current:
            fields[vol.Required(CONF_ID)] = str
        fields.update(
            {
                vol.Optional(CONF_NAME, default=current.get(CONF_NAME, "")): str,
                vol.Required(CONF_PARENT, default=current.get(CONF_PARENT, GRID)): select_selector(
                    parents
                ),
                vol.Required(CONF_LIMIT, default=current.get(CONF_LIMIT, 16.0)): amps_field(
                    1, 4000
                ),
                vol.Required(CONF_MARGIN, default=current.get(CONF_MARGIN, 0.0)): amps_field(
                    0, 4000
                ),
                vol.Required(
                    CONF_LOSS, default=current.get(CONF_LOSS, METER_LOSS[0])
                ): select_selector(METER_LOSS, CONF_LOSS),
                vol.Optional(CONF_FALLBACK): amps_field(0, 4000),
                vol.Required(CONF_INCLUDES, default=current.get(CONF_INCLUDES, True)): bool,
            }
        )
        return vol.Schema(fields)

    async def async_step_add_circuit(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        return await self._circuit_form("add_circuit", {}, user_input)

    async def async_step_edit_circuit(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Pick a circuit, then change it."""
        ids = [c[CONF_ID] for c in self._circuits()]
        if user_input is None:
            schema = vol.Schema({vol.Required(CONF_CIRCUIT): select_selector(ids)})
            return self.async_show_form(step_id="edit_circuit", data_schema=schema)
        self._editing = user_input[CONF_CIRCUIT]
        return await self.async_step_circuit_settings()

    async def async_step_circuit_settings(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        current = next(c for c in self._circuits() if c[CONF_ID] == self._editing)
        return await self._circuit_form("circuit_settings", current, user_input)

    async def _circuit_form(
        self, step: str, current: dict[str, Any], user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        reason = ""
        if user_input is not None:
            circuit = {CONF_ID: current.get(CONF_ID) or str(user_input[CONF_ID]).strip()}
            circuit.update({k: user_input[k] for k in (CONF_PARENT, CONF_LIMIT, CONF_MARGIN)})
            if user_input.get(CONF_NAME):
                circuit[CONF_NAME] = str(user_input[CONF_NAME]).strip()
            if user_input[CONF_LOSS] != METER_LOSS[0]:
                circuit[CONF_LOSS] = user_input[CONF_LOSS]
            if user_input.get(CONF_FALLBACK) is not None:  # the budget of fixed_budget
                circuit[CONF_FALLBACK] = float(user_input[CONF_FALLBACK])
            if not user_input.get(CONF_INCLUDES, True):  # its meter sees only the rest
                circuit[CONF_INCLUDES] = False
            others = [c for c in self._circuits() if c[CONF_ID] != current.get(CONF_ID)]
            if not current and circuit[CONF_ID] in self._circuit_ids():
                errors[CONF_ID] = "circuit_exists"
            else:
                options = {**self._site, CONF_CIRCUITS: [*others, circuit]}
                problem = await self._checked(options)
                if problem is None:
                    self._site = options
                    return await self.async_step_circuits()
                errors["base"], reason = "invalid_site", problem
        return self.async_show_form(
            step_id=step,
            data_schema=self.add_suggested_values_to_schema(
                self._circuit_schema(current), user_input or current
            ),
            errors=errors,
            description_placeholders={"reason": reason},
        )

    async def async_step_remove_circuit(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """A circuit with chargers or circuits below it cannot go (core says which)."""
        ids = [c[CONF_ID] for c in self._circuits()]
        errors: dict[str, str] = {}
        reason = ""
        if user_input is not None:
            gone = user_input[CONF_CIRCUIT]
            kept = [c for c in self._circuits() if c[CONF_ID] != gone]
            meters = dict(self._site.get(CONF_CIRCUIT_METERS) or {})
            meters.pop(gone, None)  # its own meter goes with it
            options = {**self._site, CONF_CIRCUITS: kept, CONF_CIRCUIT_METERS: meters}
            problem = await self._checked(options)
            if problem is None:
                self._site = options
                return await self.async_step_circuits()
            errors["base"], reason = "invalid_site", problem
        schema = vol.Schema({vol.Required(CONF_CIRCUIT): select_selector(ids)})
        return self.async_show_form(
            step_id="remove_circuit",
            data_schema=schema,
            errors=errors,
            description_placeholders={"reason": reason},
        )

    async def async_step_import_site_yaml(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Take an existing site.yaml's circuits and chargers (a path under the config dir)."""
        errors: dict[str, str] = {}
        reason = ""
        if user_input is not None:
            config_dir = Path(self.hass.config.config_dir)
            name = str(user_input[CONF_PATH]).strip()
            try:
                document = await self.hass.async_add_executor_job(read_site_yaml, config_dir, name)
                base = (config_dir / name).parent  # its TLS files are next to it
                options = imported_options(self._site, document, base)
            except SiteImportError as err:
                errors["base"], reason = "invalid_site", str(err)
            else:
                problem = await self._checked(options)
                if problem is None:
                    self._site = options
                    return await self.async_step_circuits()
                errors["base"], reason = "invalid_site", problem
        return self.async_show_form(
            step_id="import_site_yaml",
            data_schema=vol.Schema({vol.Required(CONF_PATH, default="site.yaml"): str}),
            errors=errors,
            description_placeholders={"reason": reason},
        )

    # ---- chargers --------------------------------------------------------------------------
    async def async_step_charger(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Pick a charger, then set its place in the site."""
        if user_input is None:
            schema = vol.Schema({vol.Required(CONF_CHARGER): select_selector(self._charger_ids())})
            return self.async_show_form(step_id="charger", data_schema=schema)
        self._editing = user_input[CONF_CHARGER]
        return await self.async_step_charger_settings()

    async def async_step_charger_settings(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        ident = str(self._editing)
        cp_id = ident.split(SEPARATOR)[0] if SEPARATOR in ident else ident
        all_settings = dict(self._site.get(CONF_CHARGER_SETTINGS) or {})
        current = dict(all_settings.get(ident, {}))
        errors: dict[str, str] = {}
        reason = ""
        if user_input is not None:
            wiring = str(user_input[CONF_WIRING]).split(",")
            chosen = {
                CONF_CIRCUIT: user_input[CONF_CIRCUIT],
                CONF_WIRING: wiring,
                CONF_MAX: float(user_input[CONF_MAX]),
                CONF_PRIORITY: int(user_input[CONF_PRIORITY]),
                CONF_MANAGED: bool(user_input[CONF_MANAGED]),
                # its flexibility price is set in its own step (planning_flow.py)
                **{k: v for k, v in current.items() if k == "flexibility"},
            }
            options = {**self._site, CONF_CHARGER_SETTINGS: {**all_settings, ident: chosen}}
            # 1p/3p switching is the box's (its sockets share it): options phase_switching,
            # which also gives the box its Phases select.
            switching = [cp for cp in self._site.get(CONF_PHASE_SWITCHING, []) if cp != cp_id]
            options[CONF_PHASE_SWITCHING] = switching + (
                [cp_id] if user_input.get(CONF_SWITCHES) else []
            )
            problem = await self._checked(options)
            if problem is None:
                self._site = options
                return await self.async_step_circuits()
            errors["base"], reason = "invalid_site", problem
        schema = vol.Schema(
            {
                vol.Required(
                    CONF_CIRCUIT, default=current.get(CONF_CIRCUIT, GRID)
                ): select_selector(self._circuit_ids()),
                vol.Required(
                    CONF_WIRING, default=",".join(current.get(CONF_WIRING, ["L1", "L2", "L3"]))
                ): select_selector(WIRINGS, CONF_WIRING),
                vol.Required(CONF_MAX, default=current.get(CONF_MAX, 16.0)): amps_field(6, 80),
                vol.Required(CONF_PRIORITY, default=current.get(CONF_PRIORITY, 0)): vol.All(
                    selector.NumberSelector(
                        selector.NumberSelectorConfig(
                            min=-10, max=10, step=1, mode=selector.NumberSelectorMode.BOX
                        )
                    ),
                    vol.Coerce(int),
                ),
                vol.Required(CONF_MANAGED, default=current.get(CONF_MANAGED, True)): bool,
                vol.Required(
                    CONF_SWITCHES, default=cp_id in self._site.get(CONF_PHASE_SWITCHING, [])
                ): bool,
            }
        )
        return self.async_show_form(
            step_id="charger_settings",
            data_schema=self.add_suggested_values_to_schema(schema, user_input or {}),
            errors=errors,
            description_placeholders={"charger": ident, "reason": reason},
        )
