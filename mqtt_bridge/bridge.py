"""The running bridge: polls each Modbus device and keeps its MQTT topics current.

Everything the broker should hold is retained and republished after every (re)connect, because
a restarted broker without persistence has forgotten it: discovery configs, availability, and
each device's latest state.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from custom_components.eflux.core.meters import MeterReading, MeterSource, Quality, build_source
from custom_components.eflux.core.meters.modbus_source import ModbusMeterSource
from custom_components.eflux.core.meters.mqtt_client import MqttConnection, Will
from custom_components.eflux.core.meters.source import Clock, utc_now

from .chargers import ChargerMirror
from .config import BridgeConfig
from .topics import (
    OFFLINE,
    ONLINE,
    Topics,
    discovery_payload,
    measured,
    reading_values,
    state_payload,
)

_LOGGER = logging.getLogger(__name__)


class Bridge:
    def __init__(self, config: BridgeConfig, *, clock: Clock = utc_now) -> None:
        self.config = config
        self.topics = Topics(config.base_topic, config.discovery_prefix)
        self.sources: dict[str, MeterSource] = {
            cfg.name: build_source(cfg, clock=clock) for cfg in config.devices
        }
        self._available: dict[str, bool] = {}
        self.mqtt = MqttConnection(
            config.broker,
            name="eflux-bridge",
            on_connect=self.republish,
            on_message=self._on_message,
            will=Will(self.topics.bridge_availability, OFFLINE, retain=True),
        )
        self.mirror: ChargerMirror | None = None
        if config.central is not None:
            self.mirror = ChargerMirror(
                config.central, self.mqtt, config.base_topic, config.discovery_prefix
            )
        self._watch: asyncio.Task[None] | None = None

    async def start(self) -> None:
        for name, source in self.sources.items():
            source.add_listener(self._listener(name))
            await source.start()
        if self.mirror is not None:
            await self.mirror.start()
        await self.mqtt.start()
        self._watch = asyncio.create_task(self._watch_availability(), name="bridge availability")

    async def stop(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
        for source in self.sources.values():
            await source.stop()
        if self.mirror is not None:
            await self.mirror.stop()
        # a clean exit says so itself; the last will covers crashes only
        self.mqtt.publish(self.topics.bridge_availability, OFFLINE, retain=True, qos=1)
        await self.mqtt.stop()

    # -- publishing -------------------------------------------------------------------------
    def republish(self) -> None:
        """Discovery, availability and the latest states (on every broker (re)connect)."""
        self.mqtt.publish(self.topics.bridge_availability, ONLINE, retain=True, qos=1)
        for name, source in self.sources.items():
            profile = source.profile if isinstance(source, ModbusMeterSource) else None
            if profile is not None:
                for value in measured(profile):
                    payload = discovery_payload(self.topics, name, profile, value)
                    self.mqtt.publish(self.topics.discovery(name, value.key), payload, retain=True)
            self._publish_availability(name, source.status is not Quality.STALE, force=True)
            latest = source.latest
            if latest is not None and latest.quality is not Quality.STALE:
                self._publish_reading(name, latest)
        if self.mirror is not None:
            self.mirror.republish()
        _LOGGER.info("published discovery and state of %d devices", len(self.sources))

    def _on_message(self, topic: str, payload: bytes) -> None:
        if self.mirror is not None:
            self.mirror.handle(topic, payload)

    def _listener(self, name: str) -> Callable[[MeterReading], None]:
        return lambda reading: self._on_reading(name, reading)

    def _on_reading(self, name: str, reading: MeterReading) -> None:
        if reading.quality is Quality.STALE:
            self._publish_availability(name, False)
            return
        self._publish_availability(name, True)
        self._publish_reading(name, reading)

    def _publish_reading(self, name: str, reading: MeterReading) -> None:
        self.mqtt.publish(self.topics.state(name), state_payload(reading), retain=True)
        if reading.quality is not Quality.OK:
            return  # the state JSON says why; the per-value topics keep the last good values
        for key, value in reading_values(reading).items():
            if value is not None:
                self.mqtt.publish(self.topics.value(name, key), repr(value), retain=True)

    def _publish_availability(self, name: str, online: bool, *, force: bool = False) -> None:
        if not force and self._available.get(name) == online:
            return
        self._available[name] = online
        payload = ONLINE if online else OFFLINE
        self.mqtt.publish(self.topics.availability(name), payload, retain=True, qos=1)

    async def _watch_availability(self) -> None:
        while True:
            await asyncio.sleep(0.5)
            for name, source in self.sources.items():
                if source.status is Quality.STALE:
                    self._publish_availability(name, False)
