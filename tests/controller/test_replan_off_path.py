"""The protection path never waits behind the planner (DESIGN §3, issue 15): a re-plan is
solved in a worker thread, and a meter reading that arrives while it is being solved is answered
in its own pass at once, every car lowered, before the plan is taken."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from custom_components.eflux.core.balancing import Charger, Circuit, Site, per_phase
from custom_components.eflux.core.central import CentralSystem
from custom_components.eflux.core.domain import DepartureRequest
from sim.chargepoint import Car
from tests.central.support import FakeClock, eventually

from .conftest import SimFactory
from .support import DIRECT
from .test_departure_plans import SETTINGS, plan_of
from .test_protection import running


async def test_a_reading_during_a_replan_is_answered_in_its_own_pass(
    central: CentralSystem, make_sim: SimFactory, clock: FakeClock
) -> None:
    site = Site(
        circuits=(Circuit("grid", per_phase(40.0), metered=True, meter_includes_chargers=False),),
        chargers=(Charger("early", "grid"), Charger("late", "grid")),
        tuning=DIRECT,
    )
    early = await make_sim("early", car=Car(soc=20.0))
    late = await make_sim("late", car=Car(soc=30.0))
    async with running(central, site, clock, settings=SETTINGS) as controller:
        controller.meter_reading("grid", (2.0, 2.0, 2.0))
        for sim in (early, late):
            await sim.plug_in("CARD")
        leave = clock.now + timedelta(hours=3)
        controller.set_departure(DepartureRequest("early", leave, 80.0, battery_kwh=60.0))
        await plan_of(controller, [early, late], ["early"])
        await eventually(lambda: controller.replanning is None)

        def given() -> float:
            assert controller.result is not None
            return sum(a.target_a for a in controller.result.chargers.values())

        await eventually(lambda: given() > 10.0)  # both charge: lowering them is news

        # A departure for the second car: a re-plan starts at the next pass and is being solved.
        controller.set_departure(DepartureRequest("late", leave, 90.0, battery_kwh=60.0))
        await asyncio.sleep(0)  # the pass set_departure asked for: it starts the re-plan
        solving = controller.replanning
        assert solving is not None
        assert not solving.done()
        passes = controller.passes
        # The household jumps to 30 A: 40 - 30 = 10 A left for two cars. No await in between:
        # the reading is answered in this very call, while the plan is still being solved.
        controller.meter_reading("grid", (30.0, 30.0, 30.0))
        assert controller.passes == passes + 1
        assert controller.replanning is solving
        assert not solving.done()
        assert controller.car_plan("late") is None  # the new plan is not taken yet
        assert given() <= 10.0, controller.result
        # and the plan comes afterwards, in a pass of its own
        await plan_of(controller, [early, late], ["early", "late"])
        assert solving.done()
        assert controller.car_plan("late") is not None
