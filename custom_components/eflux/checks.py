"""Live checks the flows run before saving: a Modbus meter read once, a cloud token tried.

Each returns an error key of strings.json (or None when all is well) and, for the meter, the
reason to show; the work itself is core's (`core.meters.probe`, `core.cloud.check_token`).
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from .const import METER_MODBUS
from .core.cloud import CloudAuthError, CloudError, CloudUnavailable, api_base, check_token
from .core.meters import MeterConfigError, MeterProbeError, parse_meter_config, probe
from .core.meters.config import MQTT_PROFILES
from .core.meters.profile import builtin_profiles
from .site_config import meter_entry

# A silent device makes pymodbus retry; the user should not wait longer than this.
PROBE_TIMEOUT_S = 15.0


def meter_profiles(kind: str) -> list[str]:
    """Built-in device profiles for a Modbus or an MQTT meter (Modbus: files, so call it in
    the executor)."""
    return list(builtin_profiles() if kind == METER_MODBUS else MQTT_PROFILES)


async def async_probe_meter(
    hass: HomeAssistant, meter: dict[str, Any], fuse_a: float
) -> str | None:
    """Read the Modbus meter once; None when it gave a plausible reading, else the reason."""
    try:
        entry = {k: v for k, v in meter_entry(meter, fuse_a).items() if k != "circuit"}
        # Parsing reads the profile's YAML file: in the executor.
        settings = await hass.async_add_executor_job(
            functools.partial(parse_meter_config, entry, where="meter")
        )
        async with asyncio.timeout(PROBE_TIMEOUT_S):
            await probe(settings, fuse_a=fuse_a)
    except (MeterConfigError, MeterProbeError) as err:
        return str(err)
    except TimeoutError:
        return f"no answer within {PROBE_TIMEOUT_S:.0f} s"
    return None


async def async_check_cloud(hass: HomeAssistant, url: str, token: str) -> str | None:
    try:
        api_base(url)
    except CloudError:
        return "invalid_url"
    try:
        await check_token(url, token, session=async_get_clientsession(hass))
    except CloudAuthError:
        return "invalid_auth"
    except (CloudUnavailable, CloudError):
        return "cloud_unreachable"
    return None
