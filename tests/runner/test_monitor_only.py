"""`managed: false`: a charger that is monitored and commanded but never given a profile by the
balancer, while its draw still counts on its circuit (a real site, sim chargers)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio

from custom_components.eflux.core.config import parse_site_config
from custom_components.eflux.core.meters.reading import MeterReading
from custom_components.eflux.core.runtime import LocalSite
from sim.chargepoint import Car, SimChargePoint
from tests.central.support import FakeClock, eventually
from tests.controller.support import last_limit

HOUSEHOLD_A = 3.0


@pytest_asyncio.fixture
async def site(tmp_path: Path) -> AsyncIterator[tuple[LocalSite, FakeClock]]:
    data = {
        "central": {"host": "127.0.0.1", "port": 0, "free_charging": True},
        "site": {"tuning": {"ramp_step_a": "none", "hysteresis_a": 0}},
        "circuits": [{"id": "grid", "limit_a": 25}],
        "meters": [{"name": "p1", "circuit": "grid", "kind": "external", "timeout": 60}],
        "chargers": [
            {"id": "MON", "circuit": "grid", "managed": False},
            {"id": "BAL", "circuit": "grid"},
        ],
        "api": {"enabled": False},
    }
    clock = FakeClock()
    local = LocalSite(parse_site_config(data, base_dir=tmp_path), clock=clock)
    await local.start()
    try:
        yield local, clock
    finally:
        await local.stop()


def _sim(local: LocalSite, clock: FakeClock, ident: str) -> SimChargePoint:
    return SimChargePoint(
        f"ws://127.0.0.1:{local.central.port}",
        ident,
        clock=clock,
        reconnect_delay=0.05,
        meter_interval=3600,
        max_current_a=16.0,
        car=Car(soc=40.0),
    )


async def test_an_unmanaged_charger_gets_no_profile_but_its_draw_counts(
    site: tuple[LocalSite, FakeClock],
) -> None:
    local, clock = site
    mon, bal = _sim(local, clock, "MON"), _sim(local, clock, "BAL")
    await mon.start()
    await bal.start()
    try:
        assert not local.config.bindings["MON"].managed
        await mon.plug_in("CARD-M")
        await eventually(lambda: mon.amps > 0)
        await mon.sample_now()
        await eventually(lambda: local.state().chargers["MON"].current_a[0] == mon.amps)
        drawn = mon.amps
        meter = local.external_meter("p1")
        total = HOUSEHOLD_A + drawn
        meter.push(MeterReading("p1", clock.now, current_a=(total, total, total)))
        await bal.plug_in("CARD-B")
        await eventually(lambda: last_limit(bal) is not None)
        await eventually(lambda: last_limit(bal) == 25.0 - HOUSEHOLD_A - drawn)
        # commanded like any other charger
        assert await local.stop_charging("MON") == "Accepted"
        await eventually(lambda: mon.transaction is None)
        # ... but never given a charging profile (no Tx, TxDefault or ChargePointMax)
        assert bal.calls("SetChargingProfile")
        assert not mon.calls("SetChargingProfile")
        assert not mon.calls("ClearChargingProfile")
    finally:
        await mon.close()
        await bal.close()
