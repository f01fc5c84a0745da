"""Turn changes between snapshots into HA events and repair issues.

Events for automations: `eflux_overload` when the balancer had to cut an overload,
`eflux_departure_at_risk` when a car's plan stops reaching its departure. Repair issues: the
grid meter is stale (cleared when it recovers) and a charger offline for an hour.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.util import dt as dt_util

from .const import (
    DOMAIN,
    EVENT_DEPARTURE_AT_RISK,
    EVENT_OVERLOAD,
    ISSUE_CHARGER_OFFLINE,
    ISSUE_METER_STALE,
)
from .coordinator import EfluxCoordinator

OFFLINE_ISSUE_AFTER = timedelta(hours=1)
CHECK_EVERY = timedelta(minutes=1)


class SiteWatcher:
    def __init__(
        self, hass: HomeAssistant, entry: ConfigEntry, coordinator: EfluxCoordinator
    ) -> None:
        self.hass = hass
        self.entry = entry
        self.coordinator = coordinator
        self._overloaded = False
        self._at_risk: set[str] = set()
        self._offline_since: dict[str, datetime] = {}

    @callback
    def async_start(self) -> Callable[[], None]:
        remove_listener = self.coordinator.async_add_listener(self.async_update)
        remove_timer = async_track_time_interval(self.hass, self._async_tick, CHECK_EVERY)
        self.async_update()

        def stop() -> None:
            remove_listener()
            remove_timer()

        return stop

    def _issue_id(self, kind: str, subject: str = "") -> str:
        return f"{kind}_{self.entry.entry_id}{'_' + subject if subject else ''}"

    @callback
    def async_update(self) -> None:
        snapshot = self.coordinator.data
        overloaded = snapshot.balancer_status == "overload"
        if overloaded and not self._overloaded:
            self.hass.bus.async_fire(
                EVENT_OVERLOAD,
                {
                    "circuits": list(snapshot.overloaded),
                    "grid_current_a": list(snapshot.grid_current_a),
                },
            )
        self._overloaded = overloaded
        for charger in snapshot.chargers.values():
            risky = charger.ready_by_departure is False
            if risky and charger.id not in self._at_risk:
                self.hass.bus.async_fire(
                    EVENT_DEPARTURE_AT_RISK,
                    {
                        "charge_point_id": charger.charge_point_id,
                        "departure": charger.departure_at.isoformat()
                        if charger.departure_at
                        else None,
                        "expected_finish": (
                            charger.expected_finish.isoformat() if charger.expected_finish else None
                        ),
                        "shortfall_kwh": charger.shortfall_kwh,
                    },
                )
                self._at_risk.add(charger.id)
            elif not risky:
                self._at_risk.discard(charger.id)
        self._meters()
        self._offline(dt_util.utcnow())

    @callback
    def _async_tick(self, now: datetime) -> None:
        self._offline(now)

    def _meters(self) -> None:
        for meter in self.coordinator.data.meters:
            issue_id = self._issue_id(ISSUE_METER_STALE, meter.name)
            if meter.quality == "stale":
                ir.async_create_issue(
                    self.hass,
                    DOMAIN,
                    issue_id,
                    is_fixable=False,
                    severity=ir.IssueSeverity.WARNING,
                    translation_key=ISSUE_METER_STALE,
                    translation_placeholders={"meter": meter.name},
                )
            else:
                ir.async_delete_issue(self.hass, DOMAIN, issue_id)

    def _offline(self, now: datetime) -> None:
        for charger in self.coordinator.data.chargers.values():
            issue_id = self._issue_id(ISSUE_CHARGER_OFFLINE, charger.charge_point_id)
            if charger.online:
                self._offline_since.pop(charger.id, None)
                ir.async_delete_issue(self.hass, DOMAIN, issue_id)
                continue
            since = self._offline_since.setdefault(charger.id, now)
            if now - since >= OFFLINE_ISSUE_AFTER:
                ir.async_create_issue(
                    self.hass,
                    DOMAIN,
                    issue_id,
                    is_fixable=False,
                    severity=ir.IssueSeverity.WARNING,
                    translation_key=ISSUE_CHARGER_OFFLINE,
                    translation_placeholders={"charger": charger.charge_point_id},
                )
