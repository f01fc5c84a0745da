"""The options flow's "Local API and building console" step: serve core's local API and the
building manager's console from Home Assistant too, on a port of their own (local_api.py).

The manager's password is kept only as the scrypt hash core makes (core/runner/console/
hashing.py, as `eflux-local --set-password` stores it); an empty field keeps the stored one.
Core's site.yaml parser judges the whole (a non-loopback address needs a token and a password).
"""

from __future__ import annotations

from typing import Any

import voluptuous as vol
from homeassistant.config_entries import ConfigEntryState, ConfigFlowResult
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import selector

from .circuit_flow import CircuitStepsMixin
from .core.net import port_is_free
from .core.runner.console.hashing import hash_password
from .site_config import (
    CONF_API_HOST,
    CONF_API_PORT,
    CONF_API_TOKEN,
    CONF_CONSOLE_PASSWORD,
    CONF_SERVE_API,
    DEFAULT_API_PORT,
)

CONF_MANAGER_PASSWORD = "manager_password"  # noqa: S105 - a form key, not a secret
LOOPBACK = "127.0.0.1"
_SECRET = selector.TextSelector(
    selector.TextSelectorConfig(type=selector.TextSelectorType.PASSWORD)
)


class ConsoleStepsMixin(CircuitStepsMixin):
    """The console step; `_site` holds the options being edited, `async_site_done` saves."""

    async def async_site_done(self) -> ConfigFlowResult:
        raise NotImplementedError  # the options flow saves `_site` (config_flow.py)

    def _served_port(self) -> int | None:
        """The port this entry's running site serves its API on (free for it to keep)."""
        entry = self.config_entry
        if entry.state is not ConfigEntryState.LOADED:
            return None
        api = entry.runtime_data.site.config.api
        return api.port if api.enabled else None

    async def _console_options(
        self, user_input: dict[str, Any]
    ) -> tuple[dict[str, str], str, dict[str, Any]]:
        """Form errors, the reason to show, and the options these answers make."""
        serve = bool(user_input[CONF_SERVE_API])
        host = str(user_input.get(CONF_API_HOST) or LOOPBACK).strip()
        port = int(user_input[CONF_API_PORT])
        options = {
            **self._site,
            CONF_SERVE_API: serve,
            CONF_API_HOST: host,
            CONF_API_PORT: port,
            CONF_API_TOKEN: str(user_input.get(CONF_API_TOKEN) or "").strip(),
        }
        password = str(user_input.get(CONF_MANAGER_PASSWORD) or "")
        if password:
            options[CONF_CONSOLE_PASSWORD] = await self.hass.async_add_executor_job(
                hash_password, password
            )
        if serve and port != self._served_port():
            free = await self.hass.async_add_executor_job(port_is_free, port, host)
            if not free:
                return {CONF_API_PORT: "port_in_use"}, "", {}
        if (problem := await self._checked(options)) is not None:
            return {"base": "invalid_site"}, problem, {}
        return {}, "", options

    async def async_step_console(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Serve the local API and the building console, where, and the manager's password."""
        errors: dict[str, str] = {}
        reason = ""
        if user_input is not None:
            errors, reason, options = await self._console_options(user_input)
            if not errors:
                self._site = options
                return await self.async_site_done()
        schema = vol.Schema(
            {
                vol.Required(CONF_SERVE_API): bool,
                vol.Required(CONF_API_PORT): cv.port,
                vol.Required(CONF_API_HOST): str,
                vol.Optional(CONF_API_TOKEN): _SECRET,
                vol.Optional(CONF_MANAGER_PASSWORD): _SECRET,
            }
        )
        current = {
            CONF_SERVE_API: bool(self._site.get(CONF_SERVE_API, False)),
            CONF_API_PORT: int(self._site.get(CONF_API_PORT, DEFAULT_API_PORT)),
            CONF_API_HOST: self._site.get(CONF_API_HOST) or LOOPBACK,
            CONF_API_TOKEN: self._site.get(CONF_API_TOKEN) or None,
        }
        shown = {k: v for k, v in (user_input or current).items() if k != CONF_MANAGER_PASSWORD}
        return self.async_show_form(
            step_id="console",
            data_schema=self.add_suggested_values_to_schema(schema, shown),
            errors=errors,
            description_placeholders={
                "reason": reason,
                "password_set": "✓" if self._site.get(CONF_CONSOLE_PASSWORD) else "-",
            },
        )
