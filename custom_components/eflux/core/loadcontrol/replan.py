"""The controller's side of the departure planner: when it plans, with which cars, capacity and
prices, and what the plan changes in the balancer's inputs.

`Departures` keeps the drivers' requests and the plan; this wires it to the running site: the
cars plugged in (their SoC, the car their card names, their ISO 15118 needs), the capacity per
circuit, phase and quarter-hour after the household forecast (`plan_capacity`,
`HouseholdHistory`), and the promises made (`promises`). Every change here only marks the plan
as due, with its reason; the controller re-plans at its next pass.

Every plugged car with a departure is planned (its promise is shown whatever its mode); the
ones in `smart`, and in `dynamic` with a departure, follow the plan (the balancer gets them as
`smart`: the plan caps them, protection can only lower that). Cars without a departure keep
what the balancer gives them, and the planner counts that as taken.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from ..balancing import BalanceResult, ChargerInput, Mode, PhaseAmps, Site
from ..central import CentralSystem, ConnectorState
from ..config import CardProfile, CarProfile, ChargerBinding, PlannerSettings
from ..planning import Limit, Plan
from ..planning.slots import MAX_HORIZON, SLOT, quarter_floor
from ..planning.tariff import PriceEntry
from .capacity_tariff import CapacityTariffMeter
from .departures import Departures, Parked, PlanJob, known_departure
from .household_history import HouseholdHistory
from .inputs import connector_of, measured_soc, with_plan
from .plan_capacity import car_shape, plan_limits, reserved_amps
from .prices import HourPrice
from .promises import PlanEvents

FOLLOWS_PLAN = (Mode.SMART, Mode.DYNAMIC)
SOC_STEP = 2.0  # percentage points of SoC that make a re-plan


class Replanner:
    def __init__(
        self,
        central: CentralSystem,
        site: Site,
        bindings: Mapping[str, ChargerBinding],
        departures: Departures,
        *,
        mode_of: Callable[[str], Mode | None],
        cap_of: Callable[[str], float | None],
        history: HouseholdHistory,
        settings: PlannerSettings,
        cards: Mapping[str, CardProfile],
        events: PlanEvents,
        tariff: CapacityTariffMeter | None = None,
    ) -> None:
        self.departures = departures
        self.history = history
        self.events = events
        self.cards: dict[str, CardProfile] = dict(cards)
        self._central = central
        self.site = site
        self._bindings = bindings
        self._mode_of = mode_of  # the user's setting (None: the site's default)
        self._cap_of = cap_of
        self._settings = settings
        self._zone = ZoneInfo(settings.timezone or "UTC")
        self._planned_soc: dict[str, float | None] = {}
        self._reasons: set[str] = set()
        self._expected: dict[str, PhaseAmps] = {}  # household planned for the current quarter
        self.tariff = tariff
        self.marks = 0  # changes marked so far: one during a solve makes its plan stale

    def set_card(self, profile: CardProfile, *, remove: bool = False) -> bool:
        """A card's driver and car (from the API or the cloud); sessions plan with it."""
        if remove:
            existed = self.cards.pop(profile.id_tag, None) is not None
        else:
            existed = self.cards.get(profile.id_tag) is not None
            self.cards[profile.id_tag] = profile
        self.mark("card_changed")
        return existed

    def set_site(self, site: Site, reason: str) -> None:
        """The circuits' limits changed while running (an override, its expiry)."""
        self.site = site
        self.mark(reason)

    def mark(self, reason: str) -> None:
        """Something material changed: re-plan at the next pass and say why."""
        self._reasons.add(reason)
        self.marks += 1
        self.departures.planned_at = None

    def due(self, now: datetime) -> bool:
        """A plan is owed (something changed, or its interval or slot is over)."""
        return self.departures.due(now) and (self.departures.planning or self._has_cars())

    def _has_cars(self) -> bool:
        return bool(self.cards) or any(
            c.ev_needs is not None for c in self._central_connectors().values()
        )

    def observe(self, household: Mapping[str, PhaseAmps], now: datetime) -> None:
        """The household load the last pass saw per metered circuit: recorded, and a
        re-plan when it is above what the plan counted on (forecast plus margin)."""
        self.history.observe(household, now)
        if self.departures.plan is None or not self.departures.plan.cars:
            return
        for circuit, amps in household.items():
            expected = self._expected.get(circuit)
            above = expected is not None and any(
                a > e + 1e-6 for a, e in zip(amps, expected, strict=True)
            )
            if above:
                self._expected.pop(circuit)  # once per surprise; the re-plan sets it anew
                self.mark("household_above_forecast")

    def replan(
        self,
        now: datetime,
        inputs: MutableMapping[str, ChargerInput],
        result: BalanceResult | None,
    ) -> None:
        """Plan the plugged cars and give every charger's input its urgency and planned power
        (all at once; the controller splits it: `prepare` and `finish` on the event loop, the
        solve of a `ReplanJob` in a worker thread, so a meter reading never waits for it)."""
        job = self.prepare(now, inputs, result)
        self.finish(job, job.solve(), inputs)

    def prepare(
        self, now: datetime, inputs: Mapping[str, ChargerInput], result: BalanceResult | None
    ) -> ReplanJob:
        """Everything a re-plan reads, taken now (cars, forecast, capacity, prices)."""
        parked: dict[str, Parked] = {}
        follows: set[str] = set()
        for ident, inp in inputs.items():
            if (
                not inp.plugged
                or (mode := self._mode_of(ident) or self.site.default_mode) is Mode.OFF
            ):
                continue
            parked[ident] = self._parked(ident, now, result)
            if mode in FOLLOWS_PLAN:
                follows.add(ident)
        # What the cars without a departure were given is taken; planned cars are in the plan.
        others = [
            i for i in inputs if i not in parked or not self._has_departure(i, parked[i], now)
        ]
        forecast = _taken(self._forecast(now))
        quarters = self._quarters(now, parked)
        reserved = reserved_amps(self.site, result, others)
        site = self.site
        plan_limits(site, forecast, quarters, reserved)  # reads the forecast once, here
        tariff = self.tariff
        target = None
        if tariff is not None:
            circuit = next(c for c in site.circuits if c.id == tariff.circuit)
            high = sum(circuit.limit_a) * site.voltage_v / 1000.0
            target = (tariff.circuit, tariff.target_kw, high)
        self.departures.follows = follows
        job = self.departures.prepare(now, parked)
        reasons, self._reasons = self._reasons, set()  # this plan's; later ones: the next
        return ReplanJob(
            job,
            lambda s: plan_limits(s, forecast, quarters, reserved),
            site,
            target,
            sum(1 for r in job.active.values() if r.departure_at > now),
            self.marks,
            frozenset(reasons),
        )

    def finish(
        self,
        job: ReplanJob,
        solved: tuple[Plan | None, float | None],
        inputs: MutableMapping[str, ChargerInput],
    ) -> None:
        """Take the plan `job` solved into, say what changed, give the inputs their plan."""
        now = job.departures.now
        plan, raised_kw = solved
        self.departures.adopt(job.departures, plan)
        if self.marks != job.marks:  # something changed while it was solved: plan again
            self.departures.planned_at = None
        reasons = set(job.reasons)
        if raised_kw is not None and self.tariff is not None:
            self.tariff.raise_to(raised_kw)
            reasons.add("capacity_target_raised")
        self.events.compare(
            plan.cars if plan is not None else {},
            {i: r.departure_at for i, r in self.departures.active.items()},
            reasons,
            now,
        )
        for ident, inp in list(inputs.items()):
            inputs[ident] = with_plan(
                inp,
                self.departures.urgency_kw(ident, now),
                self.departures.planned_w(ident, now),
                self._mode_of(ident),
                waits_for_price=self.departures.waits_for_price(ident, now),
            )

    def _has_departure(self, ident: str, car: Parked, now: datetime) -> bool:
        return ident in self.departures.requests or known_departure(ident, car, now) is not None

    def _parked(self, ident: str, now: datetime, result: BalanceResult | None) -> Parked:
        connector = self._connector(ident)
        tx = connector.transaction if connector is not None else None
        card = self.cards.get(tx.id_tag) if tx is not None and tx.id_tag else None
        car = card.car if card is not None and card.car is not None else None
        car = car or self.departures.car_profile(ident)
        charger = next(c for c in self.site.chargers if c.id == ident)
        state = result.state.chargers.get(ident) if result is not None else None
        cap = self._cap_of(ident)
        amps = charger.max_current_a if cap is None else min(cap, charger.max_current_a)
        shape = car_shape(
            self.site,
            charger,
            car.phases,
            state.car_phases if state is not None else None,
            amps,
            car.max_power_kw,
        )
        return Parked(
            soc=measured_soc(connector),
            shape=shape,
            car=car,
            needs=connector.ev_needs if connector is not None else None,
            session_wh=tx.energy_wh if tx is not None else 0.0,
            default_departure=self._usual_departure(car, now) if card is not None else None,
        )

    def _usual_departure(self, car: CarProfile, now: datetime) -> datetime | None:
        """The next of the car's usual departures (site local time) after `now`."""
        local = now.astimezone(self._zone)
        for days in range(8):
            day = local.date() + timedelta(days=days)
            at = car.departures.get(day.weekday())
            if at is None:
                continue
            hour, minute = (int(x) for x in at.split(":"))
            moment = datetime.combine(day, time(hour, minute), self._zone)
            if moment > now:
                return moment
        return None

    def _quarters(self, now: datetime, parked: Mapping[str, Parked]) -> int:
        """Quarter-hours from now's to the last departure that may be planned."""
        latest = [r.departure_at for i, r in self.departures.requests.items() if i in parked]
        for car in parked.values():
            if car.needs is not None and car.needs.departure_at is not None:
                latest.append(car.needs.departure_at)
            if car.default_departure is not None:
                latest.append(car.default_departure)
        end = min(max(latest, default=now), now + MAX_HORIZON)
        return int((end - quarter_floor(now)) / SLOT) + 1

    def _forecast(self, now: datetime) -> Callable[[str, int], PhaseAmps]:
        first = quarter_floor(now)
        margin = self.history.margin_a
        self._expected = {}

        def forecast(circuit: str, q: int) -> PhaseAmps:
            amps = self.history.forecast(circuit, first + q * SLOT)
            if q == 0:  # what is seen now counts for the quarter it is seen in
                peak = self.history.peak(circuit)
                amps = (
                    max(amps[0], peak[0] + margin),
                    max(amps[1], peak[1] + margin),
                    max(amps[2], peak[2] + margin),
                )
                self._expected[circuit] = amps
            return amps

        return forecast

    def session_changed(self, started: bool) -> None:
        """A transaction started or ended: the plugged cars changed."""
        self.mark("plugged_in" if started else "unplugged")

    def soc_changed(self, idents: Iterable[str]) -> None:
        """A planned car whose SoC became known, or moved by `SOC_STEP` since it was last
        planned, is planned again (the plan expects it to rise: each sample is no news)."""
        for ident in idents:
            if ident in self.departures.active or ident in self.departures.requests:
                soc = measured_soc(self._connector(ident))
                last = self._planned_soc.get(ident)
                if soc != last and (soc is None or last is None or abs(soc - last) >= SOC_STEP):
                    self._planned_soc[ident] = soc
                    self.mark("soc")

    def push_prices(
        self, entries: Sequence[PriceEntry] | None, now: datetime, *, replace: bool = False
    ) -> int:
        self._reasons.add("prices")
        return self.departures.push_prices(entries, now, replace=replace)

    def price_table(self, now: datetime) -> list[HourPrice]:
        return self.departures.prices.table(now)

    def price_now(self, now: datetime) -> HourPrice:
        """The price the planner uses for the hour `now` is in."""
        return self.departures.prices.table(now, hours=1)[0]

    def _connector(self, ident: str) -> ConnectorState | None:
        binding = self._bindings[ident]
        return connector_of(self._central.charge_points().get(binding.charge_point_id), binding)

    def _central_connectors(self) -> dict[str, ConnectorState]:
        out: dict[str, ConnectorState] = {}
        for ident in self._bindings:
            connector = self._connector(ident)
            if connector is not None:
                out[ident] = connector
        return out


