"""Idle chargers hold a TxDefaultProfile of what a new car may draw (control.plug_in).

A car that plugs in must not draw the charger's maximum before the controller has seen it: the
controller is stopped before the plug-in here, so only the default profile can hold the car.
"""

from __future__ import annotations

import pytest

from custom_components.eflux.core.balancing import Mode
from custom_components.eflux.core.central import CentralSystem
from custom_components.eflux.core.config import ControllerSettings
from sim.chargepoint import SimBehaviour, SimChargePoint
from tests.central.support import FakeClock, eventually

from .conftest import SimFactory
from .support import garage_site, limit_of, profiles
from .test_protection import running

DEFAULT = "TxDefaultProfile"


def defaults(sim: SimChargePoint) -> list[float]:
    return [limit_of(p) for p in profiles(sim, DEFAULT)]


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_a_new_car_draws_the_minimum_while_it_fits_and_nothing_when_the_house_is_full(
    central: CentralSystem, make_sim: SimFactory, clock: FakeClock, version: str
) -> None:
    sim = await make_sim("IDLE", version)
    async with running(central, garage_site("IDLE"), clock) as controller:
        controller.meter_reading("grid", (2.0, 2.0, 2.0))
        await eventually(lambda: defaults(sim)[-1:] == [6.0])
        controller.meter_reading("grid", (20.0, 2.0, 2.0))  # 5 A left on L1: not enough
        await eventually(lambda: defaults(sim)[-1:] == [0.0])
        controller.meter_reading("grid", (2.0, 2.0, 2.0))
        await eventually(lambda: defaults(sim)[-1:] == [6.0])
        controller.meter_reading("grid", (20.0, 2.0, 2.0))
        await eventually(lambda: defaults(sim)[-1:] == [0.0])
    # The controller is gone: the car plugs in and gets only what the default allows.
    await sim.plug_in("CARD")
    assert sim.transaction is not None
    assert sim.offered_a() == 0.0
    assert sim.amps == 0.0


async def test_without_the_controller_a_plug_in_draws_the_minimum_not_the_maximum(
    central: CentralSystem, make_sim: SimFactory, clock: FakeClock
) -> None:
    sim = await make_sim("MIN")
    async with running(central, garage_site("MIN"), clock) as controller:
        controller.meter_reading("grid", (2.0, 2.0, 2.0))
        await eventually(lambda: defaults(sim)[-1:] == [6.0])
    await sim.plug_in("CARD")
    assert sim.amps == 6.0  # not 16 A on top of the house


async def test_a_session_still_gets_its_own_limit_and_the_default_returns_after_it(
    central: CentralSystem, make_sim: SimFactory, clock: FakeClock
) -> None:
    sim = await make_sim("CYCLE")
    async with running(central, garage_site("CYCLE"), clock) as controller:
        controller.meter_reading("grid", (0.0, 0.0, 0.0))
        await eventually(lambda: defaults(sim)[-1:] == [6.0])
        await sim.plug_in("CARD")
        await eventually(lambda: sim.offered_a() == 16.0)  # a TxProfile beats the default
        before = len(defaults(sim))
        await sim.unplug()
        await eventually(lambda: len(defaults(sim)) > before and defaults(sim)[-1] == 6.0)


async def test_modes_that_never_start_at_once_and_a_queue_mean_zero(
    central: CentralSystem, make_sim: SimFactory, clock: FakeClock
) -> None:
    pv, first, second = await make_sim("PV"), await make_sim("FIRST"), await make_sim("SECOND")
    settings = ControllerSettings(tick_s=0.02, modes={"PV": Mode.PV})
    site = garage_site("PV", "FIRST", "SECOND")
    async with running(central, site, clock, settings=settings) as controller:
        controller.meter_reading("grid", (15.0, 15.0, 15.0))  # room for one car at 6 A
        await eventually(lambda: defaults(first)[-1:] == [6.0])
        await eventually(lambda: defaults(second)[-1:] == [0.0])  # the room is taken
        await eventually(lambda: defaults(pv)[-1:] == [0.0])  # pv: only on a surplus


async def test_a_charger_that_rejects_zero_gets_its_minimum(
    central: CentralSystem, make_sim: SimFactory, clock: FakeClock
) -> None:
    sim = await make_sim(
        "WALLBOX", vendor="Wallbox", behaviour=SimBehaviour(rejects_zero_limit=True)
    )
    async with running(central, garage_site("WALLBOX"), clock) as controller:
        controller.meter_reading("grid", (25.0, 25.0, 25.0))  # full
        await eventually(lambda: defaults(sim)[-1:] == [6.0])
        channel = controller.channel("WALLBOX")
        assert channel is not None
        await eventually(lambda: channel.acked == channel.wanted)
        assert channel.error is None
        assert 0.0 not in defaults(sim)


async def test_no_room_is_promised_while_the_meter_is_silent(
    central: CentralSystem, make_sim: SimFactory, clock: FakeClock
) -> None:
    sim = await make_sim("SILENT")
    async with running(central, garage_site("SILENT"), clock) as controller:
        await eventually(lambda: defaults(sim)[-1:] == [0.0])  # no reading yet
        controller.meter_reading("grid", (2.0, 2.0, 2.0))
        await eventually(lambda: defaults(sim)[-1:] == [6.0])
        controller.meter_reading("grid", None)  # the meter says its value is unusable
        await eventually(lambda: defaults(sim)[-1:] == [0.0])
