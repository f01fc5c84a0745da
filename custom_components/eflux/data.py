"""The typed config entry: what a set-up entry holds in `runtime_data` while it runs.

A module of its own so that every part of the HA layer can name `EfluxConfigEntry` without
importing `entry_setup` (which imports them all). The classes it holds import this module, so
they are imported here for type checking only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntry

from .core.runtime import LocalSite

if TYPE_CHECKING:
    from .cloud import EfluxCloud
    from .coordinator import EfluxCoordinator
    from .sessions import SessionHistory
    from .watch import SiteWatcher


@dataclass(slots=True)
class EfluxRuntimeData:
    """What a set-up entry holds while it runs."""

    site: LocalSite
    coordinator: EfluxCoordinator
    cloud: EfluxCloud | None = None
    watcher: SiteWatcher | None = None
    sessions: SessionHistory | None = None
    # The options the running site was built from (new chargers are added to it live).
    options: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)  # the entry data it was built from


type EfluxConfigEntry = ConfigEntry[EfluxRuntimeData]
