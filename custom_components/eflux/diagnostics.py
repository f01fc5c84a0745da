"""Diagnostics: the entry and the site snapshot, with the token and card ids redacted."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr

from .const import CONF_CLOUD_TOKEN, DOMAIN
from .core.runtime import charger_dict
from .data import EfluxConfigEntry
from .entity import box_sockets_of, charger_for_device
from .site_config import CONF_API_TOKEN, CONF_CONSOLE_PASSWORD

TO_REDACT = {
    CONF_CLOUD_TOKEN,
    "card",
    "id_tag",
    "cards",
    "AuthorizationKey",  # a charger password (1.6), set by the central system
    "SecurityCtrlr.BasicAuthPassword",  # the same in 2.0.1
    "charger_passwords",  # entry options: the passwords set in the options flow
    "passwords",  # the site's central settings
    CONF_API_TOKEN,  # entry options: the served local API's token (console_flow.py)
    CONF_CONSOLE_PASSWORD,  # entry options: the console manager's password hash
}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: EfluxConfigEntry
) -> dict[str, Any]:
    runtime = entry.runtime_data
    cloud = runtime.cloud
    return {
        "entry": async_redact_data(
            {"data": dict(entry.data), "options": dict(entry.options)}, TO_REDACT
        ),
        "site": async_redact_data(runtime.coordinator.data.as_dict(), TO_REDACT),
        "cloud": None
        if cloud is None
        else async_redact_data(_plain(asdict(cloud.status)), TO_REDACT),
    }


async def async_get_device_diagnostics(
    hass: HomeAssistant, entry: EfluxConfigEntry, device: dr.DeviceEntry
) -> dict[str, Any]:
    """One device: a charge point (every socket of it), a socket, or the site."""
    snapshot = entry.runtime_data.coordinator.data
    prefix = f"{entry.entry_id}_"
    keys = [i.removeprefix(prefix) for d, i in device.identifiers if d == DOMAIN]
    chargers = []
    for key in keys:
        socket = charger_for_device(snapshot.chargers, key)
        if socket is None:
            continue
        whole_box = key == socket.charge_point_id
        chargers += box_sockets_of(snapshot.chargers, key) if whole_box else [socket]
    if not chargers:  # the site's own device
        return {"site": async_redact_data(snapshot.site_dict(), TO_REDACT)}
    return {
        "chargers": [async_redact_data(charger_dict(c), TO_REDACT) for c in chargers],
        "charge_point": async_redact_data(
            _charge_point(entry, chargers[0].charge_point_id), TO_REDACT
        ),
    }


def _charge_point(entry: EfluxConfigEntry, cp_id: str) -> dict[str, Any]:
    """What the central system stored of the charge point (boot data, configuration)."""
    state = entry.runtime_data.site.charge_points().get(cp_id)
    if state is None:
        return {}
    return {
        "online": state.online,
        "booted_at": state.booted_at.isoformat() if state.booted_at else None,
        "configuration": dict(state.configuration),
    }


def _plain(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in data.items()}
