"""`LocalSite`: a whole local site from one `SiteConfig` (central system, meters, controller).

What Home Assistant and the standalone runner both run, and the one door they use into the
core: commands by charger id (`SiteCommands`) and read models (snapshots, prices, central
events, the last balancing pass). The types a client needs with them are re-exported here
(plain shared data types are in `domain`), so a client imports from core only this module
and `domain` (tests/test_architecture.py holds it to that).

No Home Assistant imports: HA feeds sensor values through an `ExternalMeterSource`
(`kind: external`) and listens with `add_listener`, which gets a fresh `SiteSnapshot` after
every change (coalesced per turn of the event loop, so a burst of events costs one snapshot).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from .balancing import BalanceResult, Mode
from .central import (
    CallRejected,
    CentralError,
    CentralEvent,
    CentralSystem,
    ChargePointOffline,
    ChargePointState,
    ChargerBooted,
    CurrentLimit,
    NoActiveTransaction,
    Reservation,
    ReservationNotSupported,
    StatusChanged,
    Transaction,
    TransactionEnded,
    TransactionStarted,
)
from .central.auth import RemoteAuthorizer
from .clock import SYSTEM_CLOCK, Clock, Now, as_clock
from .cloud import CloudAuthError, CloudClient, CloudError, SyncStatus
from .cloud.link import CloudLink
from .config import EXTERNAL, ConfigError, MeterConfig, SiteConfig
from .decisions import Decision, DecisionLog
from .loadcontrol.circuit_limits import CircuitLimitError, CircuitOverride
from .loadcontrol.controller import Controller
from .loadcontrol.meter_feed import ExternalMeterSource, reading_amps
from .loadcontrol.prices import HourPrice
from .loadcontrol.promises import PlanChanged
from .loadcontrol.snapshot import ChargerSnapshot, SiteSnapshot, charger_dict
from .loadcontrol.view import build_snapshot, charger_snapshot
from .loadcontrol.warnings import ControlWarning
from .meters.reading import MeterReading
from .meters.source import MeterSource
from .site_admin import SiteAdminCommands
from .site_commands import SiteCommands

__all__ = [
    "BalanceResult",
    "CallRejected",
    "CentralError",
    "CentralEvent",
    "ChargePointOffline",
    "ChargePointState",
    "ChargerBooted",
    "ChargerSnapshot",
    "CircuitLimitError",
    "CircuitOverride",
    "CloudAuthError",
    "CloudClient",
    "CloudError",
    "CloudLink",
    "ConfigError",
    "ControlWarning",
    "CurrentLimit",
    "Decision",
    "HourPrice",
    "LocalSite",
    "Mode",
    "NoActiveTransaction",
    "PlanChanged",
    "Reservation",
    "ReservationNotSupported",
    "SiteSnapshot",
    "StatusChanged",
    "SyncStatus",
    "Transaction",
    "TransactionEnded",
    "TransactionStarted",
    "charger_dict",
]

_LOGGER = logging.getLogger(__name__)
SnapshotListener = Callable[[SiteSnapshot], None]


class LocalSite(SiteCommands, SiteAdminCommands):
    def __init__(
        self,
        config: SiteConfig,
        *,
        clock: Clock | Now = SYSTEM_CLOCK,
        remote_authorizer: RemoteAuthorizer | None = None,
    ) -> None:
        self.config = config
        # The site's one clock; its parts take it as a plain `now` function for now.
        self.clock = as_clock(clock)
        self._clock = self.clock
        self.central = CentralSystem(
            config.central, clock=self.clock, remote_authorizer=remote_authorizer
        )
        self.meters: dict[str, tuple[MeterConfig, MeterSource]] = {
            meter.name: (meter, _build_meter(meter, config, self.clock)) for meter in config.meters
        }
        self.controller = self._controller(config)
        self.central.set_price_source(self.controller.price_at)  # costs on 2.0.1 displays
        self._listeners: list[SnapshotListener] = []
        # On the controller in use (`add_chargers` replaces it): its own listeners, and the
        # clients' pass listeners move with it.
        self._pass_listeners: list[Callable[[BalanceResult], None]] = []
        self._warning_listeners: list[Callable[[ControlWarning], None]] = []
        self.decisions = DecisionLog(self.clock)
        self._on_controller: list[Callable[[], None]] = []
        self._unsubscribe: list[Callable[[], None]] = []
        self._notify_pending = False
        self._running = False
        self._cloud_cards: set[str] = set()  # cards whose vehicle came from the cloud

    # ---- lifetime -----------------------------------------------------------------------------
    async def start(self) -> None:
        await self.central.start()
        try:
            self._controller_listeners()  # before its first pass, which listeners hear too
            await self.controller.start()
            for meter, source in self.meters.values():
                self._unsubscribe.append(source.add_listener(self._meter_listener(meter)))
                await source.start()
        except BaseException:
            await self._shutdown()
            raise
        self._unsubscribe.append(self.central.add_listener(lambda _event: self._changed()))
        self._running = True
        _LOGGER.info("local site running: %d chargers", len(self.config.site.chargers))

    async def stop(self) -> None:
        if self._running:
            self._running = False
            await self._shutdown()

    def _controller(self, config: SiteConfig) -> Controller:
        return Controller(
            self.central,
            config.site,
            bindings=config.bindings,
            cars=config.cars,
            settings=config.controller,
            meter_timeouts={m.circuit: m.timeout_s for m in config.meters},
            clock=self.clock,
        )

    def _controller_listeners(self) -> None:
        self._on_controller = [
            self.controller.add_listener(self._changed),
            self.controller.add_listener(self._after_pass),
            self.controller.add_warning_listener(self._warned),
        ]

    def _stop_controller_listeners(self) -> None:
        for remove in self._on_controller:
            remove()
        self._on_controller = []

    def _after_pass(self) -> None:
        result = self.controller.result
        if result is not None:
            self.decisions.observe(result)
            for callback in list(self._pass_listeners):
                callback(result)

    async def _shutdown(self) -> None:
        self._stop_controller_listeners()
        for remove in self._unsubscribe:
            remove()
        self._unsubscribe.clear()
        for _, source in self.meters.values():
            with contextlib.suppress(Exception):
                await source.stop()
        await self.controller.stop()
        await self.central.stop()

    async def add_chargers(self, config: SiteConfig) -> None:
        """Balance the chargers `config` adds to this site's, without closing a socket: a new
        controller over the same central system and meters takes over every setting,
        departure, pushed price and reading of the old one. Anything else changed is refused
        (ValueError): that needs a new LocalSite."""
        old = self.controller
        if not set(old.bindings) <= set(config.bindings) or _without_chargers(
            config
        ) != _without_chargers(self.config):
            raise ValueError("add_chargers only adds chargers")
        new = self._controller(config)
        new.carry_over(old)
        if self._running:
            self._stop_controller_listeners()
            await old.stop()
        self.config, self.controller = config, new
        self.central.set_price_source(new.price_at)
        if self._running:
            self._controller_listeners()
            await new.start()
            self._changed()

    @property
    def running(self) -> bool:
        return self._running

    # ---- state --------------------------------------------------------------------------------
    def state(self) -> SiteSnapshot:
        return build_snapshot(
            self.controller, self.central.charge_points(), self.meters, self._clock()
        )

    def charger_state(self, charger_id: str) -> ChargerSnapshot:
        """One charger (KeyError when unknown); cheaper than `state()` for a big site."""
        self.controller.user_settings(charger_id)
        return charger_snapshot(self.controller, charger_id, self.central.charge_points())

    def add_listener(self, callback: SnapshotListener) -> Callable[[], None]:
        """`callback(snapshot)` after every change; returns a function that removes it."""
        self._listeners.append(callback)

        def remove() -> None:
            with contextlib.suppress(ValueError):
                self._listeners.remove(callback)

        return remove

    def add_event_listener(self, callback: Callable[[CentralEvent], None]) -> Callable[[], None]:
        """`callback(event)` for every event of the central system (sessions, boots, statuses)."""
        return self.central.add_listener(callback)

    def add_pass_listener(self, callback: Callable[[BalanceResult], None]) -> Callable[[], None]:
        """`callback(result)` after every balancing pass (and every limit sent): for what lives
        one pass only and no snapshot shows, such as an overload the pass corrected."""

        self._pass_listeners.append(callback)

        def remove() -> None:
            with contextlib.suppress(ValueError):
                self._pass_listeners.remove(callback)

        return remove

    def add_warning_listener(
        self, callback: Callable[[ControlWarning], None]
    ) -> Callable[[], None]:
        """`callback(warning)` when a car starts or stops drawing more than its limit (for the
        HA repair issue; `state().overdrawing` lists them meanwhile)."""
        self._warning_listeners.append(callback)

        def remove() -> None:
            with contextlib.suppress(ValueError):
                self._warning_listeners.remove(callback)

        return remove

    def _warned(self, warning: ControlWarning) -> None:
        for callback in list(self._warning_listeners):
            callback(warning)

    def add_plan_listener(self, callback: Callable[[PlanChanged], None]) -> Callable[[], None]:
        """`callback(change)` the moment a car's promise changes (ready by its departure or
        not, its finish), with the reason (Home Assistant fires it as `eflux_plan_changed`)."""
        return self.controller.plan_events.add_listener(callback)

    def recent_plan_changes(self) -> list[PlanChanged]:
        return list(self.controller.plan_events.recent)

    def recent_decisions(self, limit: int | None = None) -> list[Decision]:
        """The newest limit changes, overloads, meter losses and rotation turns, newest last."""
        return self.decisions.recent(limit)

    def decision_counts(self) -> dict[str, int]:
        """Decisions of each kind since the start, by kind value (GET /metrics)."""
        return {kind.value: count for kind, count in self.decisions.counts().items()}

    def charge_points(self) -> Mapping[str, ChargePointState]:
        """Every charge point the central system has stored, balanced here or not."""
        return self.central.charge_points()

    def charger_max_current(self, charger_id: str) -> float:
        """The most the charger may draw (its configured maximum), whatever the user's cap."""
        return self.controller.charger(charger_id).max_current_a

    def price_table(self) -> list[HourPrice]:
        """The next 48 hours' prices per kWh and where each came from (tariff or pushed)."""
        return self.controller.price_table()

    def price_now(self) -> HourPrice:
        """The price the planner uses for the current hour."""
        return self.controller.price_now()

    async def connect_cloud(self, client: CloudClient) -> CloudLink:
        """Start syncing with the cloud: sessions out, cards and departures in (the caller
        stops the link)."""
        return await CloudLink.start(
            client,
            self.central,
            on_departure=self.set_departure,
            on_vehicles=self._cloud_vehicles,
        )

    def _cloud_vehicles(self, vehicles: Mapping[str, Mapping[str, Any]]) -> None:
        """The cloud's word on every card's driver and car (its cards, by uid)."""
        for uid, vehicle in vehicles.items():
            car = vehicle.get("car")
            if isinstance(car, Mapping):  # the cloud sends every field; unset ones as null/""
                car = {k: v for k, v in car.items() if v not in (None, "", {})}
            try:
                self.set_card_profile(uid, str(vehicle.get("driver") or ""), car)
            except ValueError:  # ConfigError too: one bad entry must not block the others
                _LOGGER.warning("card %s: the cloud's vehicle is not usable: %s", uid, vehicle)
        for uid in self._cloud_cards - set(vehicles):
            self.clear_card_profile(uid)
        self._cloud_cards = set(vehicles)

    def external_meter(self, name: str) -> ExternalMeterSource:
        """The meter `name` of kind `external`, to `push(reading)` into (KeyError otherwise)."""
        _, source = self.meters[name]
        if not isinstance(source, ExternalMeterSource):
            raise KeyError(f"meter {name!r} is not of kind {EXTERNAL!r}")
        return source

    # ---- plumbing -----------------------------------------------------------------------------
    def _meter_listener(self, meter: MeterConfig) -> Callable[[MeterReading], None]:
        def on_reading(reading: MeterReading) -> None:
            self.controller.meter_reading(meter.circuit, reading_amps(reading))

        return on_reading

    def _changed(self) -> None:
        if self._notify_pending or not self._listeners:
            return
        self._notify_pending = True
        asyncio.get_running_loop().call_soon(self._notify)

    def _notify(self) -> None:
        self._notify_pending = False
        if not self._listeners:
            return
        snapshot = self.state()
        for callback in list(self._listeners):
            try:
                callback(snapshot)
            except Exception:
                _LOGGER.exception("site listener failed")


def _without_chargers(config: SiteConfig) -> SiteConfig:
    """The configuration but its chargers (what `add_chargers` may not change). The central
    system's list of known charge points grows with them; it only matters at a boot, and the
    new ones have booted (they were let in)."""
    site = dataclasses.replace(config.site, chargers=())
    central = dataclasses.replace(config.central, known_charge_points=frozenset())
    return dataclasses.replace(config, central=central, site=site, bindings={}, cars={})


def _build_meter(
    meter: MeterConfig, config: SiteConfig, clock: Callable[[], datetime]
) -> MeterSource:
    circuit = next(c for c in config.site.circuits if c.id == meter.circuit)
    fuse = meter.options.get("fuse_a") or max(circuit.limit_a)
    if meter.kind == EXTERNAL:
        return ExternalMeterSource(meter.name, timeout_s=meter.timeout_s, clock=clock, fuse_a=fuse)
    from .meters.build import build_source
    from .meters.config import parse_meter_config

    settings = parse_meter_config(meter.options, where=f"meters[{meter.name}]")
    return build_source(settings, clock=clock, fuse_a=float(fuse))