def _taken(forecast: Callable[[str, int], PhaseAmps]) -> Callable[[str, int], PhaseAmps]:
    """`forecast`, each answer kept: the solve reads what was forecast on the event loop."""
    seen: dict[tuple[str, int], PhaseAmps] = {}

    def taken(circuit: str, q: int) -> PhaseAmps:
        key = (circuit, q)
        if key not in seen:
            seen[key] = forecast(circuit, q)
        return seen[key]

    return taken


@dataclass(frozen=True, slots=True)
class ReplanJob:
    """A re-plan's inputs, taken on the event loop; `solve` touches nothing shared (a worker
    thread may run it: HiGHS releases the GIL while it solves)."""

    departures: PlanJob
    limits: Callable[[Site], Sequence[Limit]]
    site: Site
    tariff: tuple[str, float, float] | None  # capacity tariff: circuit, target kW, fuse kW
    planned_ahead: int
    marks: int
    reasons: frozenset[str]  # what made this plan due

    def solve(self) -> tuple[Plan | None, float | None]:
        """The plan, and the capacity target raised for it (None: kept)."""
        plan = self._plan(None)
        if self.tariff is None or _on_time(plan) >= self.planned_ahead:
            return plan, None
        return self._raise_target(_on_time(plan))

    def _plan(self, target_kw: float | None) -> Plan | None:
        return self.departures.solve(self.limits(self._tariff_site(target_kw)))

    def _tariff_site(self, target_kw: float | None) -> Site:
        """The site with the capacity tariff's target as its circuit's total (None: in force)."""
        if self.tariff is None:
            return self.site
        circuit_id, in_force, _ = self.tariff
        kw = in_force if target_kw is None else target_kw
        amps = kw * 1000.0 / self.site.voltage_v
        circuits = tuple(
            replace(c, total_limit_a=min(c.total_limit_a or math.inf, amps))
            if c.id == circuit_id
            else c
            for c in self.site.circuits
        )
        return replace(self.site, circuits=circuits)

    def _raise_target(self, on_time: int) -> tuple[Plan | None, float | None]:
        """Raise the tariff's target to the least that lets as many cars make it as the fuse
        does, when that is more than the target lets; else keep the plan at the target."""
        assert self.tariff is not None
        _, low, high = self.tariff
        best = _on_time(self._plan(high))
        if best <= on_time or high <= low:
            return self._plan(None), None
        for _ in range(8):  # to within 1/256 of the range
            middle = (low + high) / 2
            if _on_time(self._plan(middle)) >= best:
                high = middle
            else:
                low = middle
        return self._plan(high), high


def _on_time(plan: Plan | None) -> int:
    return sum(1 for c in plan.cars.values() if c.will_make_it) if plan is not None else 0
