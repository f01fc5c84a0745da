"""Issue 15 through the controller, with simulated chargers over real websockets on a fake
clock: no raise-then-revert with realistic sample timing, a car that ignores its limit, and the
balancer settings from site.yaml's `controller:` section."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from custom_components.eflux.core.balancing import Charger, Circuit, Site, Tuning, per_phase
from custom_components.eflux.core.central import CentralSystem
from custom_components.eflux.core.config import ConfigError, ControllerSettings, load_site_config
from custom_components.eflux.core.loadcontrol.controller import Controller
from custom_components.eflux.core.loadcontrol.view import build_snapshot
from custom_components.eflux.core.loadcontrol.warnings import OVERDRAW, ControlWarning
from sim.chargepoint import Car, SimChargePoint
from tests.central.support import FakeClock, SimFactory, eventually
from tests.runner.test_config import GOOD, changed, write

from .support import DIRECT, dynamic_limits
from .test_protection import running, sampled, sent

# The grid meter reads often, but the tests skip the readings between samples.
QUIET: dict[str, Any] = {
    "settings": ControllerSettings(tick_s=0.02),
    "meter_timeouts": {"grid": 60.0},
}


def two_cars(fuse_a: float, tuning: Tuning = DIRECT) -> Site:
    return Site(
        circuits=(Circuit("grid", per_phase(fuse_a), metered=True),),
        chargers=(Charger("A", "grid"), Charger("B", "grid")),
        tuning=tuning,
    )


def grid(house: float, *sims: SimChargePoint) -> tuple[float, float, float]:
    """What a fast grid meter reads: the house plus what the cars draw right now."""
    amps = house + sum(sim.amps for sim in sims)
    return (amps, amps, amps)


async def samples(clock: FakeClock, central: CentralSystem, *sims: SimChargePoint) -> None:
    """The chargers' next MeterValues, taken after their cars had time to follow the limit."""
    clock.advance(seconds=6)
    for sim in sims:
        await sampled(central, sim)


async def test_a_raise_is_not_taken_back_when_the_meter_sees_it_before_the_samples(
    central: CentralSystem, make_sim: SimFactory, clock: FakeClock
) -> None:
    """Field: one pass raised several chargers and the next, 0.1-0.3 s later, took it back
    (6.6 -> 12.6 -> 6.6 A): the grid meter (every 0.2 s here) already saw the cars at their new
    limit while their own samples (every 10 s) still showed the old draw, so the house seemed
    bigger by the raise."""
    a, b = await make_sim("A"), await make_sim("B")
    async with running(central, two_cars(40.0), clock, **QUIET) as controller:
        controller.meter_reading("grid", (16.0, 16.0, 16.0))
        await a.plug_in("CARD")
        await b.plug_in("CARD")
        await eventually(lambda: sent(controller, "A") == sent(controller, "B") == 12.0)
        await eventually(lambda: a.amps == b.amps == 12.0)
        await samples(clock, central, a, b)
        controller.meter_reading("grid", grid(16.0, a, b))
        clock.advance(seconds=31)  # past the minimum interval between increases
        # The house drops by 10 A: both are raised to their maximum and follow at once.
        controller.meter_reading("grid", grid(6.0, a, b))
        await eventually(lambda: sent(controller, "A") == sent(controller, "B") == 16.0)
        await eventually(lambda: a.amps == b.amps == 16.0)
        before = [len(dynamic_limits(sim)) for sim in (a, b)]
        for _ in range(25):  # five seconds of grid readings before the next samples
            clock.advance(seconds=0.2)
            controller.meter_reading("grid", grid(6.0, a, b))
            await asyncio.sleep(0)
        await samples(clock, central, a, b)
        controller.meter_reading("grid", grid(6.0, a, b))
        await asyncio.sleep(0.2)
        assert [dynamic_limits(sim)[n:] for sim, n in zip((a, b), before, strict=True)] == [[], []]
        assert controller.result is not None
        assert controller.result.site.household_a == (6.0, 6.0, 6.0)
        # Protection still holds while samples lag: the oven goes on, both are lowered at once.
        controller.meter_reading("grid", grid(20.0, a, b))
        await eventually(lambda: sent(controller, "A") == sent(controller, "B") == 10.0)


