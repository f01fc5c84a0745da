"""The chargers' own meter values reach the balancer, for the shapes real chargers send.

The grid meter reads the house plus the cars (`meter_includes_chargers`); the controller must
subtract each car's measured draw on the grid phase it is wired to. The car draws less than its
limit here (its own maximum is 10 A), so a household computed from the limit instead of the
measurement would show.
"""

from __future__ import annotations

import asyncio

import pytest

from custom_components.eflux.core.balancing import Charger, Circuit, Phase, Site, per_phase
from custom_components.eflux.core.central import CentralSystem
from custom_components.eflux.core.loadcontrol.controller import Controller
from sim.chargepoint import Car, SimBehaviour, SimChargePoint
from tests.central.support import FakeClock, eventually

from .conftest import SimFactory
from .support import DIRECT
from .test_protection import running, sent

HOUSE = 2.0
CAR_A = 10.0


def site(ident: str, wiring: tuple[Phase, ...]) -> Site:
    return Site(
        circuits=(Circuit("grid", per_phase(25.0), metered=True),),
        chargers=(Charger(ident, "grid", wiring=wiring),),
        tuning=DIRECT,
    )


async def charging_and_sampled(
    controller: Controller,
    central: CentralSystem,
    sim: SimChargePoint,
    ident: str,
    clock: FakeClock,
) -> None:
    """Plug in, wait for a limit, then let the charger send a sample with Current.Import."""
    key = (
        "MeterValuesSampledData" if sim.version == "1.6" else "SampledDataCtrlr.TxUpdatedMeasurands"
    )
    await eventually(lambda: "Current.Import" in (sim.configuration.get(key) or ""))
    controller.meter_reading("grid", (HOUSE, HOUSE, HOUSE))
    await sim.plug_in("CARD")
    await eventually(lambda: sent(controller, ident) == 16.0)  # its TxProfile, 25 - 2 > 16

    def measured() -> float | None:
        connector = central.charge_points()[sim.id].connectors.get(1)
        return connector.meter.current_a.max() if connector and connector.meter else None

    for _ in range(100):  # until a sample taken under the new limit has arrived
        clock.advance(seconds=6)  # after the car had time to follow it (tuning.follow_time)
        # the meter keeps reading (a silent one would lower the car to its safe limit, and the
        # sample would then predate that decrease)
        controller.meter_reading("grid", (HOUSE, HOUSE, HOUSE + CAR_A))
        await sim.sample_now()
        if measured() == CAR_A:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"the charger measured {measured()}, not {CAR_A} A")


@pytest.mark.parametrize(
    "labels",
    [None, ("L3",)],
    ids=["its-own-L1", "the-grid-L3"],
)
async def test_a_one_phase_charger_on_l3_is_measured_on_l3(
    central: CentralSystem,
    make_sim: SimFactory,
    clock: FakeClock,
    labels: tuple[str, ...] | None,
) -> None:
    """A 1-phase 1.6 charger wired on L3: some call their phase L1 (their own numbering),
    others L3 (where their meter sits). Either way the draw is on the grid's L3."""
    sim = await make_sim(
        "CARPORT",
        car=Car(max_current_a=CAR_A, phases=1),
        behaviour=SimBehaviour(phase_labels=labels),
    )
    async with running(central, site("CARPORT", (Phase.L3,)), clock) as controller:
        await charging_and_sampled(controller, central, sim, "CARPORT", clock)
        controller.meter_reading("grid", (HOUSE, HOUSE, HOUSE + CAR_A))
        result = controller.result
        assert result is not None
        assert result.site.household_a == pytest.approx((HOUSE, HOUSE, HOUSE))
        assert not any("no measured current" in w for w in result.site.warnings)


async def test_an_ocpp_201_charger_is_measured_per_phase(
    central: CentralSystem, make_sim: SimFactory, clock: FakeClock
) -> None:
    sim = await make_sim("DRIVEWAY", "2.0.1", car=Car(max_current_a=CAR_A))
    async with running(
        central, site("DRIVEWAY", (Phase.L1, Phase.L2, Phase.L3)), clock
    ) as controller:
        await charging_and_sampled(controller, central, sim, "DRIVEWAY", clock)
        controller.meter_reading("grid", (HOUSE + CAR_A,) * 3)
        result = controller.result
        assert result is not None
        assert result.site.household_a == pytest.approx((HOUSE, HOUSE, HOUSE))
        assert not any("no measured current" in w for w in result.site.warnings)
