"""A central system with a fake clock per test, and simulated chargers that clean up."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from custom_components.eflux.core.central import AuthorizationSettings, CentralSystem
from tests.central.support import (
    FakeClock,
    SimFactory,
    central_config,
    running_central,
    sims_against,
)


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
    async with sims_against(central, clock) as start:
        yield start
