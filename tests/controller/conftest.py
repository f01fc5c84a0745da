"""A central system with a fake clock per test, and simulated chargers that clean up."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from custom_components.eflux.core.central import AuthorizationSettings, CentralSystem
from sim.chargepoint import SimChargePoint
from tests.central.support import FakeClock, central_config, running_central

SimFactory = Callable[..., Awaitable[SimChargePoint]]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest_asyncio.fixture
async def central(tmp_path: Path, clock: FakeClock) -> AsyncIterator[CentralSystem]:
    config = central_config(tmp_path, authorization=AuthorizationSettings(free_charging=True))
    async with running_central(config, clock) as running:
        yield running


@pytest_asyncio.fixture
async def make_sim(central: CentralSystem, clock: FakeClock) -> AsyncIterator[SimFactory]:
    sims: list[SimChargePoint] = []

    async def start(cp_id: str, version: str = "1.6", **kwargs: Any) -> SimChargePoint:
        kwargs.setdefault("clock", clock)
        kwargs.setdefault("reconnect_delay", 0.05)
        kwargs.setdefault("meter_interval", 3600)  # tests send samples themselves
        sim = SimChargePoint(f"ws://127.0.0.1:{central.port}", cp_id, version, **kwargs)
        sims.append(sim)
        await sim.start()
        return sim

    yield start
    for sim in sims:
        await sim.close()
