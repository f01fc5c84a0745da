"""The optional cloud account (placeholder until core's cloud client is wired)."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant

from .core.runtime import LocalSite


class CloudLink:
    """Sync with the E-Flux back end for one entry."""


async def async_start_cloud(
    hass: HomeAssistant, entry: ConfigEntry, site: LocalSite
) -> CloudLink | None:
    return None
