"""The safe limit as a dead-man switch under the controller, and new sessions limited at once
(no delay: an early TxProfile a 1.6 charger rejects is retried by the central system)."""

from __future__ import annotations

from datetime import timedelta

from custom_components.eflux.core.balancing import Mode
from custom_components.eflux.core.central import CentralSystem
from custom_components.eflux.core.config import ChargerBinding, ControllerSettings
from sim.chargepoint import SimBehaviour, SimChargePoint
from tests.central.support import FakeClock, eventually

from .conftest import SimFactory
from .support import garage_site, profiles
from .test_protection import SAFE, running, sent


def offered_after(sim: SimChargePoint, clock: FakeClock, **delta: float) -> float:
    clock.advance(**delta)
    sim.advance()
    return sim.offered_a()


async def test_a_stopped_controller_leaves_the_charger_falling_back_by_itself(
    central: CentralSystem, make_sim: SimFactory, clock: FakeClock
) -> None:
    sim = await make_sim("GONE")
    settings = ControllerSettings(tick_s=0.02, safe_limit_valid_for=timedelta(minutes=30))
    site = garage_site("GONE", safe_current_a=8.0)
    async with running(central, site, clock, settings=settings) as controller:
        controller.meter_reading("grid", (0.0, 0.0, 0.0))
        await sim.plug_in("CARD")
        await eventually(lambda: sent(controller, "GONE") == 16.0 and bool(profiles(sim, SAFE)))
        assert sim.amps == 16.0  # the safe limit does not hold balancing back
    # The controller is gone; nobody renews the profile.
    assert offered_after(sim, clock, minutes=29) == 16.0
    assert offered_after(sim, clock, minutes=2) == 8.0  # by itself, from its own profile
    assert offered_after(sim, clock, hours=12) == 8.0


async def test_safe_limit_a_is_the_fallback_and_no_cap_on_balancing(
    central: CentralSystem, make_sim: SimFactory, clock: FakeClock
) -> None:
    sim = await make_sim("SAFE-A")
    bindings = {"SAFE-A": ChargerBinding("SAFE-A", safe_limit_a=10.0)}
    settings = ControllerSettings(tick_s=0.02, safe_limit_valid_for=timedelta(minutes=10))
    async with running(
        central, garage_site("SAFE-A"), clock, settings=settings, bindings=bindings
    ) as controller:
        controller.meter_reading("grid", (0.0, 0.0, 0.0))
        await sim.plug_in("CARD")
        await eventually(lambda: sent(controller, "SAFE-A") == 16.0 and bool(profiles(sim, SAFE)))
        assert sim.amps == 16.0
    assert offered_after(sim, clock, minutes=11) == 10.0


async def test_a_new_session_is_paused_at_once_even_when_its_first_profile_comes_too_early(
    central: CentralSystem, make_sim: SimFactory, clock: FakeClock
) -> None:
    sim = await make_sim("EARLY", behaviour=SimBehaviour(late_transaction_id=1))
    settings = ControllerSettings(tick_s=0.02, modes={"EARLY": Mode.OFF})
    async with running(central, garage_site("EARLY"), clock, settings=settings) as controller:
        controller.meter_reading("grid", (0.0, 0.0, 0.0))
        tx_id = await sim.plug_in("CARD")
        await eventually(lambda: sent(controller, "EARLY") == 0.0 and sim.amps == 0.0)
        tx_profiles = profiles(sim, "TxProfile")
        assert len(tx_profiles) >= 2  # the first one rejected as too early, then accepted
        assert sim.calls("RemoteStopTransaction") == []  # not mistaken for "0 A refused"
        assert sim.transaction is not None
        assert sim.transaction.id == tx_id


async def test_a_one_period_charger_gets_a_ceiling_that_does_not_hold_balancing_back(
    central: CentralSystem, make_sim: SimFactory, clock: FakeClock
) -> None:
    sim = await make_sim("ONE-PERIOD", configuration={"ChargingScheduleMaxPeriods": "1"})
    await eventually(lambda: central.charge_points()[sim.id].max_schedule_periods == 1)
    async with running(central, garage_site("ONE-PERIOD", safe_current_a=8.0), clock) as ctl:
        ctl.meter_reading("grid", (0.0, 0.0, 0.0))
        await sim.plug_in("CARD")
        await eventually(lambda: sent(ctl, "ONE-PERIOD") == 16.0 and bool(profiles(sim, SAFE)))
        [profile] = profiles(sim, SAFE)
        assert profile["chargingSchedule"]["chargingSchedulePeriod"] == [
            {"startPeriod": 0, "limit": 16.0}  # its maximum, not the 8 A it cannot fall back to
        ]
        assert "validTo" in profile
        assert sim.amps == 16.0
