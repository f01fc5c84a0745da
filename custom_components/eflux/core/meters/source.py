"""The meter-source contract: start/stop, listeners, the latest reading and stale detection.

Staleness is judged against an injectable clock (the site's `Clock`, or a bare `now` function
that a test moves by hand), and poll loops sleep on it, so a `ScaledClock` runs them faster.
A source that has never produced a good reading counts as stale (the safe side for balancing).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from ..clock import Clock as SiteClock
from ..clock import Now, as_clock
from ..clock import utc_now as utc_now  # re-exported: the meters and the bridge import it here
from .reading import MeterReading, Quality, assess

_LOGGER = logging.getLogger(__name__)

type Clock = SiteClock | Now  # the site's clock, or a bare `now` (sleeps in real time)
type Listener = Callable[[MeterReading], None]


class MeterSource(ABC):
    """Base of every meter source. Subclasses implement `_run()` (the poll/subscribe loop that
    calls `_publish`) and may override `_close()`.
    """

    def __init__(
        self,
        name: str,
        *,
        timeout_s: float,
        clock: Clock = utc_now,
        fuse_a: float | None = None,
    ) -> None:
        self.name = name
        self.timeout_s = timeout_s
        self.fuse_a = fuse_a
        self.clock = as_clock(clock)
        self._listeners: list[Listener] = []
        self._latest: MeterReading | None = None
        self._last_good: datetime | None = None
        self._stale_announced = False
        self._started_at: datetime | None = None
        self._tasks: list[asyncio.Task[None]] = []

    # -- lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        if self._tasks:
            return
        self._started_at = self.now()
        self._tasks = [
            asyncio.create_task(self._run(), name=f"meter {self.name}"),
            asyncio.create_task(self._watchdog(), name=f"meter {self.name} watchdog"),
        ]

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._close()

    @abstractmethod
    async def _run(self) -> None:
        """Read the device until cancelled, calling `_publish` for every reading."""

    async def _close(self) -> None:  # noqa: B027 - optional hook
        """Release connections (called by `stop`)."""

    # -- listeners and state ---------------------------------------------------------------
    def add_listener(self, callback: Listener) -> Callable[[], None]:
        """Call `callback` with every reading (also a stale one when the source goes silent).
        Returns a function that removes the listener.
        """
        self._listeners.append(callback)

        def remove() -> None:
            with contextlib.suppress(ValueError):
                self._listeners.remove(callback)

        return remove

    @property
    def latest(self) -> MeterReading | None:
        """The last reading, its quality set to `stale` when the source has gone silent."""
        reading = self._latest
        if reading is None:
            return None
        if self.status is Quality.STALE and reading.quality is not Quality.STALE:
            return replace(reading, quality=Quality.STALE)
        return reading

    @property
    def status(self) -> Quality:
        """`stale` after `timeout_s` without a good reading; else the last reading's quality."""
        silent_for = None if self._last_good is None else self.now() - self._last_good
        if silent_for is None or silent_for > timedelta(seconds=self.timeout_s):
            return Quality.STALE
        assert self._latest is not None
        return self._latest.quality

    def now(self) -> datetime:
        return self.clock.now()

    def seconds_until_stale(self) -> float:
        """How long the last good reading still counts (0 when stale or never read)."""
        if self._last_good is None:
            return 0.0
        left = self._last_good + timedelta(seconds=self.timeout_s) - self.now()
        return max(0.0, left.total_seconds())

    def _publish(self, reading: MeterReading) -> MeterReading:
        """Mark implausible values, remember the reading, and tell the listeners."""
        reading = assess(reading, self.fuse_a)
        self._latest = reading
        if reading.quality is Quality.OK:
            self._last_good = self.now()
            self._stale_announced = False
        elif reading.problems:
            _LOGGER.warning(
                "%s: implausible reading ignored: %s", self.name, "; ".join(reading.problems)
            )
        self._notify(reading)
        return reading

    def check_stale(self) -> bool:
        """Tell the listeners once when the source has turned stale; True while it is stale.

        A source that has not answered yet is stale (status) but is only announced as such
        once `timeout_s` has passed since `start()`: the first poll deserves its chance.
        """
        if self.status is not Quality.STALE:
            return False
        never_read = self._last_good is None and self._started_at is not None
        grace = timedelta(seconds=self.timeout_s)
        if never_read and self._started_at is not None and self.now() - self._started_at <= grace:
            return True
        if not self._stale_announced:
            self._stale_announced = True
            _LOGGER.warning("%s: no good reading for %s s: stale", self.name, self.timeout_s)
            stale = self.latest or MeterReading(self.name, self.now(), quality=Quality.STALE)
            self._notify(replace(stale, quality=Quality.STALE))
        return True

    def _notify(self, reading: MeterReading) -> None:
        for callback in tuple(self._listeners):
            try:
                callback(reading)
            except Exception:  # a broken listener must not stop the meter
                _LOGGER.exception("%s: listener failed", self.name)

    async def _watchdog(self) -> None:
        period = max(0.05, min(1.0, self.timeout_s / 4))
        while True:
            await self.clock.sleep(period)
            self.check_stale()
