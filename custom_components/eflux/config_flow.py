"""Config, options, reconfigure and reauth flows of E-Flux Local.

entry.data holds what identifies the installation (the central-system port, the cloud account);
entry.options holds how the site behaves (accept new chargers, grid connection, meter source).
The reconfigure flow edits the first, the options flow the second, reauth only the token.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.config_entries import (
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlow,
)
from homeassistant.core import callback

from .checks import async_check_cloud
from .console_flow import ConsoleStepsMixin
from .const import CONF_ACCEPT_NEW, CONF_CLOUD_TOKEN, CONF_CLOUD_URL, CONF_PORT, DOMAIN
from .core.net import port_is_free
from .data import EfluxConfigEntry
from .flow_steps import (
    SiteStepsMixin,
    accept_schema,
    accept_value,
    cloud_schema,
    port_schema,
    token_schema,
)
from .meter_flow import CircuitMeterStepsMixin
from .planning_flow import PlanningStepsMixin
from .security_flow import SecurityStepsMixin
from .site_config import CONF_BOOT_POLICY

# Addresses are placeholders, never in the translations (hassfest: no URLs in strings).
CHARGER_URL = "ws://HOME_ASSISTANT_IP:PORT/CHARGE_POINT_ID"
CLOUD_PLACEHOLDERS = {"example_url": "https://cloud.example.com", "schemes": "http://, https://"}


def _cloud_values(user_input: Mapping[str, Any]) -> dict[str, str]:
    url = str(user_input.get(CONF_CLOUD_URL) or "").strip().rstrip("/")
    token = str(user_input.get(CONF_CLOUD_TOKEN) or "").strip()
    return {CONF_CLOUD_URL: url, CONF_CLOUD_TOKEN: token} if url or token else {}


class EfluxConfigFlow(SiteStepsMixin, ConfigFlow, domain=DOMAIN):
    """Set up the local central system; one entry per listening port."""

    VERSION = 1

    def __init__(self) -> None:
        self._site: dict[str, Any] = {}
        self._port = 0

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: EfluxConfigEntry) -> EfluxOptionsFlow:
        return EfluxOptionsFlow()

    async def _port_error(self, port: int, own_port: int | None = None) -> str | None:
        if port == own_port:  # our own central system holds it
            return None
        free = await self.hass.async_add_executor_job(port_is_free, port)
        return None if free else "port_in_use"

    async def _cloud_errors(self, cloud: dict[str, str]) -> dict[str, str]:
        if not cloud:
            return {}
        if not cloud[CONF_CLOUD_URL] or not cloud[CONF_CLOUD_TOKEN]:
            return {"base": "cloud_incomplete"}
        error = await async_check_cloud(self.hass, cloud[CONF_CLOUD_URL], cloud[CONF_CLOUD_TOKEN])
        return {"base": error} if error else {}

    # ---- a new entry: port -> grid -> meter -> cloud ---------------------------------------------
    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """The port chargers connect to, and whether unknown chargers are let in."""
        errors: dict[str, str] = {}
        if user_input is not None:
            port = int(user_input[CONF_PORT])
            self._async_abort_entries_match({CONF_PORT: port})
            error = await self._port_error(port)
            if error:
                errors[CONF_PORT] = error
            else:
                self._port = port
                self._site.update(accept_value(user_input))
                return await self.async_step_grid()
        schema = port_schema(user_input or {}).extend(accept_schema(user_input or {}).schema)
        return self.async_show_form(
            step_id="user",
            data_schema=schema,
            errors=errors,
            description_placeholders={"url": CHARGER_URL},
        )

    async def async_site_done(self) -> ConfigFlowResult:
        return await self.async_step_cloud()

    async def async_step_cloud(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """An optional E-Flux cloud account (back-end URL and token), checked live."""
        errors: dict[str, str] = {}
        if user_input is not None:
            cloud = _cloud_values(user_input)
            errors = await self._cloud_errors(cloud)
            if not errors:
                return self.async_create_entry(
                    title=f"E-Flux Local (port {self._port})",
                    data={CONF_PORT: self._port, **cloud},
                    options=dict(self._site),
                )
        return self.async_show_form(
            step_id="cloud",
            data_schema=cloud_schema(user_input or {}),
            errors=errors,
            description_placeholders=CLOUD_PLACEHOLDERS,
        )

    # ---- reconfigure: port and cloud account ----------------------------------------------------
    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Move the central system to another port or change the cloud account."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            port = int(user_input[CONF_PORT])
            if port != entry.data[CONF_PORT]:
                self._async_abort_entries_match({CONF_PORT: port})
            error = await self._port_error(port, entry.data[CONF_PORT])
            cloud = _cloud_values(user_input)
            errors = {CONF_PORT: error} if error else await self._cloud_errors(cloud)
            if not errors:
                # Update and abort; the entry's update listener reloads it (HA 2026.6 warns,
                # 2026.12 refuses async_update_reload_and_abort next to an update listener).
                self.hass.config_entries.async_update_entry(
                    entry, title=f"E-Flux Local (port {port})", data={CONF_PORT: port, **cloud}
                )
                return self.async_abort(reason="reconfigure_successful")
        defaults = {**entry.data, **(user_input or {})}
        schema = port_schema(defaults).extend(cloud_schema(defaults).schema)
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=schema,
            errors=errors,
            description_placeholders=CLOUD_PLACEHOLDERS,
        )

    # ---- reauth: the cloud rejected the token ---------------------------------------------------
    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for a new token for the same back end."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            token = str(user_input[CONF_CLOUD_TOKEN]).strip()
            cloud = {CONF_CLOUD_URL: entry.data.get(CONF_CLOUD_URL, ""), CONF_CLOUD_TOKEN: token}
            errors = await self._cloud_errors(cloud)
            if not errors:
                self.hass.config_entries.async_update_entry(entry, data={**entry.data, **cloud})
                return self.async_abort(reason="reauth_successful")
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=token_schema(),
            errors=errors,
            description_placeholders={"url": entry.data.get(CONF_CLOUD_URL, "")},
        )


class EfluxOptionsFlow(
    SiteStepsMixin,
    SecurityStepsMixin,
    CircuitMeterStepsMixin,
    PlanningStepsMixin,
    ConsoleStepsMixin,
    OptionsFlow,
):
    """A menu: accept new chargers, grid connection and meter source; the circuits and each
    charger's place in them (circuit_flow.py, meter_flow.py, planning_flow.py); or charger security
    (security_flow.py); or the local API and building console (console_flow.py). The entry
    reloads after."""

    def __init__(self) -> None:
        self._site: dict[str, Any] = {}

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        self._site = dict(self.config_entry.options)
        return self.async_show_menu(
            step_id="init", menu_options=["site_settings", "circuits", "security", "console"]
        )

    async def async_step_site_settings(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        if user_input is not None:
            accepted = accept_value(user_input)
            if accepted[CONF_ACCEPT_NEW] != self._site.get(CONF_ACCEPT_NEW, True):
                self._site.pop(CONF_BOOT_POLICY, None)  # the switch says it now
            self._site.update(accepted)
            return await self.async_step_grid()
        return self.async_show_form(
            step_id="site_settings",
            data_schema=accept_schema({CONF_ACCEPT_NEW: self._site.get(CONF_ACCEPT_NEW, True)}),
        )

    async def async_site_done(self) -> ConfigFlowResult:
        return self.async_create_entry(data=dict(self._site))
