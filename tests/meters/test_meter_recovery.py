"""A silent meter keeps being tried and is back within one poll of answering again; the Modbus
library's own complaints during the outage stay at DEBUG. Real pymodbus server, time on a
`ManualClock` that moves only when the source sleeps (no timed asserts)."""

from __future__ import annotations

import logging
import random
from datetime import timedelta

import pytest

from custom_components.eflux.core.meters import Quality, build_source, parse_meter_config
from custom_components.eflux.core.meters.backoff import Backoff
from custom_components.eflux.core.meters.modbus_source import ModbusMeterSource
from custom_components.eflux.core.meters.mqtt_source import MqttMeterSource
from tests.meters.conftest import SimFactory, modbus_config
from tests.meters.helpers import ManualClock, Readings
from tests.meters.test_modbus_behaviour import VALUES

POLL_S = 2.0
TIMEOUT_S = 10.0
PARKED = 2  # the poll loop and the stale watchdog


def silent_meter_source(port: int, clock: ManualClock) -> ModbusMeterSource:
    cfg = modbus_config(
        "sdm630", port, poll_interval=POLL_S, timeout=TIMEOUT_S, request_timeout=0.1
    )
    source = build_source(parse_meter_config(cfg, where="test"), clock=clock)
    assert isinstance(source, ModbusMeterSource)
    return source


async def run_until(clock: ManualClock, done: object, *, limit_s: float) -> None:
    """Move the clock sleeper by sleeper until `done()` (a callable), at most `limit_s`."""
    assert callable(done)
    end = clock.now() + timedelta(seconds=limit_s)
    while not done():
        assert clock.now() <= end, f"not done within {limit_s} s of simulated time"
        await clock.step(PARKED)


@pytest.mark.parametrize("silence_s", [12.0, 60.0])
async def test_meter_that_answers_again_is_back_within_one_poll(
    modbus_sim: SimFactory, caplog: pytest.LogCaptureFixture, silence_s: float
) -> None:
    caplog.set_level(logging.DEBUG, logger="pymodbus")
    clock = ManualClock()
    sim, port = await modbus_sim("sdm630", VALUES)
    source = silent_meter_source(port, clock)
    readings = Readings(source)
    await source.start()
    try:
        await run_until(clock, lambda: source.status is Quality.OK, limit_s=POLL_S)
        sim.fault = "silent"
        went_silent = clock.now()
        await run_until(
            clock, lambda: clock.now() - went_silent >= timedelta(seconds=silence_s),
            limit_s=silence_s + TIMEOUT_S,
        )  # fmt: skip
        assert source.status is Quality.STALE
        assert source.check_stale()
        # still tried, never left waiting longer than the timeout, at the poll interval once stale
        polls_while_silent = source.failed_polls
        assert polls_while_silent >= silence_s // TIMEOUT_S
        assert max(clock.slept) <= TIMEOUT_S
        seen = len(readings.items)
        sim.fault = None  # answers again while the source sleeps between polls
        back = clock.now()
        await run_until(clock, lambda: source.status is Quality.OK, limit_s=TIMEOUT_S)
        recovered = next(r for r in readings.items[seen:] if r.quality is Quality.OK)
        assert recovered.timestamp - back <= timedelta(seconds=POLL_S)
        assert source.backoff.failures == 0
    finally:
        await source.stop()
    library = [r for r in caplog.records if r.name.startswith("pymodbus")]
    complaints = [r for r in library if "No response received" in r.getMessage()]
    assert complaints, "pymodbus said nothing about the unanswered polls (the check would be void)"
    assert all(r.levelno == logging.DEBUG for r in complaints)
    assert not [r for r in library if r.levelno >= logging.WARNING]


async def test_silent_polls_back_off_only_until_the_meter_would_turn_stale(
    modbus_sim: SimFactory,
) -> None:
    clock = ManualClock()
    sim, port = await modbus_sim("sdm630", VALUES)
    source = silent_meter_source(port, clock)
    await source.start()
    try:
        await run_until(clock, lambda: source.status is Quality.OK, limit_s=POLL_S)
        last_good = clock.now()
        sim.fault = "silent"
        await run_until(clock, lambda: source.failed_polls >= 12, limit_s=120)
        stale_at = last_good + timedelta(seconds=TIMEOUT_S)
        # every poll after the meter went stale came one poll interval after the previous one
        assert clock.now() > stale_at + timedelta(seconds=5 * POLL_S)
        assert source.seconds_until_stale() == 0.0
        assert source.retry_delay() == POLL_S
    finally:
        await source.stop()


def test_backoff_never_waits_longer_than_its_maximum() -> None:
    backoff = Backoff(initial=0.5, maximum=5.0, jitter=0.2, rng=random.Random(7))
    delays = [backoff.next_delay() for _ in range(40)]
    assert max(delays) <= 5.0
    assert delays[-1] >= 4.0  # it does grow to the cap
    backoff.reset()
    assert backoff.next_delay() <= 0.6


def test_mqtt_source_reconnects_at_most_its_timeout_apart() -> None:
    cfg = {
        "name": "p1",
        "kind": "mqtt",
        "profile": "dsmr_reader",
        "timeout": 5,
        "broker": {"host": "127.0.0.1", "port": 1},
    }
    source = build_source(parse_meter_config(cfg, where="test"))
    assert isinstance(source, MqttMeterSource)
    backoff = source.connection._backoff
    assert max(backoff.next_delay() for _ in range(40)) <= 5.0
