"""New chargers join the entry: a charge point let in by "accept new chargers" is added to the
entry's options; the options listener reloads the entry, and the charger reconnects as a
balanced charger with its own device (its boot data is already stored by the central system).

All new charge points seen within the settle window go in one options update: the reload
closes every socket, and a charger does not boot again when it reconnects, so a second,
separate update would be cancelled by the first reload and that charger never added. For the
same reason setup also adopts every charger the central system has seen boot that the options
lack (unless the user removed its device), so none is lost across a reload.

The sockets of a box are taken in the same update: read after the settle window (its
StatusNotifications and, for 1.6, its configuration are in by then), and again when a known
charge point reports a socket the options lack (also at setup, for a box adopted before its
second socket was known), whether or not new chargers are accepted: it is the same box.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.event import async_call_later

from .const import CONF_ACCEPT_NEW
from .core.runtime import CentralEvent, ChargerBooted, LocalSite, StatusChanged
from .data import EfluxConfigEntry
from .site_config import CONF_CHARGERS, CONF_REMOVED
from .sockets import (
    CONF_CONNECTORS,
    MAX_SOCKETS,
    box_sockets,
    detected_sockets,
    with_sockets,
)

# Time for the central system's boot-time configuration before the reload closes the socket;
# restarted by every further new charger, so chargers booting together are added together.
NEW_CHARGER_SETTLE_S = 5.0


@callback
def async_adopt_new_chargers(
    hass: HomeAssistant, entry: EfluxConfigEntry, site: LocalSite
) -> Callable[[], None]:
    """Add new charge points and sockets to the options after the settle window; returns what
    stops it."""
    known = set(entry.options.get(CONF_CHARGERS, []))
    pending: set[str] = set()
    timer: list[Callable[[], None]] = []

    @callback
    def add(_now: datetime) -> None:
        timer.clear()
        async_add_chargers(hass, entry, sorted(pending), site)
        pending.clear()

    @callback
    def settle() -> None:
        for cancel in timer:
            cancel()
        timer[:] = [async_call_later(hass, NEW_CHARGER_SETTLE_S, add)]

    @callback
    def found(cp_ids: Iterable[str]) -> None:
        fresh = set(cp_ids) - known
        if not fresh:
            return
        known.update(fresh)
        pending.update(fresh)
        settle()

    def new_socket(cp_id: str, connector: int) -> bool:
        return cp_id in entry.options.get(CONF_CHARGERS, []) and connector not in box_sockets(
            entry.options, cp_id
        )

    @callback
    def on_event(event: CentralEvent) -> None:
        if isinstance(event, ChargerBooted):
            found([event.charge_point_id])
        elif (
            isinstance(event, StatusChanged)
            and 1 < event.connector_id <= MAX_SOCKETS
            and new_socket(event.charge_point_id, event.connector_id)
        ):
            settle()

    remove_listener = site.add_event_listener(on_event)
    stored = site.charge_points()
    if entry.options.get(CONF_ACCEPT_NEW, True):
        removed = set(entry.options.get(CONF_REMOVED, []))
        found(cp for cp, state in stored.items() if state.booted_at and cp not in removed)
    if any(
        new_socket(cp, n)
        for cp in entry.options.get(CONF_CHARGERS, [])
        for n in detected_sockets(stored.get(cp))
    ):
        settle()

    def stop() -> None:
        remove_listener()
        for cancel in timer:
            cancel()

    return stop


@callback
def async_add_chargers(
    hass: HomeAssistant, entry: EfluxConfigEntry, cp_ids: list[str], site: LocalSite
) -> None:
    """One options update (so one reload) for all of them and every box's sockets; a re-added
    charger is no longer counted as removed."""
    chargers = list(entry.options.get(CONF_CHARGERS, []))
    new = [cp for cp in cp_ids if cp not in chargers]
    stored = site.charge_points()
    sockets = with_sockets(
        entry.options, {cp: detected_sockets(stored.get(cp)) for cp in chargers + new}
    )
    if not new and sockets is None:
        return
    options = {**entry.options, CONF_CHARGERS: chargers + new}
    if new:
        options[CONF_REMOVED] = [cp for cp in entry.options.get(CONF_REMOVED, []) if cp not in new]
    if sockets is not None:
        options[CONF_CONNECTORS] = sockets
    hass.config_entries.async_update_entry(entry, options=options)
