"""Departures, stated or known, and the plan made from them (re-planned on every change).

The planner (`planning.plan`) is pure; this keeps the drivers' requests, adds the departures the
site knows by itself (the car's ISO 15118 charging needs, the default departure of the car named
by the session's card), turns them into `CarDemand`s and hands the balancer `urgency_kw` and
`planned_w`. Prices (the tariff, overridden by pushed day-ahead prices: `control.prices`) go to
the planner, which uses the cheap hours whenever every car still makes its departure.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal

from ..balancing import Site
from ..central.model import EvChargingNeeds
from ..config import CarProfile
from ..domain import DepartureRequest
from ..planning import CarDemand, CarPlan, Limit, Plan, PlanInputError, demand_from_request, plan
from ..planning import urgency_kw as urgency_of
from ..planning.slots import MAX_HORIZON
from ..planning.tariff import PriceEntry
from .plan_capacity import CarShape
from .prices import PriceBook


@dataclass(frozen=True, slots=True)
class Parked:
    """A plugged car as the planner sees it."""

    soc: float | None
    shape: CarShape
    car: CarProfile  # the car named by the session's card, else the charger's usual car
    needs: EvChargingNeeds | None = None  # 2.0.1 NotifyEVChargingNeeds of this session
    session_wh: float = 0.0  # energy charged in this session so far
    default_departure: datetime | None = None  # the card's car's departure for today


class Departures:
    def __init__(
        self,
        site: Site,
        cars: Mapping[str, CarProfile],
        interval: timedelta,
        prices: PriceBook | None = None,
    ) -> None:
        self._site = site
        self.prices = prices or PriceBook()
        self._chargers = {c.id: c for c in site.chargers}
        self._cars = cars
        self._interval = interval
        self.requests: dict[str, DepartureRequest] = {}  # what drivers stated
        self.active: dict[str, DepartureRequest] = {}  # planned: stated or known by the site
        self.errors: dict[str, str] = {}
        self.plan: Plan | None = None
        self.planned_at: datetime | None = None
        self._demands: dict[str, CarDemand] = {}
        self.follows: set[str] = set()  # planned cars whose mode follows the plan

    def set(self, charger_id: str, request: DepartureRequest) -> None:
        if request.departure_at.tzinfo is None:
            raise PlanInputError(f"cars[{charger_id}].departure_at", "must be timezone-aware")
        self.requests[charger_id] = request
        self.active[charger_id] = request  # shown at once, planned at the next pass
        self.planned_at = None

    def clear(self, charger_id: str) -> None:
        if self.requests.pop(charger_id, None) is not None:
            self.active.pop(charger_id, None)
            self.planned_at = None

    def car_profile(self, charger_id: str) -> CarProfile:
        return self._cars.get(charger_id, CarProfile())

    @property
    def planning(self) -> bool:
        """Something to plan, or a plan to keep up to date."""
        return bool(self.requests or self.active or self.plan)

    def push_prices(
        self, entries: Sequence[PriceEntry] | None, now: datetime, *, replace: bool = False
    ) -> int:
        """Dynamic prices over the tariff (`PriceBook.push`; None forgets the pushed ones);
        re-plan at the next pass. Returns the number of hours pushed."""
        hours = self.prices.push(entries or [], now, replace=replace or entries is None)
        self.planned_at = None
        return hours

    def due(self, now: datetime) -> bool:
        return self.planned_at is None or now >= self.next_at(now)

    def next_at(self, now: datetime) -> datetime:
        """Re-plan every interval, and at each slot boundary (the planned power changes)."""
        if self.planned_at is None:
            return now
        boundary = None
        if self.plan is not None:
            boundary = next((s.end for s in self.plan.slots if s.end > now), None)
        later = self.planned_at + self._interval
        return min(later, boundary) if boundary is not None else later

    def replan(
        self, now: datetime, parked: Mapping[str, Parked], limits: Sequence[Limit] = ()
    ) -> None:
        """Plan the plugged cars (`parked`, those that follow a plan) that have a departure."""
        job = self.prepare(now, parked)
        self.adopt(job, job.solve(limits))

    def prepare(self, now: datetime, parked: Mapping[str, Parked]) -> PlanJob:
        """What to plan, read from the requests and the last plan (on the event loop); the
        solve (`PlanJob.solve`) is pure and may run in a worker thread."""
        errors: dict[str, str] = {}
        active: dict[str, DepartureRequest] = {}
        demands: dict[str, CarDemand] = {}
        for ident, car in parked.items():
            request = self.requests.get(ident) or known_departure(ident, car, now)
            if request is None:
                continue
            active[ident] = request
            try:
                demands[ident] = self._demand(ident, request, car)
            except PlanInputError as err:
                errors[ident] = str(err)
        # A car promised ready keeps its place ahead of the cars that were not.
        last = self.plan.cars if self.plan is not None else {}
        for ident, demand in demands.items():
            if (kept := last.get(ident)) is not None and kept.will_make_it:
                demands[ident] = replace(demand, promised=True)
        prices: Mapping[datetime, Decimal] | None = None
        if demands:
            until = max(d.departure_at for d in demands.values())
            prices = self.prices.for_plan(now, min(until, now + MAX_HORIZON))
        return PlanJob(now, active, demands, errors, prices)

    def adopt(self, job: PlanJob, solved: Plan | None) -> None:
        """Take the plan `job` was solved into (on the event loop)."""
        self.errors = dict(job.errors)
        self.active = dict(job.active)
        self._demands = dict(job.demands)
        self.plan = solved
        self.planned_at = job.now

    def car_plan(self, charger_id: str) -> CarPlan | None:
        return self.plan.cars.get(charger_id) if self.plan is not None else None

    def urgency_kw(self, charger_id: str, now: datetime) -> float:
        demand = self._demands.get(charger_id)
        if demand is None:
            return 0.0
        car = self.car_plan(charger_id)
        energy = demand.energy_needed_kwh if car is None else car.energy_needed_kwh
        return urgency_of(energy, now, demand.departure_at)

    def planned_w(self, charger_id: str, now: datetime) -> float | None:
        """The power the plan gives the car now; None when it has none, or follows none, or
        will not make its departure anyway: holding back a car that is short already only
        starves it (issue 15: paused by its plan for hours while the balancer had room), so
        it takes what the balancer gives it, first among equals by its urgency."""
        if self.plan is None or charger_id not in self.follows:
            return None
        car = self.plan.cars.get(charger_id)
        if car is None or not car.will_make_it:
            return None
        return self.plan.power_w_at(charger_id, now)

    def waits_for_price(self, charger_id: str, now: datetime) -> bool:
        """The plan (as `planned_w` gives it) holds the car back for cheaper hours."""
        if self.planned_w(charger_id, now) is None:
            return False
        assert self.plan is not None
        return self.plan.waits_for_price(charger_id, now)

    def _demand(self, ident: str, request: DepartureRequest, car: Parked) -> CarDemand:
        charger = self._chargers[ident]
        profile = car.car
        max_kw = car.shape.max_kw
        needs = car.needs
        if needs is not None and needs.max_current_a is not None:
            n = len(car.shape.grid_phases)
            max_kw = min(max_kw, needs.max_current_a * n * self._site.voltage_v / 1000.0)
        request = replace(request, charge_point_id=ident)  # the plan is keyed by charger
        if request.soc_now is None and car.soc is None and needs is not None and needs.energy_wh:
            # The car said how much energy it wants (ISO 15118): plan that, less what it got.
            left_kwh = max(0.0, needs.energy_wh - car.session_wh) / 1000.0
            full = 100.0 if left_kwh > 0 else 0.0
            demand = CarDemand(
                ident, request.departure_at, max(left_kwh, 0.001), 0.0, max_kw, full, 1.0
            )
            demand = replace(demand, priority=charger.priority, loads=car.shape.loads)
            demand.validate()
            return demand
        demand = demand_from_request(
            request,
            max_power_kw=max_kw,
            battery_kwh=profile.battery_kwh,
            soc_now=car.soc,
            efficiency=profile.efficiency,
            priority=charger.priority,
        )
        return replace(demand, loads=car.shape.loads)


@dataclass(frozen=True, slots=True)
class PlanJob:
    """One re-plan's inputs, taken on the event loop: `solve` touches nothing shared."""

    now: datetime
    active: Mapping[str, DepartureRequest]
    demands: Mapping[str, CarDemand]
    errors: Mapping[str, str]
    prices: Mapping[datetime, Decimal] | None

    def solve(self, limits: Sequence[Limit] = ()) -> Plan | None:
        if not self.demands:
            return None
        return plan(list(self.demands.values()), self.now, math.inf, self.prices, limits=limits)


def known_departure(ident: str, car: Parked, now: datetime) -> DepartureRequest | None:
    """A departure nobody stated: the car's own (ISO 15118), else its card's default."""
    target = car.car.target_soc if car.car.target_soc is not None else 100.0
    needs = car.needs
    if needs is not None and needs.departure_at is not None and needs.departure_at > now:
        return DepartureRequest(ident, needs.departure_at, target_soc=target)
    if car.default_departure is not None and car.default_departure > now:
        return DepartureRequest(ident, car.default_departure, target_soc=target)
    return None
