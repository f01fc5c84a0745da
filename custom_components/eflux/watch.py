"""Turn changes between snapshots into HA events and repair issues.

Events for automations: `eflux_overload` when the balancer had to cut an overload,
`eflux_departure_at_risk` when a car's plan stops reaching its departure. Repair issues: the
grid meter is stale (cleared when it recovers), a charger offline for an hour, a car drawing
more than offered, a charger without a password, and a new charger waiting for approval
(approvals.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.util import dt as dt_util

from .approvals import PendingChargers
from .compat import get_device
from .const import (
    DOMAIN,
    EVENT_DEPARTURE_AT_RISK,
    EVENT_OVERLOAD,
    ISSUE_CHARGER_OFFLINE,
    ISSUE_METER_STALE,
    ISSUE_NO_PASSWORD,
    ISSUE_OVERDRAW,
)
from .coordinator import EfluxCoordinator
from .core.runtime import BalanceResult
from .data import EfluxConfigEntry
from .entity import charger_device_id

_LOGGER = logging.getLogger(__name__)
OFFLINE_ISSUE_AFTER = timedelta(hours=1)
CHECK_EVERY = timedelta(minutes=1)
# A meter counts as stale before its first reading; give it this long after setup.
STALE_GRACE = timedelta(minutes=2)


class SiteWatcher:
    def __init__(
        self, hass: HomeAssistant, entry: EfluxConfigEntry, coordinator: EfluxCoordinator
    ) -> None:
        self.hass = hass
        self.entry = entry
        self.coordinator = coordinator
        self._overloaded = False
        self._at_risk: set[str] = set()
        self._offline_since: dict[str, datetime] = {}
        self._started = dt_util.utcnow()
        self._devices: dict[str, tuple[str | None, str | None, str | None]] = {}
        self._online: dict[str, bool] = {}
        self._logged_offline: set[str] = set()
        self._raised: dict[str, set[str]] = {ISSUE_OVERDRAW: set(), ISSUE_NO_PASSWORD: set()}
        self._pending = PendingChargers(hass, entry.entry_id, coordinator.site)

    @callback
    def async_start(self) -> Callable[[], None]:
        removers = [
            self.coordinator.async_add_listener(self.async_update),
            async_track_time_interval(self.hass, self._async_tick, CHECK_EVERY),
            # An overload lives for one balancing pass (it is corrected in that pass), shorter
            # than a snapshot: read it from the controller right after each pass.
            self.coordinator.site.add_pass_listener(self._after_pass),
            self._pending.async_stop,
        ]
        self.async_update()

        def stop() -> None:
            for remove in removers:
                remove()

        return stop

    def _issue_id(self, kind: str, subject: str = "") -> str:
        return f"{kind}_{self.entry.entry_id}{'_' + subject if subject else ''}"

    @callback
    def _after_pass(self, result: BalanceResult) -> None:
        overloaded = result.site.overload
        if overloaded and not self._overloaded:
            self.hass.bus.async_fire(
                EVENT_OVERLOAD,
                {
                    "constraints": list(result.site.overloaded),
                    "household_a": list(result.site.household_a),
                },
            )
        self._overloaded = overloaded

    @callback
    def async_update(self) -> None:
        snapshot = self.coordinator.data
        for charger in snapshot.chargers.values():
            risky = charger.ready_by_departure is False
            if risky and charger.id not in self._at_risk:
                self.hass.bus.async_fire(
                    EVENT_DEPARTURE_AT_RISK,
                    {
                        "charge_point_id": charger.charge_point_id,
                        "connector_id": charger.connector_id,
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
        now = dt_util.utcnow()
        self._meters(now)
        self._offline(now)
        self._log_connections()
        self._charger_issues()
        self._pending.async_update()
        self._device_info()

    @callback
    def _async_tick(self, now: datetime) -> None:
        self._meters(now)
        self._offline(now)

    def _device_info(self) -> None:
        """Manufacturer, model and firmware follow the charger's latest boot message."""
        registry = dr.async_get(self.hass)
        for charger in self.coordinator.data.chargers.values():
            info = (charger.vendor, charger.model, charger.firmware)
            cp_id = charger.charge_point_id
            if charger.vendor is None or self._devices.get(cp_id) == info:
                continue
            self._devices[cp_id] = info
            entry_id = self.entry.entry_id
            device = get_device(registry, (DOMAIN, charger_device_id(entry_id, cp_id)), entry_id)
            if device is not None:
                registry.async_update_device(
                    device.id, manufacturer=info[0], model=info[1], sw_version=info[2]
                )

    def _log_connections(self) -> None:
        """One line when a connected charge point goes offline (its entities become
        unavailable) and one when it is back; none for chargers connecting after a start."""
        boxes = {c.charge_point_id: c.online for c in self.coordinator.data.chargers.values()}
        for cp_id, online in boxes.items():
            was = self._online.get(cp_id)
            self._online[cp_id] = online
            if was and not online:
                _LOGGER.info("Charger %s disconnected; its entities are unavailable", cp_id)
            elif was is False and online and cp_id in self._logged_offline:
                _LOGGER.info("Charger %s is connected again", cp_id)
            if online:
                self._logged_offline.discard(cp_id)
            elif was:
                self._logged_offline.add(cp_id)

    def _charger_issues(self) -> None:
        """A car drawing more than offered (the balancer's warning) and a charger that
        connects without a password: a repair each, gone when the cause is."""
        snapshot = self.coordinator.data
        boxes = {c.charge_point_id for c in snapshot.chargers.values()}
        unprotected = set(self.coordinator.site.unprotected_charge_points()) & boxes
        for kind, now_raised in (
            (ISSUE_OVERDRAW, set(snapshot.overdrawing)),
            (ISSUE_NO_PASSWORD, unprotected),
        ):
            for charger in now_raised - self._raised[kind]:
                ir.async_create_issue(
                    self.hass,
                    DOMAIN,
                    self._issue_id(kind, charger),
                    is_fixable=kind == ISSUE_NO_PASSWORD,  # repairs.py gives it a password
                    data={"entry_id": self.entry.entry_id, "charger": charger},
                    severity=ir.IssueSeverity.WARNING,
                    translation_key=kind,
                    translation_placeholders={"charger": charger},
                )
            for charger in self._raised[kind] - now_raised:
                ir.async_delete_issue(self.hass, DOMAIN, self._issue_id(kind, charger))
            self._raised[kind] = now_raised

    def _meters(self, now: datetime) -> None:
        for meter in self.coordinator.data.meters:
            issue_id = self._issue_id(ISSUE_METER_STALE, meter.name)
            ever_read = meter.last_reading_at is not None
            if meter.quality == "stale" and (ever_read or now - self._started > STALE_GRACE):
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
