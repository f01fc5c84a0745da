"""A meter polled over Modbus TCP, RTU (serial) or RTU-over-TCP."""

from __future__ import annotations

import logging

from .backoff import Backoff, EpisodeLog, quiet_library_logs
from .config import MeterSourceConfig
from .modbus_io import ModbusReadError
from .modbus_line import ModbusLine
from .profile import load_profile
from .reading import Quality, from_fields
from .source import Clock, MeterSource, utc_now

_LOGGER = logging.getLogger(__name__)


class ModbusMeterSource(MeterSource):
    def __init__(
        self, cfg: MeterSourceConfig, *, clock: Clock = utc_now, fuse_a: float | None = None
    ) -> None:
        super().__init__(cfg.name, timeout_s=cfg.timeout_s, clock=clock, fuse_a=fuse_a)
        if cfg.modbus is None:
            raise ValueError(f"{cfg.name}: not a Modbus source")
        self.cfg = cfg
        self.settings = cfg.modbus
        self.profile = load_profile(cfg.modbus.profile)
        quiet_library_logs()
        self.episodes = EpisodeLog(_LOGGER, cfg.name)
        self.backoff = Backoff(
            initial=min(1.0, cfg.modbus.poll_interval_s), maximum=min(30.0, cfg.timeout_s)
        )
        self.failed_polls = 0
        self._line: ModbusLine | None = None

    async def _run(self) -> None:
        # a ScaledClock has a scale: pymodbus' real-time request timeouts follow it
        self._line = ModbusLine.acquire(self.cfg, float(getattr(self.clock, "scale", 1.0)))
        while True:
            delay = await self.poll_once()
            await self.clock.sleep(delay)

    async def poll_once(self) -> float:
        """One poll (connecting first when needed); returns the delay before the next one."""
        assert self._line is not None
        try:
            values = await self._line.read(self.profile, self.settings.device_id)
        except ModbusReadError as err:
            self.failed_polls += 1
            self.episodes.problem(err.kind, str(err))
            if err.kind in ("connect", "timeout"):
                return self.retry_delay()
            return self.settings.poll_interval_s
        self.episodes.recovered()
        self.backoff.reset()
        self._publish(from_fields(self.name, self.now(), values))
        return self.settings.poll_interval_s

    def retry_delay(self) -> float:
        """After a lost connection or an unanswered poll: back off (a gateway that is down is not
        hammered), but never past the moment the source turns stale, and once it is stale try at
        every poll interval, so a meter that answers again is back within one poll."""
        poll = self.settings.poll_interval_s
        if self.status is Quality.STALE:
            self.backoff.next_delay()  # still counts the failure
            return poll
        until_stale = self.seconds_until_stale()
        return max(poll, min(self.backoff.next_delay(), until_stale))

    async def _close(self) -> None:
        line, self._line = self._line, None
        if line is not None:
            line.release()
