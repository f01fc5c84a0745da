"""Live checks the flows run before saving: a Modbus meter read once, a cloud token tried.

Both return an error key of strings.json (or None when all is well); the work itself is core's.
"""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant

from .const import METER_MODBUS
from .core.meters.config import MQTT_PROFILES
from .core.meters.profile import builtin_profiles


def meter_profiles(kind: str) -> list[str]:
    """Built-in device profiles for a Modbus or an MQTT meter."""
    return list(builtin_profiles() if kind == METER_MODBUS else MQTT_PROFILES)


async def async_probe_meter(hass: HomeAssistant, meter: dict[str, Any]) -> str | None:
    raise NotImplementedError


async def async_check_cloud(hass: HomeAssistant, url: str, token: str) -> str | None:
    raise NotImplementedError
