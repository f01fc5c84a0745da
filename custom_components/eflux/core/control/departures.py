"""Departures stated by drivers, and the plan made from them (re-planned on every change).

The planner (`planning.plan`) is pure; this keeps the requests, turns them into `CarDemand`s with
the car profile and the measured SoC, and hands the balancer `urgency_kw` and `planned_w`.
Prices (the tariff, overridden by pushed day-ahead prices: `control.prices`) go to the planner,
which uses the cheap hours whenever every car still makes its departure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from ..balancing import Site
from ..config import CarProfile
from ..domain import DepartureRequest
from ..planning import CarDemand, CarPlan, Plan, PlanInputError, demand_from_request, plan
from ..planning import urgency_kw as urgency_of
from ..planning.slots import MAX_HORIZON
from ..planning.tariff import PriceEntry
from .prices import PriceBook


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
        self.requests: dict[str, DepartureRequest] = {}
        self.errors: dict[str, str] = {}
        self.plan: Plan | None = None
        self.planned_at: datetime | None = None
        self._demands: dict[str, CarDemand] = {}

    def set(self, charger_id: str, request: DepartureRequest) -> None:
        if request.departure_at.tzinfo is None:
            raise PlanInputError(f"cars[{charger_id}].departure_at", "must be timezone-aware")
        self.requests[charger_id] = request
        self.planned_at = None  # re-plan at the next pass

    def clear(self, charger_id: str) -> None:
        if self.requests.pop(charger_id, None) is not None:
            self.planned_at = None

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

    def replan(self, now: datetime, socs: Mapping[str, float | None], capacity_kw: float) -> None:
        """Plan the plugged cars that have a departure; `socs` are the plugged chargers."""
        self.errors.clear()
        demands: dict[str, CarDemand] = {}
        for ident, request in self.requests.items():
            if ident not in socs:
                continue
            try:
                demands[ident] = self._demand(ident, request, socs[ident])
            except PlanInputError as err:
                self.errors[ident] = str(err)
        self._demands = demands
        self.plan = None
        if demands:
            until = max(d.departure_at for d in demands.values())
            prices = self.prices.for_plan(now, min(until, now + MAX_HORIZON))
            self.plan = plan(list(demands.values()), now, max(0.0, capacity_kw), prices)
        self.planned_at = now

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
        if self.plan is None or charger_id not in self.plan.cars:
            return None
        return self.plan.power_w_at(charger_id, now)

    def _demand(self, ident: str, request: DepartureRequest, soc: float | None) -> CarDemand:
        charger = self._chargers[ident]
        car = self._cars.get(ident, CarProfile())
        wired_kw = charger.max_current_a * len(charger.wiring) * self._site.voltage_v / 1000.0
        max_kw = min(car.max_power_kw, wired_kw) if car.max_power_kw is not None else wired_kw
        return demand_from_request(
            replace(request, charge_point_id=ident),  # the plan is keyed by balanced charger
            max_power_kw=max_kw,
            battery_kwh=car.battery_kwh,
            soc_now=soc,
            efficiency=car.efficiency,
            priority=charger.priority,
        )
