"""`LocalSite`: a whole local site from one `SiteConfig` (central system, meters, controller).

What Home Assistant and the standalone runner both run. No Home Assistant imports: HA feeds
sensor values through an `ExternalMeterSource` (`kind: external`) and listens with
`add_listener`, which gets a fresh `SiteSnapshot` after every change (coalesced per turn of the
event loop, so a burst of events costs one snapshot).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from .balancing import Mode
from .central import CentralSystem
from .central.auth import RemoteAuthorizer
from .config import EXTERNAL, MeterConfig, SiteConfig
from .control.meter_feed import ExternalMeterSource, reading_amps
from .control.snapshot import ChargerSnapshot, SiteSnapshot
from .control.view import build_snapshot, charger_snapshot
from .controller import Controller
from .domain import DepartureRequest
from .meters.reading import MeterReading
from .meters.source import MeterSource

_LOGGER = logging.getLogger(__name__)
SnapshotListener = Callable[[SiteSnapshot], None]


def utc_now() -> datetime:
    return datetime.now(UTC)


class LocalSite:
    def __init__(
        self,
        config: SiteConfig,
        *,
        clock: Callable[[], datetime] = utc_now,
        remote_authorizer: RemoteAuthorizer | None = None,
    ) -> None:
        self.config = config
        self._clock = clock
        self.central = CentralSystem(
            config.central, clock=clock, remote_authorizer=remote_authorizer
        )
        self.meters: dict[str, tuple[MeterConfig, MeterSource]] = {
            meter.name: (meter, _build_meter(meter, config, clock)) for meter in config.meters
        }
        self.controller = Controller(
            self.central,
            config.site,
            bindings=config.bindings,
            cars=config.cars,
            settings=config.controller,
            meter_timeouts={m.circuit: m.timeout_s for m in config.meters},
            clock=clock,
        )
        self._listeners: list[SnapshotListener] = []
        self._unsubscribe: list[Callable[[], None]] = []
        self._notify_pending = False
        self._running = False

    # ---- lifetime -----------------------------------------------------------------------------
    async def start(self) -> None:
        await self.central.start()
        try:
            await self.controller.start()
            for meter, source in self.meters.values():
                self._unsubscribe.append(source.add_listener(self._meter_listener(meter)))
                await source.start()
        except BaseException:
            await self._shutdown()
            raise
        self._unsubscribe.append(self.central.add_listener(lambda _event: self._changed()))
        self._unsubscribe.append(self.controller.add_listener(self._changed))
        self._running = True
        _LOGGER.info("local site running: %d chargers", len(self.config.site.chargers))

    async def stop(self) -> None:
        if self._running:
            self._running = False
            await self._shutdown()

    async def _shutdown(self) -> None:
        for remove in self._unsubscribe:
            remove()
        self._unsubscribe.clear()
        for _, source in self.meters.values():
            with contextlib.suppress(Exception):
                await source.stop()
        await self.controller.stop()
        await self.central.stop()

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

    def external_meter(self, name: str) -> ExternalMeterSource:
        """The meter `name` of kind `external`, to `push(reading)` into (KeyError otherwise)."""
        _, source = self.meters[name]
        if not isinstance(source, ExternalMeterSource):
            raise KeyError(f"meter {name!r} is not of kind {EXTERNAL!r}")
        return source

    # ---- commands -----------------------------------------------------------------------------
    async def set_mode(self, charger_id: str, mode: Mode | str | None) -> None:
        self.controller.set_mode(charger_id, None if mode is None else Mode(mode))

    async def set_max_current(self, charger_id: str, amps: float | None) -> None:
        self.controller.set_max_current(charger_id, amps)

    async def set_target_soc(self, charger_id: str, soc: float | None) -> None:
        self.controller.set_target_soc(charger_id, soc)

    async def set_departure(self, request: DepartureRequest) -> str:
        """Plan the car; returns the id of the charger it was given to."""
        return self.controller.set_departure(request)

    async def clear_departure(self, charger_id: str) -> None:
        self.controller.clear_departure(charger_id)

    async def start_charging(self, charger_id: str, id_tag: str | None = None) -> str:
        """RemoteStart on the charger's connector; the charger's answer status."""
        self.controller.user_settings(charger_id)  # KeyError when unknown
        binding = self.controller.bindings[charger_id]
        tag = id_tag or self.config.controller.start_id_tag
        return await self.central.remote_start(binding.charge_point_id, binding.connector_id, tag)

    async def stop_charging(self, charger_id: str) -> str:
        """RemoteStop of the transaction on the charger's connector."""
        self.controller.user_settings(charger_id)
        binding = self.controller.bindings[charger_id]
        return await self.central.remote_stop(binding.charge_point_id, binding.connector_id)

    async def send_ocpp(
        self, charge_point_id: str, action: str, payload: dict[str, Any]
    ) -> dict[str, Any]:
        """Any OCPP message from the central system; the charger's answer payload."""
        return await self.central.send(charge_point_id, action, payload)

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


def _build_meter(
    meter: MeterConfig, config: SiteConfig, clock: Callable[[], datetime]
) -> MeterSource:
    circuit = next(c for c in config.site.circuits if c.id == meter.circuit)
    fuse = meter.options.get("fuse_a") or max(circuit.limit_a)
    if meter.kind == EXTERNAL:
        return ExternalMeterSource(meter.name, timeout_s=meter.timeout_s, clock=clock, fuse_a=fuse)
    from .meters.config import build_source, parse_meter_config

    settings = parse_meter_config(meter.options, where=f"meters[{meter.name}]")
    return build_source(settings, clock=clock, fuse_a=float(fuse))
