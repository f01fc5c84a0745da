"""The site's clock: real time, scaled (simulated) time, and a test's `now` function as a Clock.

No timed asserts: the scaled clock is bracketed by readings of the real monotonic clock, and
"sleep(s) waits s/N real seconds" is shown by the order in which asyncio's timers fire.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from custom_components.eflux.core.clock import (
    SYSTEM_CLOCK,
    CallableClock,
    Clock,
    ScaledClock,
    SystemClock,
    as_clock,
    utc_now,
)
from custom_components.eflux.core.config import parse_site_config
from custom_components.eflux.core.runtime import LocalSite
from tests.central.support import FakeClock
from tests.runner.test_runtime import site_yaml

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def test_system_clock_is_aware_utc_and_a_plain_now_function() -> None:
    before = datetime.now(UTC)
    for now in (SYSTEM_CLOCK.now(), SYSTEM_CLOCK(), utc_now()):
        assert now.tzinfo is UTC
        assert now >= before
    assert isinstance(SystemClock(), Clock)
    assert as_clock(SYSTEM_CLOCK) is SYSTEM_CLOCK


@given(scale=st.floats(min_value=0.5, max_value=10_000))
def test_scaled_time_runs_scale_times_faster_and_never_goes_back(scale: float) -> None:
    clock = ScaledClock(scale, start=T0)
    samples = []
    for _ in range(50):
        real_before = time.monotonic()
        sim = clock.monotonic()
        samples.append((real_before, sim, time.monotonic(), clock.now()))
    for (r0a, sa, r1a, na), (r0b, sb, r1b, nb) in itertools.pairwise(samples):
        assert sb >= sa
        assert nb >= na
        # what elapsed in simulated time is the real time between the brackets, times scale
        assert (r0b - r1a) * scale - 1e-6 <= sb - sa <= (r1b - r0a) * scale + 1e-6
    for _, _, _, now in samples:
        assert now.tzinfo is UTC
        assert now >= T0


def test_scaled_now_is_start_plus_monotonic_in_utc() -> None:
    start = datetime(2026, 6, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    clock = ScaledClock(60, start=start)
    assert clock.start == T0
    assert clock.start.tzinfo is UTC
    elapsed = clock.monotonic()
    assert clock.now() - T0 >= timedelta(seconds=elapsed)
    called = clock()
    assert called.tzinfo is UTC
    assert clock.now() >= called
    assert isinstance(clock, Clock)


async def test_scaled_sleep_waits_seconds_divided_by_scale() -> None:
    clock = ScaledClock(100)
    finished: list[str] = []

    async def mark(name: str, sleeping: Awaitable[None]) -> None:
        await sleeping
        finished.append(name)

    sim_before = clock.monotonic()
    await asyncio.gather(
        mark("real 0.04 s", asyncio.sleep(0.04)),
        mark("simulated 5 s", clock.sleep(5)),  # 0.05 real seconds
        mark("real 0.1 s", asyncio.sleep(0.1)),
    )
    assert finished == ["real 0.04 s", "simulated 5 s", "real 0.1 s"]
    assert clock.monotonic() - sim_before >= 5 * 0.99
    await clock.sleep(-3)  # a deadline already passed: returns at once, like asyncio.sleep


@pytest.mark.parametrize("scale", [0, -2, float("nan"), float("inf")])
def test_a_scale_that_is_not_a_positive_number_is_refused(scale: float) -> None:
    with pytest.raises(ValueError, match="time scale must be a positive number"):
        ScaledClock(scale)


def test_a_naive_start_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        ScaledClock(10, start=datetime(2026, 6, 1, 12, 0))  # the hostile input


async def test_a_now_function_becomes_a_clock_that_reads_it() -> None:
    fake = FakeClock(T0)
    clock = as_clock(fake)
    assert isinstance(clock, CallableClock)
    assert clock() == clock.now() == T0
    fake.advance(minutes=5)
    assert clock.now() == T0 + timedelta(minutes=5)
    before = clock.monotonic()
    await clock.sleep(0)
    assert clock.monotonic() >= before


def test_local_site_takes_its_clock_from_the_constructor(tmp_path: Path) -> None:
    config = parse_site_config(site_yaml(tmp_path), base_dir=tmp_path)
    scaled = ScaledClock(3600, start=T0)
    assert LocalSite(config, clock=scaled).clock is scaled
    fake = FakeClock(T0)
    site = LocalSite(config, clock=fake)
    fake.advance(hours=1)
    assert site.clock() == T0 + timedelta(hours=1)
    assert site.state().at == T0 + timedelta(hours=1)
    assert LocalSite(config).clock is SYSTEM_CLOCK
