"""The controller: meters and charger events in, charging limits out (DESIGN §3, issue 5).

Event-driven: every meter reading recomputes the allocation in the same call (the protection
path: an overload is corrected for every charger at once), and every charger event recomputes
at the next turn of the event loop (events arriving together are coalesced). Only limits that
changed are sent, one call in flight per charger, newest value wins (`control.sender`).

Time comes from an injectable clock and a timer looks at it every `tick_s`: a meter whose last
reading is older than its timeout is left out of the inputs (its circuit's `on_meter_loss`
policy applies, by default the safe current) and comes back with its next reading.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from ..balancing import (
    BalanceResult,
    BalancerState,
    Charger,
    ChargerAllocation,
    ChargerInput,
    Mode,
    PassMemo,
    PhaseAmps,
    Site,
    SiteInputs,
    balance,
    compile_site,
)
from ..central import (
    CentralEvent,
    CentralSystem,
    ChargerBooted,
    ChargerConnected,
    CurrentLimit,
    TransactionEnded,
    TransactionStarted,
)
from ..central.events import EvChargingNeedsReported
from ..clock import Clock, Now, as_clock, utc_now
from ..config import CarProfile, ChargerBinding, ControllerSettings
from ..domain import DepartureRequest
from ..planning import CarPlan
from ..planning.tariff import PriceEntry
from .departures import Departures
from .household_history import HouseholdHistory
from .inputs import (
    SampleTimes,
    UserSettings,
    charger_input,
    connector_of,
    external_amps,
    refresh,
)
from .plug_in import plug_in_commands
from .prices import HourPrice, PriceBook
from .promises import PlanEvents
from .replan import ReplanJob, Replanner
from .safe_limits import SafeLimits, safe_current
from .sender import Channel, Command, LimitSender
from .site_limits import SiteLimits
from .warnings import ControlWarning, warning_changes

_LOGGER = logging.getLogger(__name__)
DEFAULT_METER_TIMEOUT_S = 5.0
_TICK = timedelta(microseconds=1)


class Controller:
    def __init__(
        self,
        central: CentralSystem,
        site: Site,
        *,
        bindings: Mapping[str, ChargerBinding] | None = None,
        cars: Mapping[str, CarProfile] | None = None,
        settings: ControllerSettings | None = None,
        meter_timeouts: Mapping[str, float] | None = None,
        clock: Clock | Now = utc_now,
    ) -> None:
        self.settings = settings or ControllerSettings()
        site = _tuned(site, self.settings)
        self.site = site
        self._central = central
        self._clock = clock
        self._site_clock = as_clock(clock)  # its sleep paces the timer (ScaledClock: faster)
        self._compiled = compile_site(site)
        self._chargers = {c.id: c for c in site.chargers}
        self.bindings: Mapping[str, ChargerBinding] = bindings or {
            c.id: ChargerBinding(c.id) for c in site.chargers
        }
        # Monitor-only chargers (`managed: false`): no limit, plug-in profile or safe limit is
        # ever sent to them, and the balancer sees no car there: their draw is load that the
        # meters of their circuits measure, like the household's, so the others get the rest.
        self._unmanaged = frozenset(i for i, b in self.bindings.items() if not b.managed)
        self._by_cp: dict[str, list[str]] = {}
        for ident, binding in self.bindings.items():
            self._by_cp.setdefault(binding.charge_point_id, []).append(ident)
        self._users = {
            c.id: UserSettings(mode=self.settings.modes.get(c.id)) for c in site.chargers
        }
        self._inputs: dict[str, ChargerInput] = {}
        self._sample_times = SampleTimes()
        self._meters: dict[str, tuple[PhaseAmps, datetime]] = {}
        self._timeouts = {
            c.id: timedelta(seconds=(meter_timeouts or {}).get(c.id, DEFAULT_METER_TIMEOUT_S))
            for c in site.circuits
            if c.metered
        }
        self._state = BalancerState()
        self._memo = PassMemo(self._compiled)
        self.result: BalanceResult | None = None
        self.departures = Departures(
            site, cars or {}, self.settings.planner_interval, PriceBook(self.settings.tariff)
        )
        planner = self.settings.planner
        self.limits = SiteLimits(site, planner)
        self.plan_events = PlanEvents()
        self._plans = Replanner(
            central,
            site,
            self.bindings,
            self.departures,
            mode_of=lambda ident: self._users[ident].mode,
            cap_of=lambda ident: self._users[ident].max_current_a,
            history=HouseholdHistory(
                planner.history_db, margin_a=planner.household_margin_a, weeks=planner.history_weeks
            ),
            settings=planner,
            cards=self.settings.cards,
            events=self.plan_events,
            tariff=self.limits.tariff,
        )
        self._sender = LimitSender(central, clock, self.settings.retry_after, self._sent)
        self.safe_limits = SafeLimits(
            central,
            clock,
            {
                cp: safe_current([self._chargers[i] for i in idents], self.bindings)
                for cp, idents in self._by_cp.items()
                if self._unmanaged.isdisjoint(idents)
            },
            self.settings.safe_limit_valid_for,
            self.settings.retry_after,
            self._notify,
        )
        self._listeners: list[Callable[[], None]] = []
        self._warning_listeners: list[Callable[[ControlWarning], None]] = []
        self._unsubscribe: Callable[[], None] | None = None
        self._timer: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._scheduled = False
        self.replanning: asyncio.Task[None] | None = None  # a re-plan being solved
        self._last_pass_at = clock()
        self.passes = 0
        if self.limits.phases.switchable:  # they run on the phases chosen here, not their own
            self.apply_limits(None, switched=self.limits.phases.switchable)
        for ident in self.limits.phases.switchable:  # 2.0.1: their one phase is named
            binding = self.bindings[ident]
            central.set_phase_switching(binding.charge_point_id, binding.connector_id, True)

    # ---- lifetime -----------------------------------------------------------------------------
    async def start(self) -> None:
        self._unsubscribe = self._central.add_listener(self._on_event)
        for cp_id, state in self._central.charge_points().items():
            self._refresh_charge_point(cp_id)
            if state.online:
                self.safe_limits.write(cp_id)
        self.recompute()
        self._timer = asyncio.get_running_loop().create_task(self._run_timer())

    async def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._timer is not None:
            self._timer.cancel()
            await asyncio.gather(self._timer, return_exceptions=True)
            self._timer = None
        if self.replanning is not None:
            self.replanning.cancel()
            await asyncio.gather(self.replanning, return_exceptions=True)
        await self.safe_limits.stop()
        await self._sender.stop()

    def carry_over(self, old: Controller) -> None:
        """Take over what the user, the planner's clients and the meters told `old`, a
        controller of the same site with fewer chargers (`LocalSite.add_chargers`): settings,
        departures, pushed prices and the circuits' latest readings (with their age)."""
        for ident, settings in old._users.items():
            if ident in self._users:
                self._users[ident] = settings
        for ident, request in old.departures.requests.items():
            if ident in self._chargers:
                self.departures.set(ident, request)
        self.departures.prices = old.departures.prices
        self._meters.update({c: got for c, got in old._meters.items() if c in self._timeouts})
        self.carry_planner(old)

    def add_warning_listener(
        self, callback: Callable[[ControlWarning], None]
    ) -> Callable[[], None]:
        """`callback(warning)` when a warning starts or ends (control.warnings)."""
        self._warning_listeners.append(callback)

        def remove() -> None:
            with contextlib.suppress(ValueError):
                self._warning_listeners.remove(callback)

        return remove

    def _warn(self, warning: ControlWarning) -> None:
        if warning.active:
            _LOGGER.warning("%s", warning.message)
        else:
            _LOGGER.info("%s", warning.message)
        for callback in list(self._warning_listeners):
            try:
                callback(warning)
            except Exception:
                _LOGGER.exception("controller warning listener failed")

    def add_listener(self, callback: Callable[[], None]) -> Callable[[], None]:
        """`callback()` after every pass and every limit sent (read the state then)."""
        self._listeners.append(callback)

        def remove() -> None:
            with contextlib.suppress(ValueError):
                self._listeners.remove(callback)

        return remove

    # ---- inputs -------------------------------------------------------------------------------
    def meter_reading(self, circuit_id: str, amps: PhaseAmps | None) -> None:
        """A reading of a circuit's meter (import positive, per phase); None: the meter says its
        value is unusable or stale, so the circuit counts as silent from now on."""
        if circuit_id not in self._timeouts:
            raise KeyError(f"{circuit_id!r} is not a metered circuit")
        if amps is None:
            self._meters.pop(circuit_id, None)
        else:
            self._meters[circuit_id] = (amps, self._clock())
        if self.limits.observe(circuit_id, amps, self._clock()):
            self.apply_limits(None)
        self.recompute()

    def meter_fresh(self, circuit_id: str) -> bool:
        got = self._meters.get(circuit_id)
        return got is not None and self._clock() - got[1] <= self._timeouts[circuit_id]

    def set_mode(self, charger_id: str, mode: Mode | None) -> None:
        self._user(charger_id, mode=mode)

    def set_max_current(self, charger_id: str, amps: float | None) -> None:
        if amps is not None and not amps >= 0:
            raise ValueError(f"max current must be ≥ 0 A, got {amps!r}")
        self._user(charger_id, max_current_a=amps)

    def set_target_soc(self, charger_id: str, soc: float | None) -> None:
        if soc is not None and not 0 <= soc <= 100:
            raise ValueError(f"target SoC must be 0..100 %, got {soc!r}")
        self._user(charger_id, target_soc=soc)
        request = self.departures.requests.get(charger_id)
        if request is not None and soc is not None:
            self.departures.set(charger_id, _with_target(request, soc))
        self._plans.mark("target_set")

    def set_departure(self, request: DepartureRequest) -> str:
        """Plan this car (re-planned at once); returns the charger it was given to."""
        ident = self.charger_for(request.charge_point_id, request.connector_id)
        self.departures.set(ident, request)
        self._plans.mark("departure_set")
        self._schedule()
        return ident

    def clear_departure(self, charger_id: str) -> None:
        self._known(charger_id)
        self.departures.clear(charger_id)
        self._plans.mark("departure_set")
        self._schedule()

    def push_prices(self, entries: Sequence[PriceEntry] | None, *, replace: bool = False) -> int:
        """Day-ahead prices over the tariff (None: forget the pushed ones); re-planned at once."""
        hours = self._plans.push_prices(entries, self._clock(), replace=replace)
        self._schedule()
        return hours

    def price_table(self) -> list[HourPrice]:
        """The next 48 hours' prices per kWh and where each came from (tariff or pushed)."""
        return self._plans.price_table(self._clock())

    def price_now(self) -> HourPrice:
        """The price the planner uses for the current hour."""
        return self._plans.price_now(self._clock())

    def price_at(self, at: datetime) -> Decimal | None:
        """The price per kWh of the hour `at` is in (tariff or pushed): 2.0.1 session costs."""
        return self._plans.price_now(at).price

    def charger_for(self, charge_point_id: str, connector_id: int = 1) -> str:
        """The balanced charger at this OCPP place (KeyError when none)."""
        idents = self._by_cp.get(charge_point_id, [])
        for ident in idents:
            if self.bindings[ident].connector_id == connector_id:
                return ident
        if len(idents) == 1:
            return idents[0]
        raise KeyError(f"no charger at {charge_point_id!r} connector {connector_id}")

    # ---- what it knows ------------------------------------------------------------------------
    def charger(self, charger_id: str) -> Charger:
        return self._chargers[self._known(charger_id)]

    def user_settings(self, charger_id: str) -> UserSettings:
        return self._users[self._known(charger_id)]

    def allocation(self, charger_id: str) -> ChargerAllocation | None:
        return self.result.chargers.get(charger_id) if self.result is not None else None

    def channel(self, charger_id: str) -> Channel | None:
        return self._sender.channels.get(charger_id)

    @property
    def replanner(self) -> Replanner:
        return self._plans

    def car_plan(self, charger_id: str) -> CarPlan | None:
        return self.departures.car_plan(charger_id)

    def safe_limit(self, charge_point_id: str) -> CurrentLimit | None:
        state = self._central.charge_points().get(charge_point_id)
        return state.safe_limit if state is not None else None

    # ---- the pass -----------------------------------------------------------------------------
    def recompute(self) -> BalanceResult:
        """One pass now: balance, send what changed, wake the timer for the next deadline."""
        now = self._clock()
        self._scheduled = False
        if self._plans.due(now):
            self._replan(now)
        meters = {
            cid: amps for cid, (amps, at) in self._meters.items() if now - at <= self._timeouts[cid]
        }
        inputs = SiteInputs(meters, dict(self._inputs))
        result = balance(self._compiled, inputs, self._state, now, self._memo)
        warnings = warning_changes(self.result, result, now)
        self._state, self.result = result.state, result
        self._plans.observe(result.state.circuit_base, now)
        if self.limits.phases.switchable:
            self._switch_phases(now, result)
        if self._plans.due(now) and self.replanning is None:  # the household surprised it
            self._schedule()
        self._last_pass_at = now
        self.passes += 1
        for ident in result.changed:
            if ident in self._unmanaged:
                continue
            allocation = result.chargers[ident]
            phases = allocation.phases if allocation.phases > 0 else None
            self._sender.want(ident, self.bindings[ident], Command(allocation.target_a, phases))
        self._send_plug_in_limits(result)
        self._wake.set()
        for warning in warnings:
            self._warn(warning)
        self._notify()
        return result

    def _replan(self, now: datetime) -> None:
        """Re-plan off the protection path: its solve runs in a worker thread (HiGHS lets go of
        the GIL) while meter readings are answered; its plan is taken in a pass of its own.
        A controller not started (passes driven by hand) plans at once, in the pass."""
        if self._timer is None:
            self._plans.replan(now, self._inputs, self.result)
        elif self.replanning is None:
            job = self._plans.prepare(now, self._inputs, self.result)
            self.replanning = asyncio.get_running_loop().create_task(self._solve(job))

    async def _solve(self, job: ReplanJob) -> None:
        try:
            solved = await asyncio.to_thread(job.solve)
            self._plans.finish(job, solved, self._inputs)
        except Exception:  # the next pass plans again
            _LOGGER.exception("re-plan failed")
        finally:
            self.replanning = None
        self._schedule()

    async def plan_settled(self, timeout_s: float = 5.0) -> None:
        """Wait for the re-plan that a command asked for (its solve runs in a worker thread),
        so that what is read next (a departure's expected finish and price) is planned."""
        self.recompute()  # a pass starts the re-plan when one is due
        task = self.replanning
        if task is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(task), timeout_s)

    def _send_plug_in_limits(self, result: BalanceResult) -> None:
        """Idle chargers hold a TxDefaultProfile of what a new car may draw (control.plug_in)."""
        modes = {c.id: self._users[c.id].mode or self.site.default_mode for c in self.site.chargers}
        wanted = {i: c.wanted for i, c in self._sender.channels.items()}
        charge_points = self._central.charge_points()
        commands = plug_in_commands(self.site, self.bindings, modes, charge_points, wanted, result)
        for ident, command in commands.items():
            if ident not in self._unmanaged:
                self._sender.want(ident, self.bindings[ident], command)

    def _schedule(self) -> None:
        """Recompute at the next turn of the loop (events that arrive together share a pass)."""
        if not self._scheduled and self._timer is not None:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._scheduled_pass)

    def _scheduled_pass(self) -> None:
        if self._scheduled and self._timer is not None:  # not after stop()
            self.recompute()

    # ---- events -------------------------------------------------------------------------------
    def _on_event(self, event: CentralEvent) -> None:
        cp_id = event.charge_point_id
        if cp_id not in self._by_cp:
            return
        if isinstance(event, ChargerConnected | ChargerBooted):
            self._sender.forget_acked(cp_id)
            self.safe_limits.write(cp_id)
        if isinstance(event, TransactionStarted | TransactionEnded):
            self._plans.session_changed(isinstance(event, TransactionStarted))
        if isinstance(event, EvChargingNeedsReported):
            self._plans.mark("ev_charging_needs")
        self._refresh_charge_point(cp_id)
        self._plans.soc_changed(self._by_cp[cp_id])
        # A TxProfile that overtakes StartTransaction's answer is retried by the central
        # system (a new 1.6 transaction's id may still be on its way), so no delay here.
        self._schedule()

    def _refresh_charge_point(self, cp_id: str) -> None:
        state = self._central.charge_points().get(cp_id)
        now = self._clock()
        for ident in self._by_cp.get(cp_id, ()):
            connector = connector_of(state, self.bindings[ident])
            new = charger_input(
                self._chargers[ident],
                connector,
                self._users[ident],
                self.departures.urgency_kw(ident, now),
                self.departures.planned_w(ident, now),
                self._sample_times.received(ident, connector, now),
                external_amps(
                    state, self.bindings[ident], self._chargers[ident], now, self.site.voltage_v
                ),
            )
            if ident in self._unmanaged:
                new = ChargerInput()
            self._inputs[ident] = refresh(self._inputs.get(ident), new)

    def _user(self, charger_id: str, **changes: Any) -> None:
        ident = self._known(charger_id)
        old = self._users[ident]
        self._users[ident] = UserSettings(
            mode=changes.get("mode", old.mode),
            max_current_a=changes.get("max_current_a", old.max_current_a),
            target_soc=changes.get("target_soc", old.target_soc),
        )
        self._refresh_charge_point(self.bindings[ident].charge_point_id)
        self._schedule()

    def _known(self, charger_id: str) -> str:
        if charger_id not in self._chargers:
            raise KeyError(f"unknown charger {charger_id!r}")
        return charger_id

    # ---- timer --------------------------------------------------------------------------------
    def _next_deadline(self) -> datetime | None:
        """The earliest moment after the last pass at which a pass may decide differently:
        a meter turning silent, a delay of the balancer, the planner's next slot."""
        candidates = [at + self._timeouts[cid] + _TICK for cid, (_, at) in self._meters.items()]
        if self.result is not None and self.result.next_check_at is not None:
            candidates.append(self.result.next_check_at)
        if (expiry := self.limits.circuits.next_expiry()) is not None:
            candidates.append(expiry)
        if self.departures.planning:
            candidates.append(self.departures.next_at(self._last_pass_at))
        return min((c for c in candidates if c > self._last_pass_at), default=None)

    async def _run_timer(self) -> None:
        """Look at the clock every tick at most (a fake clock in tests moves between ticks)."""
        while True:
            self._wake.clear()
            wait = self.settings.tick_s
            deadline = self._next_deadline()
            if deadline is not None:
                wait = min(wait, max(0.0, (deadline - self._clock()).total_seconds()))
            await self._sleep_unless_woken(wait)
            try:
                self._tick()
            except Exception:  # the timer must outlive any one bad pass
                _LOGGER.exception("controller timer pass failed")

    async def _sleep_unless_woken(self, seconds: float) -> None:
        """Sleep `seconds` of the site clock's time, or less when a pass wakes the timer."""
        sleeping = asyncio.ensure_future(self._site_clock.sleep(seconds))
        woken = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait((sleeping, woken), return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeping.cancel()
            woken.cancel()

    def apply_limits(self, reason: str | None, *, switched: Iterable[str] = ()) -> None:
        """Run with the circuits' limits in force now (`limits`); `reason`: re-plan too;
        `switched`: chargers now on other phases start afresh in the balancer."""
        site = self.limits.balancing_site()
        if site is not self.site:
            self.site, self._compiled = site, compile_site(site)
            self._memo = PassMemo(self._compiled)
        if switched:  # their wiring changed: inputs per the new wiring, a fresh balancer state
            self._chargers = {c.id: c for c in site.chargers}
            kept = {i: s for i, s in self._state.chargers.items() if i not in set(switched)}
            self._state = replace(self._state, chargers=MappingProxyType(kept))
            for ident in set(switched):
                self._inputs.pop(ident, None)
                self._refresh_charge_point(self.bindings[ident].charge_point_id)
        if reason is not None:
            self._plans.set_site(self.limits.circuits.planning_site(), reason)
        self._schedule()

    def _switch_phases(self, now: datetime, result: BalanceResult) -> None:
        starts: dict[str, datetime | None] = {}
        charge_points = self._central.charge_points()
        for ident in self.limits.phases.switchable:
            binding = self.bindings[ident]
            connector = connector_of(charge_points.get(binding.charge_point_id), binding)
            tx = connector.transaction if connector is not None else None
            starts[ident] = tx.started_at if tx is not None and tx.is_open else None
        switched = self.limits.phases.decide(
            now, result, lambda i: self._users[i].mode or self.site.default_mode, starts
        )
        if switched:
            self.apply_limits(None, switched=switched)

    def carry_planner(self, old: Controller) -> None:
        """Take over the planner's side of `old` (a controller this one replaces): promises
        and their listeners, circuit overrides, the capacity tariff's quarter, cards, history."""
        self.plan_events = self._plans.events = old.plan_events
        self.limits.circuits.overrides.update(old.limits.circuits.overrides)
        if old.limits.tariff is not None and self.limits.tariff is not None:
            self.limits.tariff = self._plans.tariff = old.limits.tariff
        self._plans.cards.update(old.replanner.cards)
        self._plans.history.close()  # the old one's history, with its running quarter
        self._plans.history = old.replanner.history
        self.apply_limits("circuit_limit_changed")

    def _tick(self) -> None:
        now = self._clock()
        if self.limits.circuits.expire(now):
            self.apply_limits("circuit_limit_expired")
        if self.limits.update_budget(now):
            self.apply_limits(None)
        self._sender.retry()
        self.safe_limits.renew_due()
        deadline = self._next_deadline()
        if deadline is not None and now >= deadline:
            self.recompute()

    def _sent(self, ident: str) -> None:
        self._notify()

    def _notify(self) -> None:
        for callback in list(self._listeners):
            try:
                callback()
            except Exception:
                _LOGGER.exception("controller listener failed")


def _tuned(site: Site, settings: ControllerSettings) -> Site:
    """The site with the balancer settings of site.yaml's `controller:` section in force."""
    changes = {
        name: value
        for name in (
            "overdraw_tolerance_a",
            "overdraw_grace",
            "overdraw_pause_after",
            "meter_loss_window",
        )
        if (value := getattr(settings, name)) is not None
    }
    return replace(site, tuning=replace(site.tuning, **changes)) if changes else site


def _with_target(request: DepartureRequest, soc: float) -> DepartureRequest:
    return replace(request, target_soc=soc)
