"""A charger that floods: refused beyond its burst (or closed, or slowed), every CALL gets one
answer, and the other chargers are served all along."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

from custom_components.eflux.core.central import CentralSystem
from custom_components.eflux.core.central.ratelimit import RateLimit, TokenBucket
from custom_components.eflux.core.config.central_limits import parse_rate_limit
from custom_components.eflux.core.config.reader import Section
from custom_components.eflux.core.errors import ConfigError

from .support import (
    T0,
    FakeClock,
    RawCharger,
    boot_v16,
    central_config,
    meter_value,
    running_central,
    sims_against,
)


async def flood(raw: RawCharger, count: int) -> list[list[Any]]:
    """Send `count` Heartbeats without waiting, then read every answer (or until closed)."""
    for i in range(count):
        await raw.send(json.dumps([2, f"f{i}", "Heartbeat", {}]))
    answers = []
    try:
        while len(answers) < count:
            answers.append(await raw.reply(10.0))
    except ConnectionClosed:
        pass
    return answers


@pytest.mark.asyncio
async def test_beyond_the_burst_calls_are_refused_and_others_are_served(tmp_path: Path) -> None:
    limit = RateLimit(rate=50.0, burst=10, action="error")
    clock = FakeClock()
    async with (
        running_central(central_config(tmp_path, rate_limit=limit), clock) as central,
        sims_against(central, clock) as make_sim,
    ):
        quiet = await make_sim("QUIET")
        async with RawCharger.connect(central.port, "FLOODER") as raw:
            began = time.monotonic()
            answers = await flood(raw, 60)
            elapsed = time.monotonic() - began
            # one answer per CALL, in order
            assert [a[1] for a in answers] == [f"f{i}" for i in range(60)]
            handled = [a for a in answers if a[0] == 3]
            refused = [a for a in answers if a[0] == 4]
            assert len(handled) >= 10  # the burst
            assert len(handled) <= 10 + 50 * elapsed + 1
            assert refused
            assert {a[2] for a in refused} == {"GenericError"}
            assert "rate limit" in refused[0][3]
            # the flooder itself is served again once it slows down
            await asyncio.sleep(0.1)
            assert "currentTime" in await raw.call_ok("Heartbeat", {})
        await quiet.adapter.heartbeat()  # the bystander never noticed
        assert central.charge_points()["QUIET"].online


@pytest.mark.asyncio
async def test_transaction_data_is_delayed_never_refused(tmp_path: Path) -> None:
    """A charger replaying its meter backlog faster than the limit loses nothing."""
    limit = RateLimit(rate=200.0, burst=5, action="error")
    async with (
        running_central(central_config(tmp_path, rate_limit=limit)) as central,
        RawCharger.connect(central.port, "BACKLOG") as raw,
    ):
        for i in range(40):
            at = T0 + timedelta(seconds=10 * i)
            payload = {"connectorId": 1, "meterValue": [meter_value(at, 1000.0 + i)]}
            await raw.send(json.dumps([2, f"m{i}", "MeterValues", payload]))
        answers = [await raw.reply() for _ in range(40)]
        assert [a[0] for a in answers] == [3] * 40
        heartbeats = await flood(raw, 20)  # the same burst spent: a Heartbeat flood is refused
        assert 4 in {a[0] for a in heartbeats}


@pytest.mark.asyncio
async def test_close_action_drops_the_flooder(tmp_path: Path) -> None:
    limit = RateLimit(rate=1.0, burst=5, action="close")
    async with running_central(central_config(tmp_path, rate_limit=limit)) as central:
        async with RawCharger.connect(central.port, "CLOSE-ME") as raw:
            answers = await flood(raw, 30)
            assert 5 <= len(answers) < 30
            assert all(a[0] == 3 for a in answers)
            await raw.connection.wait_closed()
            assert raw.connection.close_code == 1008
            assert raw.connection.close_reason == "rate limit exceeded"
        async with RawCharger.connect(central.port, "CLOSE-ME") as again:  # may come back
            assert "currentTime" in await again.call_ok("Heartbeat", {})


@pytest.mark.asyncio
async def test_delay_action_answers_everything(tmp_path: Path) -> None:
    limit = RateLimit(rate=200.0, burst=5, action="delay")
    async with (
        running_central(central_config(tmp_path, rate_limit=limit)) as central,
        RawCharger.connect(central.port, "PATIENT") as raw,
    ):
        await raw.call_ok("BootNotification", boot_v16())
        answers = await flood(raw, 40)
        assert [a[0] for a in answers] == [3] * 40


@pytest.mark.asyncio
async def test_off_when_rate_is_zero(central_off: CentralSystem) -> None:
    async with RawCharger.connect(central_off.port, "UNLIMITED") as raw:
        answers = await flood(raw, 300)
        assert [a[0] for a in answers] == [3] * 300


@pytest.fixture
async def central_off(tmp_path: Path) -> Any:
    async with running_central(
        central_config(tmp_path, rate_limit=RateLimit(rate=0.0, burst=1))
    ) as central:
        yield central


def test_token_bucket_refills_at_the_rate() -> None:
    now = [0.0]
    bucket = TokenBucket(RateLimit(rate=2.0, burst=3), clock=lambda: now[0])
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    assert bucket.wait_time() == pytest.approx(0.5)
    now[0] += 0.5
    assert bucket.take()
    assert not bucket.take()
    now[0] += 100.0  # never more than the burst
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]


def test_site_yaml_rate_limit() -> None:
    parsed = parse_rate_limit(Section({"rate": 5, "burst": 20, "action": "close"}, "central"))
    assert parsed == RateLimit(rate=5.0, burst=20, action="close")
    assert parse_rate_limit(Section(None, "central.rate_limit")) == RateLimit()
    with pytest.raises(ConfigError, match="action"):
        parse_rate_limit(Section({"action": "ignore"}, "central.rate_limit"))
    with pytest.raises(ConfigError, match="burst"):
        parse_rate_limit(Section({"burst": 0}, "central.rate_limit"))
    with pytest.raises(ConfigError, match="rate"):
        parse_rate_limit(Section({"rate": -1}, "central.rate_limit"))
