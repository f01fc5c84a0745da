"""Prices end to end: a smart car on a simulated charger waits for the cheap hours when it can,
and charges at once when it cannot (tariff from the settings, day-ahead prices pushed)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from custom_components.eflux.core.balancing import Mode
from custom_components.eflux.core.central import CentralSystem
from custom_components.eflux.core.config import ControllerSettings
from custom_components.eflux.core.domain import DepartureRequest
from custom_components.eflux.core.loadcontrol.controller import Controller
from custom_components.eflux.core.planning import CarPlan, PlanInputError
from custom_components.eflux.core.planning.tariff import PriceEntry, Tariff
from sim.chargepoint import Car, SimChargePoint
from tests.central.support import FakeClock, eventually

from .conftest import SimFactory
from .support import garage_site
from .test_protection import running, sent

EXPENSIVE, CHEAP = Decimal("0.40"), Decimal("0.05")
# Every hour costs 0.40 unless a pushed price says otherwise.
SETTINGS = ControllerSettings(tick_s=0.02, tariff=Tariff(ZoneInfo("UTC"), EXPENSIVE))


async def planned(controller: Controller, sim: SimChargePoint, ident: str) -> CarPlan:
    """The car's plan once the charger's samples have told the controller its SoC."""
    for _ in range(100):
        await sim.sample_now()
        car = controller.car_plan(ident)
        if car is not None:
            return car
        await asyncio.sleep(0.05)
    raise AssertionError(f"{ident} was never planned: {controller.departures.errors}")


def not_paused_by_plan(controller: Controller, ident: str) -> bool:
    allocation = controller.allocation(ident)
    return allocation is not None and allocation.reason.value != "paused_plan"


def cheap_hours(clock: FakeClock, first: int, count: int) -> list[PriceEntry]:
    """Day-ahead quarter-hours: `count` cheap hours starting `first` hours from now."""
    start = clock.now + timedelta(hours=first)
    return [
        PriceEntry(
            start + timedelta(minutes=15 * q), start + timedelta(minutes=15 * (q + 1)), CHEAP
        )
        for q in range(4 * count)
    ]


async def test_a_late_departure_waits_for_the_cheap_hours_and_still_makes_it(
    central: CentralSystem, make_sim: SimFactory, clock: FakeClock
) -> None:
    sim = await make_sim("NIGHT", car=Car(soc=50.0))
    async with running(central, garage_site("NIGHT"), clock, settings=SETTINGS) as controller:
        controller.meter_reading("grid", (0.0, 0.0, 0.0))
        controller.set_mode("NIGHT", Mode.SMART)
        await sim.plug_in("CARD")
        # 60 kWh from 50 to 80 % = 20 kWh; 16 A on three phases is 11.04 kW: 1.8 h of 12.
        assert controller.push_prices(cheap_hours(clock, 6, 2)) == 2
        departure = clock.now + timedelta(hours=12)
        request = DepartureRequest("NIGHT", departure, target_soc=80.0, battery_kwh=60.0)
        controller.set_departure(request)
        car = await planned(controller, sim, "NIGHT")
        assert car.will_make_it
        assert car.energy_needed_kwh == pytest.approx(20.0)
        plan = controller.departures.plan
        assert plan is not None
        cheap_from, cheap_to = clock.now + timedelta(hours=6), clock.now + timedelta(hours=8)
        for slot, kwh in zip(plan.slots, car.energy_kwh, strict=True):
            assert kwh == 0.0 or cheap_from <= slot.start < cheap_to, slot
        assert car.expected_finish is not None
        assert cheap_from < car.expected_finish <= cheap_to  # at the planned power
        assert car.estimated_cost == Decimal("1.00")  # 20 kWh at 0.05
        # Now it is expensive: the car waits (paused by the plan) ...
        await eventually(lambda: sent(controller, "NIGHT") == 0.0)
        allocation = controller.allocation("NIGHT")
        assert allocation is not None
        assert allocation.reason.value == "paused_plan"
        # ... and charges at full power once the cheap hours come.
        clock.advance(hours=6)
        controller.meter_reading("grid", (0.0, 0.0, 0.0))
        await eventually(lambda: not_paused_by_plan(controller, "NIGHT"))
        # (If it drew a little at plug-in, before its departure was known, the restart waits
        # for the start delay.)
        clock.advance(seconds=61)
        controller.meter_reading("grid", (0.0, 0.0, 0.0))
        # Paused for six hours, it is owed a turn: it may start at its minimum before the plan
        # for the cheap hours is refreshed, and rises once the charger's samples show the start.
        for _ in range(4):
            await controller.plan_settled()
            if sent(controller, "NIGHT") == 16.0:
                break
            clock.advance(seconds=31)
            await sim.sample_now()
            controller.meter_reading("grid", (0.0, 0.0, 0.0))
        await eventually(lambda: sent(controller, "NIGHT") == 16.0)


async def test_without_enough_time_it_charges_at_once_whatever_the_price(
    central: CentralSystem, make_sim: SimFactory, clock: FakeClock
) -> None:
    sim = await make_sim("RUSH", car=Car(soc=50.0))
    async with running(central, garage_site("RUSH"), clock, settings=SETTINGS) as controller:
        controller.meter_reading("grid", (0.0, 0.0, 0.0))
        controller.set_mode("RUSH", Mode.SMART)
        await sim.plug_in("CARD")
        controller.push_prices(cheap_hours(clock, 1, 1))  # the second hour is cheap
        # 20 kWh needs 1.8 h at full power; the car leaves in 1.5 h.
        departure = clock.now + timedelta(minutes=90)
        request = DepartureRequest("RUSH", departure, target_soc=80.0, battery_kwh=60.0)
        controller.set_departure(request)
        car = await planned(controller, sim, "RUSH")
        assert not car.will_make_it
        assert car.shortfall_kwh == pytest.approx(20.0 - 11.04 * 1.5, abs=0.01)
        assert all(kwh > 0 for kwh in car.energy_kwh)  # every slot, the expensive one first
        # 11.04 kWh in the expensive hour, 5.52 in the cheap half hour: 4.416 + 0.276.
        assert car.estimated_cost == Decimal("4.69")
        await eventually(lambda: sent(controller, "RUSH") == 16.0)


async def test_pushed_prices_replan_and_bad_ones_change_nothing(
    central: CentralSystem, make_sim: SimFactory, clock: FakeClock
) -> None:
    sim = await make_sim("PUSH", car=Car(soc=50.0))
    async with running(central, garage_site("PUSH"), clock, settings=SETTINGS) as controller:
        controller.meter_reading("grid", (0.0, 0.0, 0.0))
        controller.set_mode("PUSH", Mode.SMART)
        await sim.plug_in("CARD")
        request = DepartureRequest(
            "PUSH", clock.now + timedelta(hours=12), target_soc=80.0, battery_kwh=60.0
        )
        controller.set_departure(request)
        car = await planned(controller, sim, "PUSH")
        assert car.estimated_cost == Decimal("8.00")  # the tariff only: as early as possible
        await eventually(lambda: sent(controller, "PUSH") == 16.0)
        # Day-ahead prices arrive: re-planned into the cheap hours without any other event.
        controller.push_prices(cheap_hours(clock, 3, 2))
        await eventually(lambda: sent(controller, "PUSH") == 0.0)
        replanned = controller.car_plan("PUSH")
        assert replanned is not None
        assert replanned.estimated_cost == Decimal("1.00")
        before = dict(controller.departures.prices.pushed)
        overlapping = cheap_hours(clock, 1, 1) + cheap_hours(clock, 1, 1)
        with pytest.raises(PlanInputError, match="overlaps"):
            controller.push_prices(overlapping)
        assert controller.departures.prices.pushed == before
        # Forgetting them goes back to the tariff: charge at once again.
        controller.push_prices(None)
        await eventually(lambda: not_paused_by_plan(controller, "PUSH"))
        clock.advance(seconds=61)  # a restart after a pause waits for the start delay
        controller.meter_reading("grid", (0.0, 0.0, 0.0))
        await eventually(lambda: sent(controller, "PUSH") == 16.0)
        table = controller.price_table()
        assert len(table) == 48
        assert {(row.price, row.source) for row in table} == {(EXPENSIVE, "tariff")}
