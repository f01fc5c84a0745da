"""Limits that change while running, over real websockets on a fake clock: a circuit limit with
an expiry (and §14a's 4.2 kW floor per charger), and the capacity tariff keeping every
quarter-hour's average import under its target."""

from __future__ import annotations

from datetime import timedelta

import pytest

from custom_components.eflux.core.balancing import Charger, Circuit, Site, per_phase
from custom_components.eflux.core.central import CentralSystem
from custom_components.eflux.core.config import (
    CapacityTariff,
    ControllerSettings,
    PlannerSettings,
)
from custom_components.eflux.core.loadcontrol.circuit_limits import CircuitLimitError
from custom_components.eflux.core.loadcontrol.controller import Controller
from custom_components.eflux.core.planning.slots import SLOT, quarter_floor
from sim.chargepoint import Car, SimChargePoint
from tests.central.support import FakeClock, eventually

from .conftest import SimFactory
from .support import DIRECT, garage_site
from .test_protection import running, sent

SETTINGS = ControllerSettings(tick_s=0.02)


def settled(controller: Controller, ident: str) -> bool:
    channel = controller.channel(ident)
    return channel is not None and channel.acked == channel.wanted


async def test_a_circuit_limit_holds_until_it_expires(
    central: CentralSystem, make_sim: SimFactory, clock: FakeClock
) -> None:
    sim = await make_sim("LIM")
    async with running(central, garage_site("LIM"), clock, settings=SETTINGS) as controller:
        controller.meter_reading("grid", (0.0, 0.0, 0.0))
        await sim.plug_in("CARD")
        await eventually(lambda: sent(controller, "LIM") == 16.0)
        limits = controller.limits.circuits
        with pytest.raises(CircuitLimitError, match="expires_at"):
            limits.set("grid", clock.now, limit_a=(9, 9, 9), expires_at=clock.now)
        with pytest.raises(CircuitLimitError, match="limit_a"):
            limits.set("grid", clock.now, limit_a=(9, -1, 9))
        with pytest.raises(KeyError):
            limits.set("garage", clock.now, limit_a=(9, 9, 9))
        assert limits.overrides == {}  # nothing of a refused limit stays
        until = clock.now + timedelta(minutes=10)
        limits.set("grid", clock.now, limit_a=(10, 10, 10), expires_at=until, reason="DR")
        controller.apply_limits("circuit_limit_changed")
        await eventually(lambda: sent(controller, "LIM") == 10.0)  # lowered at once
        # A grid operator's §14a signal: 0 A, but 4.2 kW per charger stays guaranteed.
        limits.set("grid", clock.now, limit_a=(0, 0, 0), min_kw_per_charger=4.2, expires_at=until)
        controller.apply_limits("circuit_limit_changed")
        await eventually(lambda: sent(controller, "LIM") == 6.0)  # 4.2 kW / 690 V = 6.09 A
        clock.advance(minutes=11)  # expired: back to the fuse (after the increase interval)
        controller.meter_reading("grid", (0.0, 0.0, 0.0))
        await eventually(lambda: sent(controller, "LIM") == 16.0)
        assert limits.overrides == {}


async def test_the_capacity_tariff_keeps_each_quarter_under_its_target(
    central: CentralSystem, make_sim: SimFactory, clock: FakeClock
) -> None:
    """Household 1 A per phase, a car that alone would draw 11 kW, a 5 kW target: every
    quarter-hour's average import, as integrated here from what the car really drew, stays
    under 5 kW, and the car still charges (at its minimum)."""
    site = Site(
        circuits=(Circuit("grid", per_phase(25.0), metered=True),),
        chargers=(Charger("CAP", "grid"),),
        tuning=DIRECT,
    )
    planner = PlannerSettings(capacity_tariff=CapacityTariff("grid", 5.0))
    settings = ControllerSettings(tick_s=0.02, planner=planner)
    clock.now = quarter_floor(clock.now)
    sim: SimChargePoint = await make_sim("CAP", car=Car(soc=10.0, battery_kwh=200.0))
    household = 1.0
    async with running(central, site, clock, settings=settings) as controller:
        controller.meter_reading("grid", (household,) * 3)
        await sim.plug_in("CARD")
        energy: dict[object, float] = {}
        charged = 0.0
        for _ in range(int(2 * SLOT / timedelta(seconds=10))):  # two quarter-hours
            amps = household + sim.amps
            controller.meter_reading("grid", (amps, amps, amps))
            await eventually(lambda: settled(controller, "CAP"))
            amps = household + sim.amps  # what the meter sees once the car has followed
            controller.meter_reading("grid", (amps, amps, amps))
            await eventually(lambda: settled(controller, "CAP"))
            kw = (household + sim.amps) * 3 * 230.0 / 1000.0
            quarter = quarter_floor(clock.now)
            energy[quarter] = energy.get(quarter, 0.0) + kw * 10 / 3600.0
            charged += sim.amps * 3 * 230.0 / 1000.0 * 10 / 3600.0
            clock.advance(seconds=10)
        averages = [kwh / 0.25 for kwh in energy.values()]
        assert len(averages) == 2
        assert all(average <= 5.0 + 1e-6 for average in averages), averages
        assert charged > 1.0  # and the car charged
        status = controller.limits.status(clock.now)
        assert status is not None
        assert status.target_kw == pytest.approx(5.0)  # no departure asked for more
        assert status.month_peak_kw <= 5.0 + 1e-6
