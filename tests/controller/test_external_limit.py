"""A limit another controller sets on a charger (2.0.1 NotifyChargingLimit from an EMS or the
grid operator) caps what the balancer gives it, and ClearedChargingLimit lifts the cap (issue 18
item 3), on a real site with a 2.0.1 sim charger."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio
from ocpp.v201 import call

from custom_components.eflux.core.config import parse_site_config
from custom_components.eflux.core.meters.reading import MeterReading
from custom_components.eflux.core.runtime import LocalSite
from sim.chargepoint import Car, SimChargePoint
from tests.central.support import FakeClock, eventually
from tests.controller.support import last_limit


@pytest_asyncio.fixture
async def charging(tmp_path: Path) -> AsyncIterator[tuple[LocalSite, SimChargePoint, FakeClock]]:
    clock = FakeClock()
    config = parse_site_config(
        {
            "central": {"host": "127.0.0.1", "port": 0, "free_charging": True},
            "site": {"tuning": {"ramp_step_a": "none", "hysteresis_a": 0}},
            "circuits": [{"id": "grid", "limit_a": 40}],
            "meters": [{"name": "p1", "circuit": "grid", "kind": "external", "timeout": 900}],
            "chargers": [{"id": "ems", "circuit": "grid", "charge_point": "EMS-CP"}],
            "api": {"enabled": False},
        },
        base_dir=tmp_path,
    )
    site = LocalSite(config, clock=clock)
    await site.start()
    sim = SimChargePoint(
        f"ws://127.0.0.1:{site.central.port}",
        "EMS-CP",
        version="2.0.1",
        clock=clock,
        reconnect_delay=0.05,
        meter_interval=3600,
        car=Car(soc=30.0),
    )
    try:
        await sim.start()
        site.external_meter("p1").push(
            MeterReading("p1", clock.now, current_a=(2.0,) * 3, power_w=(460.0,) * 3)
        )
        await sim.plug_in("CARD")
        await eventually(lambda: last_limit(sim) == 16.0)
        yield site, sim, clock
    finally:
        await sim.close()
        await site.stop()


def schedule(clock: FakeClock, limit: float, unit: str = "A") -> list[dict[str, object]]:
    return [
        {
            "id": 1,
            "chargingRateUnit": unit,
            "startSchedule": clock.now.isoformat(),
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}],
        }
    ]


async def test_an_ems_limit_caps_the_charger_until_it_is_cleared(
    charging: tuple[LocalSite, SimChargePoint, FakeClock],
) -> None:
    site, sim, clock = charging
    await sim.call(
        call.NotifyChargingLimit(
            charging_limit={"chargingLimitSource": "EMS"},
            evse_id=1,
            charging_schedule=schedule(clock, 10.0),
        )
    )
    await eventually(lambda: last_limit(sim) == 10.0)
    assert site.charger_state("ems").limit_a == 10.0

    await sim.call(call.ClearedChargingLimit(charging_limit_source="EMS", evse_id=1))
    # A raise waits out the minimum interval between changes and the car's next sample.
    clock.advance(minutes=2)
    await sim.sample_now()
    site.external_meter("p1").push(
        MeterReading("p1", clock.now, current_a=(12.0,) * 3, power_w=(2760.0,) * 3)
    )
    await eventually(lambda: last_limit(sim) == 16.0)


async def test_a_limit_in_watts_is_shared_over_the_wired_phases(
    charging: tuple[LocalSite, SimChargePoint, FakeClock],
) -> None:
    site, sim, clock = charging
    # 5,520 W over three phases at 230 V: 8 A per phase.
    await sim.call(
        call.NotifyChargingLimit(
            charging_limit={"chargingLimitSource": "SO", "isGridCritical": True},
            charging_schedule=schedule(clock, 5520.0, "W"),
        )
    )
    await eventually(lambda: last_limit(sim) == 8.0)
    clock.advance(seconds=1)
    assert site.charger_state("ems").limit_a == 8.0
