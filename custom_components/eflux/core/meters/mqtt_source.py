"""A meter read from MQTT messages, decoded by one of the MQTT profiles."""

from __future__ import annotations

import asyncio
import logging

from .backoff import Backoff, EpisodeLog
from .config import MeterSourceConfig
from .mqtt_client import MqttConnection
from .mqtt_payload import PayloadError, Route, decode
from .mqtt_profiles import PROFILES
from .reading import from_fields
from .source import Clock, MeterSource, utc_now

_LOGGER = logging.getLogger(__name__)

# Split-topic publishers (DSMR-reader, P1 Monitor) send a burst of topics per telegram: wait
# this long after the last one so listeners get one reading per telegram, not one per topic.
COALESCE_S = 0.05


class MqttMeterSource(MeterSource):
    def __init__(
        self, cfg: MeterSourceConfig, *, clock: Clock = utc_now, fuse_a: float | None = None
    ) -> None:
        super().__init__(cfg.name, timeout_s=cfg.timeout_s, clock=clock, fuse_a=fuse_a)
        if cfg.mqtt is None:
            raise ValueError(f"{cfg.name}: not an MQTT source")
        self.settings = cfg.mqtt
        self.profile = PROFILES[cfg.mqtt.profile]
        self.routes: dict[str, Route] = self.profile.routes(cfg.mqtt.topic, cfg.mqtt.paths)
        # Reconnects back off, but never longer than the source's timeout: a broker that is
        # back is read again before (or soon after) the meter would count as silent.
        self.connection = MqttConnection(
            cfg.mqtt.broker,
            name=cfg.name,
            on_message=self.handle,
            backoff=Backoff(initial=0.5, maximum=min(30.0, cfg.timeout_s)),
        )
        self.rejected = EpisodeLog(_LOGGER, f"{cfg.name} payloads")
        self.ignored_messages = 0
        self._raw: dict[str, float] = {}
        self._pending: asyncio.TimerHandle | None = None

    async def _run(self) -> None:
        self.connection.subscribe(self.routes)
        await self.connection.start()
        await asyncio.Event().wait()  # messages arrive through `handle`

    async def _close(self) -> None:
        if self._pending is not None:
            self._pending.cancel()
        await self.connection.stop()

    def handle(self, topic: str, payload: bytes) -> None:
        """One message (on the event loop). Bad payloads are logged once per episode and dropped."""
        route = self.routes.get(topic)
        if route is None:
            return
        try:
            values = decode(route, payload)
        except PayloadError as err:
            self.ignored_messages += 1
            self.rejected.problem("payload", f"ignored a message on {topic}: {err}")
            return
        self.rejected.recovered()
        self._raw.update(values)
        if self._pending is None:
            self._pending = asyncio.get_running_loop().call_later(COALESCE_S, self._emit)

    def _emit(self) -> None:
        self._pending = None
        fields = self.profile.combine(self._raw)
        if fields:
            self._publish(from_fields(self.name, self.now(), fields))
