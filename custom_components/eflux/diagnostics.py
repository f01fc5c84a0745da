"""Diagnostics: the entry and the site snapshot, with the token and card ids redacted."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant

from .const import CONF_CLOUD_TOKEN
from .data import EfluxConfigEntry

TO_REDACT = {CONF_CLOUD_TOKEN, "card", "id_tag", "cards"}


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


def _plain(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in data.items()}
