"""Central-system events into Home Assistant: session events on the bus, and new chargers.

A charge point that boots for the first time (let in by "accept new chargers") is added to the
entry's options; the options listener reloads the entry, and the charger reconnects as a balanced
charger with its own device (its boot data is already stored by the central system). The
update waits a few seconds so that the central system finishes configuring the charger (meter
values, intervals) before the reload closes the socket.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.event import async_call_later

from .const import EVENT_SESSION_ENDED, EVENT_SESSION_STARTED
from .core.central import (
    CentralEvent,
    ChargerBooted,
    Transaction,
    TransactionEnded,
    TransactionStarted,
)
from .core.runtime import LocalSite
from .site_config import CONF_CHARGERS

# Time for the central system's boot-time configuration before the reload closes the socket.
NEW_CHARGER_SETTLE_S = 5.0


def _session_data(tx: Transaction) -> dict[str, Any]:
    return {
        "charge_point_id": tx.charge_point_id,
        "connector_id": tx.connector_id,
        "transaction_id": tx.id,
        "card": tx.id_tag,
        "started_at": tx.started_at.isoformat(),
    }


@callback
def async_forward_central_events(
    hass: HomeAssistant, entry: ConfigEntry, site: LocalSite
) -> Callable[[], None]:
    known = {binding.charge_point_id for binding in site.config.bindings.values()}

    @callback
    def on_event(event: CentralEvent) -> None:
        if isinstance(event, TransactionStarted):
            hass.bus.async_fire(EVENT_SESSION_STARTED, _session_data(event.transaction))
        elif isinstance(event, TransactionEnded):
            tx = event.transaction
            hass.bus.async_fire(
                EVENT_SESSION_ENDED,
                {
                    **_session_data(tx),
                    "stopped_at": tx.stopped_at.isoformat() if tx.stopped_at else None,
                    "energy_kwh": round(tx.energy_wh / 1000.0, 3),
                    "stop_reason": tx.stop_reason,
                },
            )
        elif isinstance(event, ChargerBooted) and event.charge_point_id not in known:
            known.add(event.charge_point_id)
            cancels.append(
                async_call_later(hass, NEW_CHARGER_SETTLE_S, partial(add, event.charge_point_id))
            )

    @callback
    def add(cp_id: str, _now: datetime) -> None:
        chargers = [*entry.options.get(CONF_CHARGERS, []), cp_id]
        hass.config_entries.async_update_entry(
            entry, options={**entry.options, CONF_CHARGERS: chargers}
        )

    cancels: list[Callable[[], None]] = [site.central.add_listener(on_event)]

    def stop() -> None:
        for cancel in cancels:
            cancel()

    return stop
