"""`LocalSite` passes the controller's warnings on (the HA layer's repair issues hang on it):
a real site on a fake clock, an external grid meter and a simulated car 3 A over its limit."""

from __future__ import annotations

from pathlib import Path

from custom_components.eflux.core.config import parse_site_config
from custom_components.eflux.core.meters.reading import MeterReading
from custom_components.eflux.core.runtime import ControlWarning, LocalSite
from sim.chargepoint import Car
from tests.central.support import FakeClock, eventually, sims_against

from .test_protection import sampled


async def test_the_site_passes_the_overdraw_warning_on(tmp_path: Path) -> None:
    clock = FakeClock()
    config = parse_site_config(
        {
            "central": {"host": "127.0.0.1", "port": 0, "free_charging": True},
            # No ramp: the car is offered its 16 A at once (a ramp starts it at 6 A).
            "site": {"tuning": {"ramp_step_a": "none", "hysteresis_a": 0}},
            "circuits": [{"id": "grid", "limit_a": 25}],
            "meters": [{"name": "p1", "circuit": "grid", "kind": "external", "timeout": 600}],
            "chargers": [{"id": "greedy", "circuit": "grid", "charge_point": "GREEDY"}],
            "controller": {"overdraw_grace_s": 0},
            "api": {"enabled": False},
        },
        base_dir=tmp_path,
    )
    site = LocalSite(config, clock=clock)
    heard: list[ControlWarning] = []
    site.add_warning_listener(heard.append)
    meter = site.external_meter("p1")

    def reading(amps: float) -> None:
        meter.push(MeterReading("p1", clock.now, current_a=(amps, amps, amps)))

    await site.start()
    try:
        async with sims_against(site.central, clock) as start:
            sim = await start("GREEDY", car=Car(overdraw_a=3.0))
            reading(2.0)
            await sim.plug_in("CARD")
            await eventually(lambda: sim.amps == 19.0)  # offered 16 A, draws 3 A more
            clock.advance(seconds=6)  # a sample the car had time to follow its limit by
            await sampled(site.central, sim)
            reading(2.0 + 19.0)
            await eventually(lambda: bool(heard))
            assert [(w.charger_id, w.active) for w in heard] == [("greedy", True)]
            assert site.state().overdrawing == ("greedy",)
            assert site.state().as_dict()["overdrawing"] == ["greedy"]
    finally:
        await site.stop()
