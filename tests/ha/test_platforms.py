"""Snapshot of every platform's entities (registry and states) after a real charger session."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from unittest.mock import patch

import pytest
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform
from syrupy.assertion import SnapshotAssertion

from custom_components.eflux import PLATFORMS
from custom_components.eflux.core.loadcontrol.snapshot import ChargerSnapshot
from sim.chargepoint import Car

from .conftest import SimFactory
from .helpers import settle, until


class SimClock:
    """The simulator's time stands still unless the test moves it, so energy and SoC are exact.
    It starts at the real time: the simulator applies charging profiles by their schedule,
    which the central system writes in its own (real) time."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now


@pytest.mark.usefixtures("entity_registry_enabled_by_default")  # also those disabled by default
@pytest.mark.parametrize("platform", PLATFORMS)
async def test_platform_snapshot(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    make_sim: SimFactory,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    platform: Platform,
) -> None:
    with patch("custom_components.eflux.entry_setup.PLATFORMS", [platform]):
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        clock = SimClock()
        sim = await make_sim("CP-1", car=Car(soc=40.0), clock=clock)
        await sim.plug_in("CARD-1")
        site = entry.runtime_data.site

        def charger() -> ChargerSnapshot:
            return site.state().chargers["CP-1"]

        # The balancer's first limit (6 A: it ramps up) reaches the car.
        await until(hass, lambda: charger().limit_sent_a == 6.0)
        # The simulator sends its status changes from separate tasks that may overtake each
        # other; one more StatusNotification with a later timestamp settles it.
        clock.now += timedelta(seconds=1)
        await sim.adapter.status(1, sim.status)
        await until(hass, lambda: charger().status == "Charging")
        clock.now += timedelta(minutes=10)
        await sim.sample_now()  # 10 min at 16 A, then 6 A
        await until(hass, lambda: charger().current_a == (6.0, 6.0, 6.0))
        await settle(hass)
        await snapshot_platform(hass, entity_registry, snapshot, entry.entry_id)
