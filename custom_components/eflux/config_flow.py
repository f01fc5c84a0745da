"""Config flow for E-Flux Local: the central-system port and the grid connection's fuse."""

from __future__ import annotations

from typing import Any

import voluptuous as vol
from homeassistant.config_entries import ConfigFlow, ConfigFlowResult
from homeassistant.helpers import selector

from .const import (
    CONF_FUSE_AMPS,
    CONF_PORT,
    DEFAULT_FUSE_AMPS,
    DEFAULT_PORT,
    DOMAIN,
    MAX_FUSE_AMPS,
    MIN_FUSE_AMPS,
)
from .core.net import port_is_free


def _user_schema(defaults: dict[str, Any]) -> vol.Schema:
    return vol.Schema(
        {
            vol.Required(CONF_PORT, default=defaults.get(CONF_PORT, DEFAULT_PORT)): vol.All(
                selector.NumberSelector(
                    selector.NumberSelectorConfig(
                        min=1, max=65535, step=1, mode=selector.NumberSelectorMode.BOX
                    )
                ),
                vol.Coerce(int),
            ),
            vol.Required(
                CONF_FUSE_AMPS, default=defaults.get(CONF_FUSE_AMPS, DEFAULT_FUSE_AMPS)
            ): vol.All(
                selector.NumberSelector(
                    selector.NumberSelectorConfig(
                        min=MIN_FUSE_AMPS,
                        max=MAX_FUSE_AMPS,
                        step=1,
                        unit_of_measurement="A",
                        mode=selector.NumberSelectorMode.BOX,
                    )
                ),
                vol.Coerce(int),
            ),
        }
    )


class EfluxConfigFlow(ConfigFlow, domain=DOMAIN):
    """Set up the local central system; one entry per listening port."""

    VERSION = 1

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the port chargers connect to and the main fuse."""
        errors: dict[str, str] = {}
        if user_input is not None:
            port = int(user_input[CONF_PORT])
            self._async_abort_entries_match({CONF_PORT: port})
            if not await self.hass.async_add_executor_job(port_is_free, port):
                errors[CONF_PORT] = "port_in_use"
            else:
                return self.async_create_entry(
                    title=f"E-Flux Local (port {port})",
                    data={CONF_PORT: port, CONF_FUSE_AMPS: int(user_input[CONF_FUSE_AMPS])},
                )
        return self.async_show_form(
            step_id="user", data_schema=_user_schema(user_input or {}), errors=errors
        )
