"""New chargers join the entry: a charge point let in by "accept new chargers" is added to the
entry's options; the options listener reloads the entry, and the charger reconnects as a
balanced charger with its own device (its boot data is already stored by the central system).

All new charge points seen within the settle window go in one options update: the reload
closes every socket, and a charger does not boot again when it reconnects, so a second,
separate update would be cancelled by the first reload and that charger never added. For the
same reason setup also adopts every charger the central system has seen boot that the options
lack (unless the user removed its device), so none is lost across a reload.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.event import async_call_later

from .const import CONF_ACCEPT_NEW
from .core.central import CentralEvent, ChargerBooted
from .core.runtime import LocalSite
from .data import EfluxConfigEntry
from .site_config import CONF_CHARGERS, CONF_REMOVED

# Time for the central system's boot-time configuration before the reload closes the socket;
# restarted by every further new charger, so chargers booting together are added together.
NEW_CHARGER_SETTLE_S = 5.0


@callback
def async_adopt_new_chargers(
    hass: HomeAssistant, entry: EfluxConfigEntry, site: LocalSite
) -> Callable[[], None]:
    """Add new charge points to the options after the settle window; returns what stops it."""
    known = set(entry.options.get(CONF_CHARGERS, []))
    pending: set[str] = set()
    timer: list[Callable[[], None]] = []

    @callback
    def add(_now: datetime) -> None:
        timer.clear()
        async_add_chargers(hass, entry, sorted(pending))
        pending.clear()

    @callback
    def found(cp_ids: Iterable[str]) -> None:
        fresh = set(cp_ids) - known
        if not fresh:
            return
        known.update(fresh)
        pending.update(fresh)
        for cancel in timer:
            cancel()
        timer[:] = [async_call_later(hass, NEW_CHARGER_SETTLE_S, add)]

    @callback
    def on_event(event: CentralEvent) -> None:
        if isinstance(event, ChargerBooted):
            found([event.charge_point_id])

    remove_listener = site.central.add_listener(on_event)
    if entry.options.get(CONF_ACCEPT_NEW, True):
        removed = set(entry.options.get(CONF_REMOVED, []))
        stored = site.central.charge_points()
        found(cp for cp, state in stored.items() if state.booted_at and cp not in removed)

    def stop() -> None:
        remove_listener()
        for cancel in timer:
            cancel()

    return stop


@callback
def async_add_chargers(hass: HomeAssistant, entry: EfluxConfigEntry, cp_ids: list[str]) -> None:
    """One options update (so one reload) for all of them; a re-added charger is no longer
    counted as removed."""
    chargers = list(entry.options.get(CONF_CHARGERS, []))
    new = [cp for cp in cp_ids if cp not in chargers]
    if not new:
        return
    removed = [cp for cp in entry.options.get(CONF_REMOVED, []) if cp not in new]
    hass.config_entries.async_update_entry(
        entry, options={**entry.options, CONF_CHARGERS: chargers + new, CONF_REMOVED: removed}
    )