async def test_a_car_that_ignores_its_limit_is_warned_about_counted_and_paused(
    central: CentralSystem, make_sim: SimFactory, clock: FakeClock
) -> None:
    honest = await make_sim("A")
    greedy = await make_sim("B", car=Car(overdraw_a=2.0))  # always 2 A above what it is offered
    site = two_cars(25.0, Tuning(ramp_step_a=None, hysteresis_a=0.0))
    async with running(central, site, clock, **QUIET) as controller:
        heard: list[ControlWarning] = []
        controller.add_warning_listener(heard.append)
        controller.meter_reading("grid", (2.0, 2.0, 2.0))
        await honest.plug_in("CARD")
        await greedy.plug_in("CARD")
        await eventually(lambda: sent(controller, "A") == sent(controller, "B") == 11.5)
        await eventually(lambda: greedy.amps == 13.5)
        named_after = 0  # samples until B is named (a car 2 A over its limit, every 6 s)
        while named_after < 15:
            named_after += 1
            await samples(clock, central, honest, greedy)
            controller.meter_reading("grid", grid(2.0, honest, greedy))
            assert controller.result is not None
            if controller.result.site.overdrawing:
                break
        # named once it has gone on for the grace (30 s: the 6th sample at the earliest)
        assert 6 <= named_after <= 7, named_after
        assert controller.result.site.overdrawing == ("B",)
        assert [(w.charger_id, w.kind, w.active) for w in heard] == [("B", OVERDRAW, True)]
        snapshot = build_snapshot(controller, central.charge_points(), {}, clock.now)
        assert snapshot.overdrawing == ("B",)
        assert any("B draws above its limit" in w for w in snapshot.warnings)
        assert snapshot.as_dict()["overdrawing"] == ["B"]
        # B's 2 A above its limit count from its first sample on, shared as before (both were
        # lowered meanwhile). Named, B keeps its limit (never raised: it draws 2 A over it) and
        # the honest car makes room for what B really draws: 25 - 2 (house) - B's draw.
        for _ in range(2):  # a raise of A waits for the samples after the last change
            await samples(clock, central, honest, greedy)
            controller.meter_reading("grid", grid(2.0, honest, greedy))
        await eventually(lambda: greedy.amps == sent(controller, "B") + 2.0)
        await eventually(lambda: sent(controller, "A") == 25.0 - 2.0 - greedy.amps)
        assert sent(controller, "B") <= 11.5
        for _ in range(15):  # it goes on for two minutes: B is paused (and stops drawing)
            await samples(clock, central, honest, greedy)
            controller.meter_reading("grid", grid(2.0, honest, greedy))
        await eventually(lambda: sent(controller, "B") == 0.0)
        await eventually(lambda: greedy.amps == 0.0)
        await samples(clock, central, honest, greedy)
        controller.meter_reading("grid", grid(2.0, honest, greedy))
        assert [(w.charger_id, w.active) for w in heard] == [("B", True), ("B", False)]
        assert not controller.result.site.overdrawing


async def test_the_settings_of_the_controller_section_reach_the_balancer(
    central: CentralSystem, clock: FakeClock
) -> None:
    settings = ControllerSettings(
        overdraw_tolerance_a=0.5,
        overdraw_grace=timedelta(seconds=10),
        overdraw_pause_after=timedelta(minutes=5),
        meter_loss_window=timedelta(minutes=30),
    )
    controller = Controller(central, two_cars(25.0), settings=settings, clock=clock)
    tuning = controller.site.tuning
    assert (tuning.overdraw_tolerance_a, tuning.overdraw_grace) == (0.5, timedelta(seconds=10))
    assert tuning.overdraw_pause_after == timedelta(minutes=5)
    assert tuning.meter_loss_window == timedelta(minutes=30)
    assert tuning.hysteresis_a == DIRECT.hysteresis_a  # the rest as the site says
    untouched = Controller(central, two_cars(25.0), clock=clock)
    assert untouched.site.tuning == DIRECT


def test_site_yaml_controller_section_sets_them_and_refuses_nonsense(tmp_path: Path) -> None:
    section = {
        "overdraw_tolerance_a": 1.5,
        "overdraw_grace_s": 20,
        "overdraw_pause_after_s": 300,
        "meter_loss_window_s": 1800,
    }
    controller = load_site_config(write(tmp_path, changed("controller", section))).controller
    assert controller.overdraw_tolerance_a == 1.5
    assert controller.overdraw_grace == timedelta(seconds=20)
    assert controller.overdraw_pause_after == timedelta(minutes=5)
    assert controller.meter_loss_window == timedelta(minutes=30)
    assert load_site_config(write(tmp_path, GOOD)).controller.overdraw_grace is None
    for key, value in (("overdraw_grace_s", -1), ("overdraw_tolerance_a", "lots")):
        with pytest.raises(ConfigError) as caught:
            load_site_config(write(tmp_path, changed("controller", {key: value})))
        assert caught.value.key == f"controller.{key}"
