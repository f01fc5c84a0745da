"""A push-fed coordinator: LocalSite hands over a fresh snapshot after every change.

Nothing is polled (`update_interval` None); `LocalSite.add_listener` coalesces a burst of OCPP
and meter events into one snapshot per turn of the event loop, which goes straight to
`async_set_updated_data` as `wled` does with its websocket.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator

from .const import DOMAIN
from .core.runtime import LocalSite, SiteSnapshot
from .data import EfluxConfigEntry

_LOGGER = logging.getLogger(__name__)


class EfluxCoordinator(DataUpdateCoordinator[SiteSnapshot]):
    """Holds the newest `SiteSnapshot` of one config entry's site."""

    config_entry: EfluxConfigEntry

    def __init__(self, hass: HomeAssistant, entry: EfluxConfigEntry, site: LocalSite) -> None:
        super().__init__(hass, _LOGGER, config_entry=entry, name=DOMAIN)
        self.site = site
        self.data = site.state()
        self._remove: Callable[[], None] | None = None

    async def _async_update_data(self) -> SiteSnapshot:
        """A manual refresh (homeassistant.update_entity) reads the site now."""
        return self.site.state()

    @callback
    def async_start_push(self) -> None:
        self._remove = self.site.add_listener(self.async_set_updated_data)

    @callback
    def async_stop_push(self) -> None:
        if self._remove is not None:
            self._remove()
            self._remove = None
