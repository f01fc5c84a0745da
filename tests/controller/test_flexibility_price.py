"""The flexibility price of a stay, on a simulated charger: from the plug-in to the departure the
driver states, for the energy delivered plus planned, with the charge point's discount."""

from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from types import MappingProxyType

from custom_components.eflux.core.balancing import Mode
from custom_components.eflux.core.central import CentralSystem, Transaction
from custom_components.eflux.core.config import ChargerBinding, ControllerSettings
from custom_components.eflux.core.domain import DepartureRequest
from custom_components.eflux.core.loadcontrol.controller import Controller
from custom_components.eflux.core.loadcontrol.flex_price import FlexibilityPrice
from custom_components.eflux.core.loadcontrol.snapshot import charger_dict
from custom_components.eflux.core.loadcontrol.view import charger_snapshot
from custom_components.eflux.core.planning import FlexDiscount, FlexibilityTariff
from sim.chargepoint import Car, SimChargePoint
from tests.central.support import FakeClock, SimFactory, eventually

from .support import garage_site
from .test_prices import planned
from .test_protection import running

TARIFF = FlexibilityTariff(
    price_per_kwh=Decimal("0.30"),
    price_per_hour=Decimal("0.50"),
    discounts=(
        FlexDiscount(timedelta(hours=4), Decimal(10)),
        FlexDiscount(timedelta(hours=8), Decimal(25)),
    ),
)
SETTINGS = ControllerSettings(tick_s=0.02, flexibility=MappingProxyType({"FLEX": TARIFF}))


def flex(controller: Controller, central: CentralSystem, ident: str) -> FlexibilityPrice | None:
    return charger_snapshot(controller, ident, central.charge_points()).flexibility


def session(central: CentralSystem, ident: str) -> Transaction:
    connector = central.charge_points()[ident].connectors[1]
    assert connector.transaction is not None
    return connector.transaction


async def plugged(central: CentralSystem, sim: SimChargePoint, ident: str) -> Transaction:
    await sim.plug_in("CARD")
    await eventually(lambda: central.charge_points()[ident].connectors.get(1) is not None)
    await eventually(lambda: central.charge_points()[ident].connectors[1].transaction is not None)
    return session(central, ident)


async def test_a_long_stay_is_priced_with_its_discount_and_a_shorter_one_without(
    central: CentralSystem, make_sim: SimFactory, clock: FakeClock
) -> None:
    sim = await make_sim("FLEX", car=Car(soc=50.0))
    async with running(central, garage_site("FLEX"), clock, settings=SETTINGS) as controller:
        controller.meter_reading("grid", (0.0, 0.0, 0.0))
        controller.set_mode("FLEX", Mode.SMART)
        tx = await plugged(central, sim, "FLEX")
        clock.advance(minutes=30)  # the stay counts from the plug-in, not from the statement
        departure = tx.started_at + timedelta(hours=8, minutes=30)
        request = DepartureRequest("FLEX", departure, target_soc=80.0, battery_kwh=60.0)
        controller.set_departure(request)
        assert (await planned(controller, sim, "FLEX")).will_make_it
        price, car = flex(controller, central, "FLEX"), controller.car_plan("FLEX")
        assert price is not None
        assert car is not None
        # What the half hour already delivered plus what the plan still gives the car: about
        # 60 kWh from 50 to 80 % (20 kWh at the planner's 90 %; the simulated car is at 92 %).
        delivered = session(central, "FLEX").energy_wh / 1000
        assert delivered > 1.0
        energy = Decimal(repr(delivered + car.energy_planned_kwh)).quantize(Decimal("0.001"))
        assert price.energy_kwh == energy
        assert Decimal("19.5") < energy <= Decimal(20)
        assert (price.since, price.departure_at) == (tx.started_at, departure)
        assert price.stay_h == Decimal("8.50")
        assert price.percent_off == Decimal(25)
        assert price.price_per_kwh == Decimal("0.225")
        assert price.price_per_hour == Decimal("0.375")
        # (energy x 0.30 + 8.5 h x 0.50) x 0.75, whole cents half up.
        exact = (price.energy_kwh * Decimal("0.30") + Decimal("4.25")) * Decimal("0.75")
        assert price.total == exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        assert Decimal("7.57") < price.total <= Decimal("7.69")  # 20 kWh: 7.6875
        # JSON for the app: decimal strings, never floats.
        shown = charger_dict(charger_snapshot(controller, "FLEX", central.charge_points()))
        assert shown["flexibility"]["percent_off"] == "25"
        assert shown["flexibility"]["total"] == str(price.total)
        assert shown["flexibility"]["since"] == tx.started_at.isoformat()
        # Leaving after 3 h: no discount step reached, and the hours cost the full price.
        controller.set_departure(
            DepartureRequest("FLEX", tx.started_at + timedelta(hours=3), battery_kwh=60.0)
        )
        await eventually(
            lambda: (p := flex(controller, central, "FLEX")) is not None and p.stay_h == 3
        )
        shorter = flex(controller, central, "FLEX")
        assert shorter is not None
        assert (shorter.percent_off, shorter.price_per_kwh) == (Decimal(0), Decimal("0.30"))
        assert str(shorter.price_per_kwh) == "0.30"  # money shows two decimals at least
        # Without a departure there is nothing to price.
        controller.clear_departure("FLEX")
        assert flex(controller, central, "FLEX") is None


async def test_before_the_car_is_planned_the_discount_shows_but_no_total(
    central: CentralSystem, make_sim: SimFactory, clock: FakeClock
) -> None:
    sim = await make_sim("FLEX", car=Car(soc=50.0))
    async with running(central, garage_site("FLEX"), clock, settings=SETTINGS) as controller:
        controller.meter_reading("grid", (0.0, 0.0, 0.0))
        # A departure before the plug-in: no session, no stay to price yet.
        controller.set_departure(DepartureRequest("FLEX", clock.now + timedelta(hours=5)))
        assert flex(controller, central, "FLEX") is None
        tx = await plugged(central, sim, "FLEX")
        # No battery size stated or configured: the planner cannot plan this car.
        await eventually(lambda: "FLEX" in controller.departures.errors)
        assert "battery_kwh" in controller.departures.errors["FLEX"]
        price = flex(controller, central, "FLEX")
        assert price is not None
        assert price.percent_off == Decimal(10)
        assert price.since == tx.started_at
        assert (price.energy_kwh, price.total) == (None, None)


async def test_a_charger_without_a_flexibility_tariff_has_no_price(
    central: CentralSystem, make_sim: SimFactory, clock: FakeClock
) -> None:
    sims = [await make_sim(ident, car=Car(soc=50.0)) for ident in ("FLEX", "PLAIN")]
    site = garage_site("FLEX", "PLAIN", fuse_a=40.0)
    bindings = {i: ChargerBinding(i) for i in ("FLEX", "PLAIN")}
    async with running(central, site, clock, settings=SETTINGS, bindings=bindings) as controller:
        controller.meter_reading("grid", (0.0, 0.0, 0.0))
        for sim, ident in zip(sims, ("FLEX", "PLAIN"), strict=True):
            tx = await plugged(central, sim, ident)
            later = tx.started_at + timedelta(hours=9)
            controller.set_departure(DepartureRequest(ident, later, battery_kwh=60.0))
        await planned(controller, sims[1], "PLAIN")
        assert flex(controller, central, "PLAIN") is None
        price = flex(controller, central, "FLEX")
        assert price is not None
        assert price.percent_off == Decimal(25)
