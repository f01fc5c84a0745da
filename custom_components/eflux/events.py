"""Central-system events into Home Assistant: session events on the bus (new chargers are
added by `new_chargers`), and the planner's `eflux_plan_changed` the moment a car's promise
changes (with the reason: a broken promise is announced when it breaks, not at departure)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from homeassistant.core import HomeAssistant, callback

from .const import EVENT_PLAN_CHANGED, EVENT_SESSION_ENDED, EVENT_SESSION_STARTED
from .core.runtime import (
    CentralEvent,
    LocalSite,
    PlanChanged,
    Transaction,
    TransactionEnded,
    TransactionStarted,
)


def _session_data(tx: Transaction) -> dict[str, Any]:
    return {
        "charge_point_id": tx.charge_point_id,
        "connector_id": tx.connector_id,
        "transaction_id": tx.id,
        "card": tx.id_tag,
        "started_at": tx.started_at.isoformat(),
    }


@callback
def async_forward_central_events(hass: HomeAssistant, site: LocalSite) -> Callable[[], None]:
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

    @callback
    def on_plan(change: PlanChanged) -> None:
        hass.bus.async_fire(EVENT_PLAN_CHANGED, change.as_dict())

    remove_events = site.add_event_listener(on_event)
    remove_plans = site.add_plan_listener(on_plan)

    @callback
    def remove() -> None:
        remove_events()
        remove_plans()

    return remove
