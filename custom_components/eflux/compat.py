"""Device registry calls that work from Home Assistant 2025.4 to past 2027.8.

HA 2026.8 makes a device belong to one config entry (developers' blog, 2026-07-21): it
deprecates, until 2027.8, `DeviceInfo["via_device"]`, `async_get_device(identifiers)`,
`async_update_device(remove_config_entry_id=...)` and `DeviceEntry.config_entries`, and adds
`via_device_id`, `async_get_device_by_identifier(identifier, entry_id)`, `async_remove_device`
and `DeviceEntry.config_entry_id`. Which one runs is decided by what the running HA has
(feature detection, not a version number); the rest of the layer calls only these helpers
(tests/ha/test_forward_compat.py holds it to that).
"""

from __future__ import annotations

import inspect
from typing import Any, cast

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.device_registry import DeviceInfo

# HA 2026.8+: devices of one config entry, looked up per entry.
_BY_IDENTIFIER = "async_get_device_by_identifier"
SINGLE_ENTRY_DEVICES = hasattr(dr.DeviceRegistry, _BY_IDENTIFIER)
VIA_DEVICE_ID = (
    "via_device_id" in inspect.signature(dr.DeviceRegistry.async_get_or_create).parameters
)


def get_device(
    registry: dr.DeviceRegistry, identifier: tuple[str, str], entry_id: str
) -> dr.DeviceEntry | None:
    """The entry's device with this identifier."""
    if SINGLE_ENTRY_DEVICES:
        lookup: Any = getattr(registry, _BY_IDENTIFIER)
        found: dr.DeviceEntry | None = lookup(identifier, entry_id)
        return found
    return registry.async_get_device({identifier})


def device_entry_ids(device: dr.DeviceEntry) -> set[str]:
    """The config entries a device belongs to (one from HA 2026.8 on)."""
    own = getattr(device, "config_entry_id", None) if SINGLE_ENTRY_DEVICES else None
    return {own} if isinstance(own, str) else set(device.config_entries)


def remove_device(registry: dr.DeviceRegistry, device_id: str, entry_id: str) -> None:
    """Take the device (of this entry only) out of the registry."""
    if SINGLE_ENTRY_DEVICES:
        registry.async_remove_device(device_id)
    else:
        registry.async_update_device(device_id, remove_config_entry_id=entry_id)


def with_via_device(
    hass: HomeAssistant, entry_id: str, info: DeviceInfo, parent: DeviceInfo
) -> DeviceInfo:
    """`info` below the device `parent` describes: by its identifiers before HA 2026.8, by
    its device id after (the parent is registered first when it is not yet)."""
    identifiers = parent.get("identifiers") or set()
    if not VIA_DEVICE_ID:
        return DeviceInfo(**info, via_device=next(iter(identifiers)))
    registry = dr.async_get(hass)
    device = registry.async_get_or_create(config_entry_id=entry_id, **parent)
    with_id: dict[str, Any] = {**info, "via_device_id": device.id}
    return cast(DeviceInfo, with_id)
