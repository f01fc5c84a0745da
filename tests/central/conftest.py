"""One central system per test module (port 0, a fake clock), and simulators that clean up."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from custom_components.eflux.core.central import AuthorizationSettings, CentralSystem

from .support import FakeClock, SimFactory, central_config, running_central, sims_against


@pytest.fixture(scope="module")
def clock() -> FakeClock:
    return FakeClock()


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def central(
    tmp_path_factory: pytest.TempPathFactory, clock: FakeClock
) -> AsyncIterator[CentralSystem]:
    config = central_config(
        tmp_path_factory.mktemp("central"),
        authorization=AuthorizationSettings(cards=frozenset({"CARD-OK"})),
    )
    async with running_central(config, clock) as running:
        yield running


@pytest_asyncio.fixture(loop_scope="module")
async def make_sim(central: CentralSystem, clock: FakeClock) -> AsyncIterator[SimFactory]:
    """Start simulated chargers against the module's central system; closed after the test."""
    async with sims_against(central, clock) as start:
        yield start
