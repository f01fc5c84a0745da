"""The one clock of the local site: wall time, a monotonic time and sleeping, all injectable.

`LocalSite(config, clock=...)` takes a `Clock` and hands it to the central system, the
controller and the meter sources. `SystemClock` is real time; `ScaledClock(N)` runs N times
faster than real time (`--time-scale N`): its `now()` and `monotonic()` advance N seconds per
real second and `sleep(s)` returns after s/N real seconds, so the same code paths run a day in
minutes. Most components still take a bare `Callable[[], datetime]` (tests pass fake clocks
that a test moves by hand); every `Clock` is such a callable (`clock()` is `clock.now()`), and
`as_clock` turns a bare callable into a `Clock` that sleeps and measures in real time.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Final, Protocol, runtime_checkable

type Now = Callable[[], datetime]


@runtime_checkable
class Clock(Protocol):
    """Time as the site sees it. `now()` is aware UTC and never goes back on a ScaledClock."""

    def now(self) -> datetime:
        """The current time, aware, in UTC."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (for intervals and deadlines)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` of this clock's time."""
        ...

    def __call__(self) -> datetime:
        """The same as `now()`: a Clock fits where a `Callable[[], datetime]` is expected."""
        ...


class SystemClock:
    """Real time: the wall clock in UTC, `time.monotonic`, `asyncio.sleep`."""

    scale: Final = 1.0

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    def __call__(self) -> datetime:
        return self.now()

    def __repr__(self) -> str:
        return "SystemClock()"


class ScaledClock:
    """Simulated time running `scale` times faster than real time, from `start` (default: now).

    Both `now()` and `monotonic()` derive from the real monotonic clock, so simulated time
    never goes back even when the wall clock is set back; `monotonic()` starts at 0.
    """

    def __init__(self, scale: float, start: datetime | None = None) -> None:
        if not math.isfinite(scale) or scale <= 0:
            raise ValueError(f"time scale must be a positive number, got {scale!r}")
        if start is not None and start.utcoffset() is None:
            raise ValueError("start must be an aware datetime")
        self.scale = float(scale)
        self.start = (start or datetime.now(UTC)).astimezone(UTC)
        self._real_origin = time.monotonic()

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.monotonic())

    def monotonic(self) -> float:
        return (time.monotonic() - self._real_origin) * self.scale

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / self.scale)

    def __call__(self) -> datetime:
        return self.now()

    def __repr__(self) -> str:
        return f"ScaledClock({self.scale:g}, start={self.start.isoformat()})"


class CallableClock:
    """A bare `now` function (a test's fake clock) as a `Clock`; it measures and sleeps in
    real time, as the code that took the function did before."""

    def __init__(self, now: Now) -> None:
        self._now = now

    def now(self) -> datetime:
        return self._now()

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    def __call__(self) -> datetime:
        return self._now()


SYSTEM_CLOCK: Final = SystemClock()
# The real time as a plain function: the default of the components' `clock=` parameters.
utc_now: Final[Now] = SYSTEM_CLOCK.now


def as_clock(clock: Clock | Now) -> Clock:
    """`clock` itself when it is a Clock, else the function wrapped in a `CallableClock`."""
    return clock if isinstance(clock, Clock) else CallableClock(clock)
