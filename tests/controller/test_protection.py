"""The controller against a real central system and simulated chargers, on a fake clock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from custom_components.eflux.core.balancing import Site
from custom_components.eflux.core.central import CentralSystem
from custom_components.eflux.core.config import ControllerSettings
from custom_components.eflux.core.loadcontrol.controller import Controller
from sim.chargepoint import SimChargePoint
from tests.central.support import FakeClock, eventually

from .conftest import SimFactory
from .support import dynamic_limits, garage_site, last_limit, profiles

SAFE = "ChargePointMaxProfile"


@asynccontextmanager
async def running(
    central: CentralSystem, site: Site, clock: FakeClock, **kwargs: Any
) -> AsyncIterator[Controller]:
    kwargs.setdefault("settings", ControllerSettings(tick_s=0.02))
    controller = Controller(central, site, clock=clock, **kwargs)
    await controller.start()
    try:
        yield controller
    finally:
        await controller.stop()


async def test_every_charger_gets_a_safe_limit_with_a_validity_at_start(
    central: CentralSystem, make_sim: SimFactory, clock: FakeClock
) -> None:
    sims = [await make_sim(f"SAFE-{i}") for i in range(2)]
    settings = ControllerSettings(tick_s=0.02, safe_limit_valid_for=timedelta(hours=6))
    async with running(central, garage_site("SAFE-0", "SAFE-1"), clock, settings=settings):
        for sim in sims:
            await eventually(lambda s=sim: bool(profiles(s, SAFE)))
            profile = profiles(sim, SAFE)[0]
            assert "validTo" not in profile
            # Its maximum until the validity ends (plus the minute the schedule starts early),
            # then the safe current of a silent meter for good.
            assert profile["chargingSchedule"]["chargingSchedulePeriod"] == [
                {"startPeriod": 0, "limit": 16.0},
                {"startPeriod": 6 * 3600 + 60, "limit": 6.0},
            ]


async def test_a_charger_that_connects_later_gets_its_safe_limit_too(
    central: CentralSystem, make_sim: SimFactory, clock: FakeClock
) -> None:
    async with running(central, garage_site("LATE"), clock):
        sim = await make_sim("LATE")
        await eventually(lambda: bool(profiles(sim, SAFE)))


async def test_a_new_session_gets_its_share_and_an_overload_lowers_every_charger_at_once(
    central: CentralSystem, make_sim: SimFactory, clock: FakeClock
) -> None:
    a, b = await make_sim("OVL-A"), await make_sim("OVL-B")
    async with running(central, garage_site("OVL-A", "OVL-B"), clock) as controller:
        controller.meter_reading("grid", (2.0, 2.0, 2.0))
        await a.plug_in("CARD")
        await b.plug_in("CARD")
        await eventually(lambda: bool(sent(controller, "OVL-A") and sent(controller, "OVL-B")))
        # The cars draw, their meters say so and the grid meter sees them (until then each car
        # counts as drawing its limit, so the old reading of 2 A looked like an empty house).
        drawn = [await sampled(central, sim) for sim in (a, b)]
        controller.meter_reading("grid", (2.0 + sum(drawn),) * 3)
        await eventually(lambda: sent(controller, "OVL-A") == sent(controller, "OVL-B") == 11.5)
        for sim in (a, b):
            await sampled(central, sim, 11.5)
        # The oven: 10 A more on L1, seen by the grid meter together with both cars.
        controller.meter_reading("grid", (12.0 + 23.0, 2.0 + 23.0, 2.0 + 23.0))
        await eventually(lambda: last_limit(a) == 6.5 and last_limit(b) == 6.5)
        assert controller.result is not None
        assert controller.result.site.overload
        assert "grid L1" in controller.result.site.overloaded


async def test_a_silent_meter_drops_chargers_to_their_safe_current_and_recovers_by_itself(
    central: CentralSystem, make_sim: SimFactory, clock: FakeClock
) -> None:
    sim = await make_sim("SIL")
    site = garage_site("SIL", safe_current_a=8.0)
    async with running(central, site, clock, meter_timeouts={"grid": 5.0}) as controller:
        controller.meter_reading("grid", (0.0, 0.0, 0.0))
        await sim.plug_in("CARD")
        await eventually(lambda: last_limit(sim) == 16.0)
        clock.advance(seconds=4)
        controller.meter_reading("grid", (0.0, 0.0, 0.0))
        clock.advance(seconds=5)  # 5 s after the last reading: still within its timeout
        await _settle()
        assert last_limit(sim) == 16.0
        clock.advance(seconds=1.5)  # silent for 6.5 s: past the 5 s timeout
        await eventually(lambda: last_limit(sim) == 8.0)
        assert controller.result is not None
        assert controller.result.site.meters_lost == ("grid",)
        clock.advance(seconds=1)
        controller.meter_reading("grid", (0.0, 0.0, 0.0))  # it speaks again
        clock.advance(seconds=31)  # past the minimum interval between increases
        controller.meter_reading("grid", (0.0, 0.0, 0.0))
        await eventually(lambda: last_limit(sim) == 16.0)
        assert controller.result.site.meters_lost == ()


async def test_only_changed_limits_are_sent(
    central: CentralSystem, make_sim: SimFactory, clock: FakeClock
) -> None:
    sim = await make_sim("ONCE")
    async with running(central, garage_site("ONCE"), clock) as controller:
        controller.meter_reading("grid", (1.0, 1.0, 1.0))
        await sim.plug_in("CARD")
        await eventually(lambda: sent(controller, "ONCE") == 16.0)
        sent_before = len(dynamic_limits(sim))
        for _ in range(20):
            controller.meter_reading("grid", (1.0, 1.0, 1.0))
        await _settle()
        assert len(dynamic_limits(sim)) == sent_before


async def test_while_a_call_is_out_only_the_newest_limit_follows(
    central: CentralSystem, make_sim: SimFactory, clock: FakeClock
) -> None:
    sim = await make_sim("NEWEST")
    async with running(central, garage_site("NEWEST"), clock) as controller:
        controller.meter_reading("grid", (0.0, 0.0, 0.0))
        await sim.plug_in("CARD")
        await eventually(lambda: sent(controller, "NEWEST") == 16.0)
        await sampled(central, sim, 16.0)  # its draw is measured (and stays at 16 A below)
        sent_before = len(dynamic_limits(sim))
        controller.meter_reading("grid", (15.0 + 16.0, 16.0, 16.0))  # 10 A
        channel = controller.channel("NEWEST")
        assert channel is not None
        await asyncio.sleep(0)  # the call for 10 A is on its way
        assert channel.task is not None
        # Two more readings while it is out: 8 A is superseded by 7 A before it could be sent.
        controller.meter_reading("grid", (17.0 + 16.0, 16.0, 16.0))
        controller.meter_reading("grid", (18.0 + 16.0, 16.0, 16.0))
        await eventually(lambda: last_limit(sim) == 7.0)
        await _settle()
        assert dynamic_limits(sim)[sent_before:] == [10.0, 7.0]


async def sampled(central: CentralSystem, sim: SimChargePoint, amps: float | None = None) -> float:
    """Let the charger send samples until the central system has one of `amps` per phase
    (None: what the car draws now); returns it."""
    for _ in range(100):
        await sim.sample_now()
        want = sim.amps if amps is None else amps
        connector = central.charge_points()[sim.id].connectors.get(1)
        if connector is not None and connector.meter and connector.meter.current_a.max() == want:
            return want
        await asyncio.sleep(0.02)
    raise AssertionError(f"{sim.id} never measured {amps} A")


def sent(controller: Controller, ident: str) -> float | None:
    """The last limit of a session the charger accepted (not an idle charger's default)."""
    channel = controller.channel(ident)
    acked = channel.acked if channel is not None else None
    return acked.amps if acked is not None and not acked.plug_in else None


async def _settle() -> None:
    """Let queued calls and ticks run (nothing is expected to change)."""
    await asyncio.sleep(0.2)
