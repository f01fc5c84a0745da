"""E-Flux Local: a local OCPP central system with load balancing, for Home Assistant.

Without Home Assistant installed the package stays importable, so that the standalone
`eflux-local` runner and `eflux-bridge` (which import `custom_components.eflux.core`) run
anywhere; with it, HA finds its entry points here (they live in `entry_setup`).
"""

from __future__ import annotations

try:
    import homeassistant  # noqa: F401 - only a probe: is Home Assistant installed?
except ImportError:
    pass
else:
    from .data import EfluxConfigEntry, EfluxRuntimeData
    from .entry_setup import (
        CONFIG_SCHEMA,
        PLATFORMS,
        async_remove_config_entry_device,
        async_setup,
        async_setup_entry,
        async_unload_entry,
    )

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
