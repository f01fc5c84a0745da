"""Fixtures for the Home Assistant layer tests: a real entry with its real central system, and
simulated charge points (sim/) that connect to it over real websockets."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion

from custom_components.eflux.const import (
    CONF_ACCEPT_NEW,
    CONF_FUSE_AMPS,
    CONF_MARGIN_AMPS,
    CONF_METER,
    CONF_PHASES,
    CONF_PORT,
    DOMAIN,
)
from custom_components.eflux.site_config import CONF_CHARGERS
from sim.chargepoint import SimChargePoint
from tests.support.ports import free_port

ENTRY_ID = "01JEFLUXTESTENTRY000000000"
SimFactory = Callable[..., Awaitable[SimChargePoint]]


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let HA load custom_components/eflux in every HA test."""


@pytest.fixture(autouse=True)
def allow_loopback_sockets(socket_enabled: None) -> None:
    """Our HA tests talk to real chargers and brokers; the plugin still limits them to 127.0.0.1."""


@pytest.fixture
def config_dir(hass: HomeAssistant, tmp_path: Path) -> Path:
    """The central system's SQLite file goes under the config dir: a fresh one per test."""
    hass.config.config_dir = str(tmp_path)
    return tmp_path


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Snapshots through HA's extension (registry entries and states without volatile fields)."""
    return snapshot.use_extension(HomeAssistantSnapshotExtension)


@pytest.fixture
def options() -> dict[str, Any]:
    return {
        CONF_ACCEPT_NEW: True,
        CONF_PHASES: 3,
        CONF_FUSE_AMPS: 25,
        CONF_MARGIN_AMPS: 2,
        CONF_METER: {"type": "none"},
        CONF_CHARGERS: ["CP-1"],
    }


@pytest.fixture
def entry(hass: HomeAssistant, options: dict[str, Any], config_dir: Path) -> MockConfigEntry:
    entry = MockConfigEntry(
        domain=DOMAIN,
        entry_id=ENTRY_ID,
        title="E-Flux Local (test)",
        data={CONF_PORT: free_port()},
        options=options,
    )
    entry.add_to_hass(hass)
    return entry


@pytest.fixture
async def loaded(hass: HomeAssistant, entry: MockConfigEntry) -> AsyncIterator[MockConfigEntry]:
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    yield entry
    if entry.state.recoverable:
        await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()


@pytest.fixture
async def make_sim(entry: MockConfigEntry) -> AsyncIterator[SimFactory]:
    """Simulated chargers against the entry's port; closed after the test."""
    sims: list[SimChargePoint] = []

    async def start(cp_id: str = "CP-1", version: str = "1.6", **kwargs: Any) -> SimChargePoint:
        kwargs.setdefault("reconnect_delay", 0.05)
        kwargs.setdefault("meter_interval", 3600)  # tests send samples themselves
        kwargs.setdefault("vendor", "Alfen")
        kwargs.setdefault("model", "Eve Single Pro")
        kwargs.setdefault("firmware", "6.4.0")
        url = f"ws://127.0.0.1:{entry.data[CONF_PORT]}"
        sim = SimChargePoint(url, cp_id, version, **kwargs)
        sims.append(sim)
        await sim.start()
        return sim

    yield start
    for sim in sims:
        await sim.close()
