"""User commands, retries, reconnects and the safe limit's renewal, against real chargers."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from custom_components.eflux.core.balancing import Mode
from custom_components.eflux.core.central import CentralSystem
from custom_components.eflux.core.config import ControllerSettings
from custom_components.eflux.core.domain import DepartureRequest
from sim.chargepoint import Car, SimBehaviour
from tests.central.support import FakeClock, eventually

from .conftest import SimFactory
from .support import garage_site, last_limit, profiles
from .test_protection import SAFE, running, sent


async def test_the_safe_limit_is_renewed_at_half_its_validity(
    central: CentralSystem, make_sim: SimFactory, clock: FakeClock
) -> None:
    sim = await make_sim("RENEW")
    settings = ControllerSettings(tick_s=0.02, safe_limit_valid_for=timedelta(hours=2))
    async with running(central, garage_site("RENEW"), clock, settings=settings):
        await eventually(lambda: len(profiles(sim, SAFE)) == 1)
        clock.advance(minutes=59)
        await _ticks()
        assert len(profiles(sim, SAFE)) == 1
        clock.advance(minutes=2)
        await eventually(lambda: len(profiles(sim, SAFE)) == 2)


async def test_user_settings_change_the_limit(
    central: CentralSystem, make_sim: SimFactory, clock: FakeClock
) -> None:
    sim = await make_sim("USER", car=Car(soc=70.0))
    async with running(central, garage_site("USER"), clock) as controller:
        controller.meter_reading("grid", (0.0, 0.0, 0.0))
        await sim.plug_in("CARD")
        await eventually(lambda: sent(controller, "USER") == 16.0)
        controller.set_max_current("USER", 10.0)
        await eventually(lambda: sent(controller, "USER") == 10.0)
        controller.set_mode("USER", Mode.OFF)
        await eventually(lambda: sent(controller, "USER") == 0.0)
        controller.set_mode("USER", None)
        await _ticks()  # the pass that notes it is ready to start again
        clock.advance(seconds=61)  # a restart after a pause waits for the start delay
        controller.meter_reading("grid", (0.0, 0.0, 0.0))
        await eventually(lambda: sent(controller, "USER") == 10.0)  # still capped at 10 A
        await sim.sample_now()  # SoC 70 %
        controller.set_target_soc("USER", 60.0)  # already above it: pause
        await eventually(lambda: sent(controller, "USER") == 0.0)
        allocation = controller.allocation("USER")
        assert allocation is not None
        assert allocation.reason.value == "paused_below_minimum"


async def test_a_smart_car_is_planned_once_its_soc_is_known(
    central: CentralSystem, make_sim: SimFactory, clock: FakeClock
) -> None:
    sim = await make_sim("SMART", car=Car(soc=50.0))
    async with running(central, garage_site("SMART"), clock) as controller:
        controller.meter_reading("grid", (0.0, 0.0, 0.0))
        controller.set_mode("SMART", Mode.SMART)
        await sim.plug_in("CARD")
        # 60 kWh from 50 to 60 % = 6.7 kWh in 10 hours: the planner charges at once, at the
        # most the car takes (11 kW), then stops.
        request = DepartureRequest(
            "SMART", clock.now + timedelta(hours=10), target_soc=60.0, battery_kwh=60.0
        )
        assert controller.set_departure(request) == "SMART"
        await eventually(lambda: "SMART" in controller.departures.errors)
        assert "soc_now" in controller.departures.errors["SMART"]  # the car has not said yet
        for _ in range(100):  # until the charger's samples carry the SoC it was configured for
            await sim.sample_now()
            if controller.car_plan("SMART") is not None:
                break
            await asyncio.sleep(0.05)
        car = controller.car_plan("SMART")
        assert car is not None
        assert car.will_make_it
        assert car.energy_needed_kwh == pytest.approx(60 * 0.1 / 0.9)
        assert "SMART" not in controller.departures.errors
        await eventually(lambda: sent(controller, "SMART") == 16.0)


async def test_a_failed_limit_is_retried_and_a_reconnect_resends(
    central: CentralSystem, make_sim: SimFactory, clock: FakeClock
) -> None:
    # An ABB-like charger that rejects our stack level: every limit fails until it is fixed.
    sim = await make_sim("FLAKY", behaviour=SimBehaviour(rejects_stack_level_above_zero=True))
    settings = ControllerSettings(tick_s=0.02, retry_after=timedelta(seconds=10))
    async with running(central, garage_site("FLAKY"), clock, settings=settings) as controller:
        controller.meter_reading("grid", (0.0, 0.0, 0.0))
        await sim.plug_in("CARD")
        await eventually(
            lambda: (c := controller.channel("FLAKY")) is not None and c.failed_at is not None
        )
        channel = controller.channel("FLAKY")
        assert channel is not None
        assert channel.error is not None
        assert "Rejected" in channel.error
        tried = len(profiles(sim))
        await _ticks()
        assert len(profiles(sim)) == tried  # nothing before retry_after
        sim.behaviour = SimBehaviour()  # fixed (e.g. a firmware update)
        clock.advance(seconds=11)
        controller.meter_reading("grid", (0.0, 0.0, 0.0))
        await eventually(lambda: sent(controller, "FLAKY") == 16.0)
        assert channel.error is None
        # The charger drops its connection and comes back: its limit is sent again.
        before = len(profiles(sim))
        await sim.drop_connection()
        await eventually(lambda: len(profiles(sim)) > before + 1)  # safe limit + the limit
        assert last_limit(sim) == 16.0


async def test_hostile_commands_are_refused_and_change_nothing(
    central: CentralSystem, clock: FakeClock
) -> None:
    async with running(central, garage_site("CMD"), clock) as controller:
        before = controller.user_settings("CMD")
        with pytest.raises(KeyError):
            controller.set_mode("NOPE", Mode.FAST)
        with pytest.raises(ValueError, match="≥ 0"):
            controller.set_max_current("CMD", -1.0)
        with pytest.raises(ValueError, match="≥ 0"):
            controller.set_max_current("CMD", float("nan"))
        with pytest.raises(ValueError, match=r"0\.\.100"):
            controller.set_target_soc("CMD", 150.0)
        with pytest.raises(KeyError):
            controller.meter_reading("garage", (1.0, 1.0, 1.0))
        with pytest.raises(KeyError):
            controller.set_departure(DepartureRequest("NOPE", clock.now + timedelta(hours=1)))
        assert controller.user_settings("CMD") == before
        # A reading that is not three finite numbers counts as a silent meter, with a warning.
        controller.meter_reading("grid", (float("nan"), 1.0, 1.0))
        assert controller.result is not None
        assert controller.result.site.meters_lost == ("grid",)
        assert any("unusable reading" in w for w in controller.result.site.warnings)


async def _ticks() -> None:
    await asyncio.sleep(0.15)
