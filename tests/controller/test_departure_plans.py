"""Departure plans on a running site over real websockets: cars in `dynamic` mode with a
departure follow a plan made per circuit and phase, and a promise that breaks is announced with
its reason in the pass that sees it break."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from ocpp.v201 import call as call201

from custom_components.eflux.core.balancing import (
    Charger,
    Circuit,
    Mode,
    Phase,
    Site,
    per_phase,
)
from custom_components.eflux.core.central import CentralSystem
from custom_components.eflux.core.config import ControllerSettings
from custom_components.eflux.core.domain import DepartureRequest
from custom_components.eflux.core.loadcontrol.controller import Controller
from custom_components.eflux.core.loadcontrol.promises import PlanChanged
from sim.chargepoint import Car, SimChargePoint
from tests.central.support import FakeClock, eventually

from .conftest import SimFactory
from .support import DIRECT
from .test_protection import running

SETTINGS = ControllerSettings(tick_s=0.02)


def demo_site() -> Site:
    """scripts/demo's house: 3 x 35 A, two three-phase chargers and one on L3 only."""
    return Site(
        circuits=(Circuit("grid", per_phase(35.0), metered=True),),
        chargers=(
            Charger("anna", "grid"),
            Charger("bram", "grid"),
            Charger("chris", "grid", wiring=(Phase.L3,)),
        ),
        tuning=DIRECT,
    )


async def plan_of(controller: Controller, sims: list[SimChargePoint], idents: list[str]) -> None:
    for _ in range(100):
        for sim in sims:
            await sim.sample_now()
        if all(controller.car_plan(i) is not None for i in idents):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"not planned: {controller.departures.errors}")


async def test_dynamic_cars_with_departures_follow_a_plan_made_per_phase(
    central: CentralSystem, make_sim: SimFactory, clock: FakeClock
) -> None:
    sims = [
        await make_sim("anna", car=Car(soc=30.0)),
        await make_sim("bram", car=Car(soc=20.0, battery_kwh=77.0)),
        await make_sim("chris", car=Car(soc=50.0, phases=1)),
    ]
    async with running(central, demo_site(), clock, settings=SETTINGS) as controller:
        controller.meter_reading("grid", (4.7, 4.4, 12.4))  # L3 read 12.4 A a moment ago
        controller.meter_reading("grid", (4.7, 4.4, 4.6))
        for sim in sims:
            await sim.plug_in("CARD")
        leave = clock.now + timedelta(hours=11)
        for ident, battery in (("anna", 60.0), ("bram", 77.0), ("chris", 40.0)):
            controller.set_departure(DepartureRequest(ident, leave, 80.0, battery_kwh=battery))
        await plan_of(controller, sims, ["anna", "bram", "chris"])
        plan = controller.departures.plan
        assert plan is not None
        assert plan.all_on_time  # Bram's ID.4 too: it is given the room it can have
        # The plan keeps every phase within the fuse less the household the planner counts
        # for this quarter: the last hour's peak (12.4 A on L3) plus the 2 A margin.
        now = clock.now
        amps = [0.0, 0.0, 0.0]
        for ident, phases in (("anna", (0, 1, 2)), ("bram", (0, 1, 2)), ("chris", (2,))):
            for p in phases:
                amps[p] += plan.power_w_at(ident, now) / (230.0 * len(phases))
        assert amps[2] <= 35.0 - 12.4 - 2.0 + 1e-6
        assert amps[0] > 0
        assert amps[2] > 0
        # dynamic with a departure is balanced as smart: the plan caps it.
        await eventually(lambda: controller._inputs["anna"].mode is Mode.SMART)
        controller.clear_departure("anna")
        await eventually(lambda: controller._inputs["anna"].mode is None)


async def test_a_broken_promise_is_announced_with_its_reason(
    central: CentralSystem, make_sim: SimFactory, clock: FakeClock
) -> None:
    site = Site(
        # The meter reads the household alone (the cars have their own feed).
        circuits=(Circuit("grid", per_phase(25.0), metered=True, meter_includes_chargers=False),),
        chargers=(Charger("tight", "grid"),),
        tuning=DIRECT,
    )
    sim = await make_sim("tight", car=Car(soc=50.0))
    heard: list[PlanChanged] = []
    async with running(central, site, clock, settings=SETTINGS) as controller:
        controller.plan_events.add_listener(heard.append)
        controller.meter_reading("grid", (3.0, 3.0, 3.0))
        await sim.plug_in("CARD")
        # 60 kWh from 50 to 80 %: 20 kWh; 16 A x 3 x 230 V = 11 kW: 1.8 h of the 2 h it has.
        leave = clock.now + timedelta(hours=2)
        controller.set_departure(DepartureRequest("tight", leave, 80.0, battery_kwh=60.0))
        await plan_of(controller, [sim], ["tight"])
        await eventually(lambda: bool(heard))
        first = heard[-1]
        assert first.ready_by_departure is True
        assert first.was_ready is None
        assert "departure_set" in first.reason or "plugged_in" in first.reason
        # The household jumps to 15 A: 25 - 15 - 2 = 8 A left, 5.5 kW: it cannot make it.
        controller.meter_reading("grid", (15.0, 15.0, 15.0))
        await eventually(lambda: heard[-1].broken)
        broken = heard[-1]
        assert broken.reason == "household_above_forecast"
        assert broken.ready_by_departure is False
        assert broken.shortfall_kwh is not None
        assert broken.shortfall_kwh > 1.0
        assert broken.departure_at == leave
        car = controller.car_plan("tight")
        assert car is not None
        assert not car.will_make_it
        assert car.shortfall_kwh == pytest.approx(broken.shortfall_kwh)


async def test_iso15118_charging_needs_feed_the_planner_directly(
    central: CentralSystem, make_sim: SimFactory, clock: FakeClock
) -> None:
    """2.0.1 NotifyEVChargingNeeds: the car's own departure time and energy amount are
    planned with no driver stating anything, at no more than the car's evMaxCurrent."""
    site = Site(
        circuits=(Circuit("grid", per_phase(25.0), metered=True),),
        chargers=(Charger("iso", "grid"),),
        tuning=DIRECT,
    )
    sim = await make_sim("iso", "2.0.1", car=Car(soc=40.0))
    async with running(central, site, clock, settings=SETTINGS) as controller:
        controller.set_mode("iso", Mode.SMART)
        controller.meter_reading("grid", (0.0, 0.0, 0.0))
        await sim.plug_in("CARD")
        await eventually(lambda: sim.transaction is not None)
        leave = (clock.now + timedelta(hours=3)).replace(microsecond=0)
        needs = {
            "requested_energy_transfer": "AC_three_phase",
            "departure_time": leave.isoformat(),
            "ac_charging_parameters": {
                "energy_amount": 20000,
                "ev_min_current": 6,
                "ev_max_current": 10,
                "ev_max_voltage": 400,
            },
        }
        await sim.call(call201.NotifyEVChargingNeeds(evse_id=1, charging_needs=needs))
        await eventually(lambda: controller.car_plan("iso") is not None)
        car = controller.car_plan("iso")
        assert car is not None
        assert controller.departures.requests == {}  # nobody stated a departure
        assert controller.departures.active["iso"].departure_at == leave
        assert car.energy_needed_kwh == pytest.approx(20.0, abs=0.5)  # less what it got
        assert car.will_make_it
        plan = controller.departures.plan
        assert plan is not None
        assert max(plan.power_w_at("iso", s.start) for s in plan.slots) <= 10 * 3 * 230 + 1e-6
