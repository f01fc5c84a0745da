"""1p/3p switching end to end over real websockets on both OCPP versions, on a fake clock: a
simulated charger that switches when numberPhases says so; one phase when three do not fit
their minimum, three when they do, at most one switch per interval, none in a session's first
minute, and the user's fixed choice at once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from custom_components.eflux.core.balancing import Charger, Circuit, Site, per_phase
from custom_components.eflux.core.central import CentralSystem
from custom_components.eflux.core.config import ControllerSettings, PlannerSettings
from custom_components.eflux.core.loadcontrol.controller import Controller
from sim.chargepoint import SimBehaviour, SimChargePoint
from tests.central.support import FakeClock, eventually

from .conftest import SimFactory
from .support import DIRECT, profiles
from .test_protection import running

SETTINGS = ControllerSettings(
    tick_s=0.02,
    planner=PlannerSettings(
        phase_switch_interval=timedelta(minutes=5), phase_switch_grace=timedelta(minutes=1)
    ),
)


def switch_site() -> Site:
    # The meter reads the household alone: the test sets it phase by phase.
    grid = Circuit("grid", per_phase(25.0), metered=True, meter_includes_chargers=False)
    return Site(
        circuits=(grid,), chargers=(Charger("SW", "grid", can_switch_phases=True),), tuning=DIRECT
    )


def last_period(sim: SimChargePoint) -> dict[str, Any]:
    sent = [p for p in profiles(sim) if p.get("chargingProfilePurpose") == "TxProfile"]
    schedule = sent[-1]["chargingSchedule"]
    if isinstance(schedule, list):
        schedule = schedule[0]
    period: dict[str, Any] = schedule["chargingSchedulePeriod"][0]
    return period


def last_phases(sim: SimChargePoint) -> int | None:
    phases: int | None = last_period(sim).get("numberPhases")
    return phases


async def tick(controller: Controller, sim: SimChargePoint, household: tuple[float, ...]) -> None:
    a, b, c = household
    controller.meter_reading("grid", (a, b, c))
    await sim.sample_now()
    controller.recompute()


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_phases_follow_the_room_with_hysteresis_and_a_grace_minute(
    central: CentralSystem, make_sim: SimFactory, clock: FakeClock, version: str
) -> None:
    sim = await make_sim("SW", version, behaviour=SimBehaviour(switches_phases=True))
    async with running(central, switch_site(), clock, settings=SETTINGS) as controller:
        quiet = (2.0, 2.0, 2.0)
        await tick(controller, sim, quiet)
        await sim.plug_in("CARD")
        await eventually(lambda: sim.amps == 16.0)
        assert sim.drawing_phases == 3
        # L2 and L3 fill up: 4 A left there, 21 A on L1. Three phases cannot have 6 A.
        busy = (2.0, 21.0, 21.0)
        await tick(controller, sim, busy)
        clock.advance(seconds=30)
        await tick(controller, sim, busy)
        await eventually(lambda: sim.amps == 0.0)  # paused: not switched in the first minute
        assert sim.phase_switches == []
        clock.advance(seconds=31)  # the session is a minute old
        await tick(controller, sim, busy)
        await eventually(lambda: sim.drawing_phases == 1 and sim.amps > 0)
        assert last_phases(sim) == 1  # numberPhases 1 switched it
        # 2.0.1 names the phase too (phaseToUse, for a charger that can switch); 1.6 cannot.
        assert last_period(sim).get("phaseToUse") == (1 if version == "2.0.1" else None)
        first = sim.phase_switches[-1][0]
        # The house quietens at once; three phases fit again, but not before 5 minutes.
        for _ in range(4):
            clock.advance(minutes=1)
            await tick(controller, sim, quiet)
        assert sim.drawing_phases == 1
        clock.advance(minutes=1, seconds=1)
        await tick(controller, sim, quiet)
        await eventually(lambda: sim.drawing_phases == 3)
        assert last_phases(sim) == 3
        switches = sim.phase_switches
        assert [phases for _, phases in switches] == [1, 3]
        assert switches[1][0] - first >= timedelta(minutes=5)


async def test_the_users_choice_switches_at_once_and_stays(
    central: CentralSystem, make_sim: SimFactory, clock: FakeClock
) -> None:
    sim = await make_sim("SW", "2.0.1", behaviour=SimBehaviour(switches_phases=True))
    async with running(central, switch_site(), clock, settings=SETTINGS) as controller:
        await tick(controller, sim, (0.0, 0.0, 0.0))
        await sim.plug_in("CARD")
        await eventually(lambda: sim.amps == 16.0)
        with pytest.raises(ValueError, match="2"):
            controller.limits.phases.set_mode("SW", "2")
        controller.limits.phases.set_mode("SW", "1")  # in the first minute too: the user's
        await tick(controller, sim, (0.0, 0.0, 0.0))
        await eventually(lambda: sim.drawing_phases == 1)
        clock.advance(minutes=10)
        await tick(controller, sim, (0.0, 0.0, 0.0))
        assert sim.drawing_phases == 1  # plenty of room, and still the one phase chosen


async def test_the_room_is_that_of_every_circuit_above_the_charger(
    central: CentralSystem, make_sim: SimFactory, clock: FakeClock
) -> None:
    """Plenty at the grid connection, but the garage's L3 is a 4 A one: three phases cannot
    have 6 A there, so after the session's first minute the charger runs on one phase."""
    grid = Circuit("grid", per_phase(40.0), metered=True, meter_includes_chargers=False)
    garage = Circuit("garage", (16.0, 16.0, 4.0), parent="grid")
    site = Site(
        circuits=(grid, garage),
        chargers=(Charger("SW", "garage", can_switch_phases=True),),
        tuning=DIRECT,
    )
    sim = await make_sim("SW", "1.6", behaviour=SimBehaviour(switches_phases=True))
    async with running(central, site, clock, settings=SETTINGS) as controller:
        await tick(controller, sim, (1.0, 1.0, 1.0))
        await sim.plug_in("CARD")
        await tick(controller, sim, (1.0, 1.0, 1.0))
        assert sim.phase_switches == []
        clock.advance(seconds=61)
        await tick(controller, sim, (1.0, 1.0, 1.0))
        await eventually(lambda: sim.drawing_phases == 1 and sim.amps > 0)
        assert sim.amps <= 16.0
