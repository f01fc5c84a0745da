"""E-Flux Local: a local OCPP central system with load balancing, for Home Assistant."""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant

from .const import CONF_PORT


@dataclass(slots=True)
class EfluxRuntimeData:
    """What a set-up entry holds while it runs."""

    port: int


type EfluxConfigEntry = ConfigEntry[EfluxRuntimeData]


async def async_setup_entry(hass: HomeAssistant, entry: EfluxConfigEntry) -> bool:
    """Set up E-Flux Local from a config entry."""
    entry.runtime_data = EfluxRuntimeData(port=entry.data[CONF_PORT])
    return True


async def async_unload_entry(hass: HomeAssistant, entry: EfluxConfigEntry) -> bool:
    """Unload a config entry."""
    return True
