"""E-Flux Local: a local OCPP central system with load balancing, for Home Assistant.

Home Assistant imports this package and looks its entry points up as attributes
(`async_setup`, `async_setup_entry`, `CONFIG_SCHEMA`, ...; they live in `entry_setup`). Only
then is the HA layer imported: the standalone `eflux-local` runner and `eflux-bridge` import
`custom_components.eflux.core`, which runs this file too, and must not load Home Assistant
even where it is installed (tests/ha/test_lazy_package.py).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .data import EfluxConfigEntry, EfluxRuntimeData
    from .entry_setup import (
        CONFIG_SCHEMA,
        PLATFORMS,
        async_remove_config_entry_device,
        async_setup,
        async_setup_entry,
        async_unload_entry,
    )

# What Home Assistant (and its tests) look up here, and the module that defines it.
_ENTRY_POINTS = {
    "CONFIG_SCHEMA": "entry_setup",
    "PLATFORMS": "entry_setup",
    "async_remove_config_entry_device": "entry_setup",
    "async_setup": "entry_setup",
    "async_setup_entry": "entry_setup",
    "async_unload_entry": "entry_setup",
    "EfluxConfigEntry": "data",
    "EfluxRuntimeData": "data",
}

__all__ = [
    "CONFIG_SCHEMA",
    "PLATFORMS",
    "EfluxConfigEntry",
    "EfluxRuntimeData",
    "async_remove_config_entry_device",
    "async_setup",
    "async_setup_entry",
    "async_unload_entry",
]


def __getattr__(name: str) -> Any:
    """Import the HA layer when an entry point is first looked up (PEP 562)."""
    if name not in _ENTRY_POINTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from . import data, entry_setup  # the HA layer: imports homeassistant

    modules = {"data": data, "entry_setup": entry_setup}
    for entry, module in _ENTRY_POINTS.items():
        globals()[entry] = getattr(modules[module], entry)
    return globals()[name]


if sys.modules.get("homeassistant") is not None:
    # Home Assistant is loading us (in its import executor): bind the entry points now, so no
    # lookup imports the HA layer later inside its event loop.
    __getattr__("async_setup")
