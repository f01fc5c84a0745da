"""New chargers join the entry: a charge point let in by "accept new chargers" is added to the
entry's options; the options listener adds it to the running site (`LocalSite.add_chargers`:
no reload, no socket closed) and the platforms add its entities, on a device of its own (its
boot data is already stored by the central system).

All new charge points seen within the settle window go in one options update. Setup also
adopts every charger the central system has seen boot that the options lack (unless the user
removed its device), so none is lost across a restart.

With the boot policy "pending", a new charge point is adopted only once it is approved (its
repair, approvals.py) and has booted again, Accepted.

The sockets of a box are taken in the same update: read after the settle window (its
StatusNotifications and, for 1.6, its configuration are in by then), and again when a known
charge point reports a socket the options lack (also at setup, for a box adopted before its
second socket was known), whether or not new chargers are accepted: it is the same box.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.event import async_call_later

from .compat import get_device
from .const import CONF_ACCEPT_NEW, DOMAIN
from .core.runtime import CentralEvent, ChargerBooted, LocalSite, StatusChanged
from .data import EfluxConfigEntry
from .entity import BOX_KEYS, charger_device_id, socket_device_info
from .site_config import (
    BOOT_PENDING,
    CONF_BOOT_POLICY,
    CONF_CHARGERS,
    CONF_REMOVED,
    build_site_config,
)
from .sockets import (
    CONF_CONNECTORS,
    MAX_SOCKETS,
    balanced_sockets,
    box_sockets,
    detected_sockets,
    with_sockets,
)

# Options that only list chargers: a change to them alone can go to the running site.
CHARGER_LIST_KEYS = frozenset({CONF_CHARGERS, CONF_CONNECTORS, CONF_REMOVED})

# A BootNotification answered Pending (boot policy pending): not adopted until approved.
PENDING_BOOT = "Pending"

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
            if event.state.boot_status != PENDING_BOOT:  # held until approved
                found([event.charge_point_id])
        elif (
            isinstance(event, StatusChanged)
            and 1 < event.connector_id <= MAX_SOCKETS
            and new_socket(event.charge_point_id, event.connector_id)
        ):
            settle()

    remove_listener = site.add_event_listener(on_event)
    stored = site.charge_points()
    if (
        entry.options.get(CONF_ACCEPT_NEW, True)
        or entry.options.get(CONF_BOOT_POLICY) == BOOT_PENDING
    ):
        removed = set(entry.options.get(CONF_REMOVED, []))
        found(
            cp
            for cp, state in stored.items()
            if state.booted_at and state.boot_status != PENDING_BOOT and cp not in removed
        )
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


async def async_add_to_running_site(hass: HomeAssistant, entry: EfluxConfigEntry) -> bool:
    """When the options only add chargers or sockets to those the site runs with, add them
    to it (no socket closed) and return True; False when the entry must reload."""
    runtime = entry.runtime_data
    before, after = runtime.options, dict(entry.options)

    def rest(options: dict[str, object]) -> dict[str, object]:
        return {k: v for k, v in options.items() if k not in CHARGER_LIST_KEYS}

    old = balanced_sockets(before, before.get(CONF_CHARGERS, []))
    new = balanced_sockets(after, after.get(CONF_CHARGERS, []))
    if dict(entry.data) != runtime.data or rest(before) != rest(after) or not set(old) <= set(new):
        return False  # the port, the cloud account or the site itself changed
    runtime.options = after
    if set(old) == set(new):
        return True  # only the list of removed chargers changed
    storage = Path(hass.config.path(DOMAIN))
    config = await hass.async_add_executor_job(
        build_site_config, entry.data, after, storage, entry.entry_id, hass.config.time_zone
    )
    await runtime.site.add_chargers(config)
    runtime.coordinator.async_set_updated_data(runtime.site.state())
    grown = {cp for cp, n in new if n > 1} - {cp for cp, n in old if n > 1}
    _move_first_sockets(hass, entry, grown)
    return True


def _move_first_sockets(hass: HomeAssistant, entry: EfluxConfigEntry, boxes: set[str]) -> None:
    """A box that now has several sockets: socket 1's entities (all but the box's own) move
    from the box's device to the socket's, as if the box had been set up with them."""
    devices, entities = dr.async_get(hass), er.async_get(hass)
    chargers = entry.runtime_data.coordinator.data.chargers
    for cp_id in boxes:
        box_id = (DOMAIN, charger_device_id(entry.entry_id, cp_id))
        box = get_device(devices, box_id, entry.entry_id)
        if box is None or cp_id not in chargers:
            continue
        socket = devices.async_get_or_create(
            config_entry_id=entry.entry_id,
            **socket_device_info(hass, entry.entry_id, chargers[cp_id]),
        )
        prefix = f"{entry.entry_id}_{cp_id}_"
        for registered in er.async_entries_for_device(entities, box.id):
            key = registered.unique_id.removeprefix(prefix)
            if registered.unique_id.startswith(prefix) and key not in BOX_KEYS:
                entities.async_update_entity(registered.entity_id, device_id=socket.id)
