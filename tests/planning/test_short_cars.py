"""A car its plan says will not make its departure is not held back by the plan (issue 15's
building: such cars sat at 0 W planned for hours while the balancer had room): it takes what
the balancer gives it; a car that makes it follows its plan."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from custom_components.eflux.core.balancing import Charger, Circuit, Site, per_phase
from custom_components.eflux.core.config import CarProfile
from custom_components.eflux.core.domain import DepartureRequest
from custom_components.eflux.core.loadcontrol.departures import Departures, Parked
from custom_components.eflux.core.loadcontrol.plan_capacity import car_shape, plan_limits

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def test_a_car_short_of_its_departure_takes_the_balancers_share() -> None:
    site = Site(
        circuits=(Circuit("grid", per_phase(25.0), metered=True),),
        chargers=(Charger("short", "grid"), Charger("easy", "grid")),
    )
    departures = Departures(site, {}, timedelta(minutes=15))
    parked = {
        c.id: Parked(50.0, car_shape(site, c, 3, None, 16.0, None), CarProfile())
        for c in site.chargers
    }
    # 63 kWh in one hour cannot be had at 16 A; 5 kWh in 8 hours can.
    departures.set("short", DepartureRequest("short", NOW + timedelta(hours=1), 10.0, 100.0, 70.0))
    departures.set("easy", DepartureRequest("easy", NOW + timedelta(hours=8), 50.0, 60.0, 50.0))
    departures.follows = {"short", "easy"}
    limits = plan_limits(site, lambda circuit, q: (5.0, 5.0, 5.0), 33, {})
    departures.replan(NOW, parked, limits)
    short, easy = departures.car_plan("short"), departures.car_plan("easy")
    assert short is not None
    assert easy is not None
    assert not short.will_make_it
    assert easy.will_make_it
    assert departures.planned_w("short", NOW) is None  # the balancer decides, by urgency
    assert departures.urgency_kw("short", NOW) > 0
    assert departures.planned_w("easy", NOW) is not None  # it follows its plan
