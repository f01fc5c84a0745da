"""The safety invariant of issue 15 / DESIGN §3, checked after every pass against an independent
model (hypothesis): for every circuit and phase, Σ over the charging cars of their limit — or,
for a car over-drawing for longer than the grace, max(its measured draw, its limit) — plus the
household ≤ limit - margin, whenever a car the balancer controls charges there.

The household is the meter's reading less the chargers' own draw; while a meter is silent, the
highest household seen in the window before (and for `fixed_budget`, at least what the budget
leaves); nothing starts or rises below a silent meter, and `stop` pauses everything below it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custom_components.eflux.core.balancing import (
    ALL_PHASES,
    BalanceResult,
    BalancerState,
    Charger,
    ChargerAllocation,
    ChargerInput,
    Circuit,
    MeterLossPolicy,
    Mode,
    PassMemo,
    Phase,
    Site,
    SiteInputs,
    Tuning,
    balance,
    compile_site,
    per_phase,
)
from tests.balancing.reference import chargers_below, net_reading, subtree
from tests.balancing.strategies import charger_inputs, signed_amps, sites

T0 = datetime(2026, 12, 7, 17, 0, tzinfo=UTC)
TOL = 1e-6
PROPERTY = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
ROTATED = [ALL_PHASES, (Phase.L2, Phase.L3, Phase.L1), (Phase.L3, Phase.L1, Phase.L2)]


@st.composite
def buildings(draw: st.DrawFn) -> Site:
    """The building of issue 15: 3x63 A with garages of 3x32 A and 3x40 A under it, three-phase
    16 A chargers on rotated wiring and single-phase 32 A ones on L1, L2 or L3."""
    policy = draw(st.sampled_from(list(MeterLossPolicy)))
    garage_metered = draw(st.booleans())
    circuits = (
        Circuit(
            "building",
            per_phase(63.0),
            metered=True,
            margin_a=draw(st.sampled_from([0.0, 2.0])),
            on_meter_loss=policy,
            fallback_budget_a=per_phase(float(draw(st.integers(0, 50)))),
        ),
        Circuit(
            "garage-a",
            per_phase(32.0),
            parent="building",
            metered=garage_metered,
            on_meter_loss=draw(st.sampled_from(list(MeterLossPolicy))),
            fallback_budget_a=per_phase(20.0),
        ),
        Circuit("garage-b", per_phase(40.0), parent="building"),
    )
    count = draw(st.integers(min_value=2, max_value=9))
    chargers = []
    for i in range(count):
        three = draw(st.booleans())
        chargers.append(
            Charger(
                f"cp{i}",
                draw(st.sampled_from(["garage-a", "garage-b"])),
                wiring=ROTATED[i % 3] if three else (ALL_PHASES[i % 3],),
                max_current_a=16.0 if three else 32.0,
                safe_current_a=draw(st.sampled_from([0.0, 6.0, 10.0])),
            )
        )
    return Site(circuits=circuits, chargers=tuple(chargers), default_mode=Mode.DYNAMIC)


@dataclass
class Model:
    """What the reference remembers between passes: households seen, over-drawing since."""

    site: Site
    seen: dict[str, list[tuple[datetime, list[float]]]] = field(default_factory=dict)
    over: dict[str, datetime] = field(default_factory=dict)
    sessions: set[str] = field(default_factory=set)  # plugged in the last pass

    def household(
        self, inputs: SiteInputs, circuit: Circuit, before: BalancerState, now: datetime
    ) -> list[float]:
        below = [0.0, 0.0, 0.0]
        for child in self.site.circuits:
            if child.parent == circuit.id:
                load = self.household(inputs, child, before, now)
                below = [below[p] + load[p] for p in range(3)]
        if not circuit.metered:
            return below
        if circuit.id in inputs.meters:
            for p in range(3):
                below[p] = max(below[p], net_reading(self.site, inputs, circuit, p, before), 0.0)
            return below
        if circuit.on_meter_loss is MeterLossPolicy.STOP:
            # Its chargers pause; it counts as fully loaded for the circuits above (no more
            # than its fuse lets through, whatever it read before).
            return [max(below[p], circuit.limit_a[p]) for p in range(3)]
        window = self.site.tuning.meter_loss_window
        history = self.seen.get(circuit.id, [])
        recent = [amps for at, amps in history if at > now - window] or [
            amps for _, amps in history[-1:]
        ]
        for amps in recent:
            below = [max(below[p], amps[p]) for p in range(3)]
        if circuit.on_meter_loss is MeterLossPolicy.FIXED_BUDGET:
            budget = circuit.fallback_budget_a or (0.0, 0.0, 0.0)
            usable = [circuit.limit_a[p] - circuit.margin_a for p in range(3)]
            below = [max(below[p], usable[p] - budget[p]) for p in range(3)]
        return below

    def remember(self, inputs: SiteInputs, before: BalancerState, now: datetime) -> None:
        for circuit in self.site.circuits:
            if circuit.metered and circuit.id in inputs.meters:
                amps = self.household(inputs, circuit, before, now)
                self.seen.setdefault(circuit.id, []).append((now, amps))

    def track_overdraw(
        self,
        inputs: SiteInputs,
        last: dict[str, ChargerAllocation],
        now: datetime,
    ) -> None:
        """Since when each car draws above the limit it was given (+ the tolerance)."""
        tolerance = self.site.tuning.overdraw_tolerance_a
        for charger in self.site.chargers:
            inp = inputs.chargers.get(charger.id)
            mode = (inp.mode or self.site.default_mode) if inp is not None else None
            if inp is None or not inp.plugged or mode is Mode.OFF:
                self.over.pop(charger.id, None)
                if inp is None or not inp.plugged:  # the session ends (mode off keeps it)
                    self.sessions.discard(charger.id)
                else:
                    self.sessions.add(charger.id)
                continue
            if charger.id not in self.sessions:  # a new session was given no limit yet
                self.sessions.add(charger.id)
                self.over.pop(charger.id, None)
                continue
            if inp.measured_a is None:
                continue
            given = last.get(charger.id)
            over = False
            for k, amps in enumerate(inp.measured_a):
                phase = charger.wiring[k]
                on = given is not None and given.target_a > 0 and phase in given.grid_phases
                allowed = (given.target_a if given is not None and on else 0.0) + tolerance
                over = over or amps > allowed
            if over:
                self.over.setdefault(charger.id, now)
            else:
                self.over.pop(charger.id, None)


def check_safety(
    model: Model,
    inputs: SiteInputs,
    before: BalancerState,
    last: dict[str, ChargerAllocation],
    result: BalanceResult,
    now: datetime,
) -> None:
    site = model.site
    by_id = {c.id: c for c in site.chargers}
    grace = site.tuning.overdraw_grace
    flagged = {i for i, since in model.over.items() if now - since >= grace}
    assert set(result.site.overdrawing) == flagged
    for circuit in site.circuits:
        below = chargers_below(site, circuit.id)
        counted = [0.0, 0.0, 0.0]
        controlled = [False, False, False]
        for ident in below:
            allocation = result.chargers[ident]
            for p in allocation.grid_phases:
                counted[p] += allocation.target_a
                controlled[p] = controlled[p] or allocation.target_a > 0
            measured = inputs.chargers[ident].measured_a if ident in flagged else None
            for k, amps in enumerate(measured or ()):
                phase = by_id[ident].wiring[k]
                on = allocation.target_a if phase in allocation.grid_phases else 0.0
                counted[phase] += max(amps, on) - on
        house = model.household(inputs, circuit, before, now)
        for p in range(3):
            cap = circuit.limit_a[p] - circuit.margin_a
            assert not controlled[p] or counted[p] + house[p] <= cap + TOL, (
                f"{circuit.id} L{p + 1}: {counted[p]} + {house[p]} > {cap}"
            )
        if circuit.metered and circuit.id not in inputs.meters:
            for ident in below:  # silent: nothing starts, nothing rises
                before_a = last[ident].target_a if ident in last else 0.0
                assert result.chargers[ident].target_a <= before_a + TOL, ident
                if circuit.on_meter_loss is MeterLossPolicy.STOP:
                    assert result.chargers[ident].target_a == 0


def _inputs(data: st.DataObject, site: Site) -> SiteInputs:
    silent = data.draw(st.booleans())
    meters = {
        c.id: (data.draw(signed_amps), data.draw(signed_amps), data.draw(signed_amps))
        for c in site.circuits
        if c.metered and not (silent and data.draw(st.booleans()))
    }
    modes = [Mode.DYNAMIC, Mode.FAST, Mode.OFF]
    return SiteInputs(meters, {c.id: data.draw(charger_inputs(c, modes)) for c in site.chargers})


def _run(data: st.DataObject, site: Site) -> None:
    compiled = compile_site(site)
    memo = PassMemo(compiled)
    model = Model(site)
    state, now = BalancerState(), T0
    last: dict[str, ChargerAllocation] = {}
    for _ in range(data.draw(st.integers(min_value=2, max_value=8))):
        inputs = _inputs(data, site)
        result = balance(compiled, inputs, state, now, memo)
        model.track_overdraw(inputs, last, now)
        check_safety(model, inputs, state, last, result, now)
        model.remember(inputs, state, now)
        last = dict(result.chargers)
        state = result.state
        now += timedelta(seconds=data.draw(st.sampled_from([1, 10, 31, 61, 200, 901])))


@PROPERTY
@given(data=st.data())
def test_the_building_never_goes_over_a_fuse(data: st.DataObject) -> None:
    _run(data, data.draw(buildings()))


@PROPERTY
@given(data=st.data(), instant=st.booleans())
def test_any_site_never_goes_over_a_fuse(data: st.DataObject, instant: bool) -> None:
    _run(data, data.draw(sites(instant=instant)))


def test_the_model_sees_what_a_silent_meter_hides() -> None:
    """The reference is not the balancer's echo: an over-drawing car and a silent meter."""
    site = Site(
        circuits=(Circuit("grid", per_phase(25.0), metered=True),),
        chargers=(Charger("a", "grid"),),
        tuning=Tuning(),
    )
    model = Model(site)
    seen = SiteInputs({"grid": (10.0, 4.0, 4.0)}, {"a": ChargerInput(plugged=True)})
    model.remember(seen, BalancerState(), T0)
    silent = SiteInputs({}, seen.chargers)
    later = T0 + timedelta(minutes=10)
    assert model.household(silent, site.circuits[0], BalancerState(), later) == [10.0, 4.0, 4.0]
    much_later = T0 + timedelta(minutes=40)  # out of the window, but the last one seen
    assert model.household(silent, site.circuits[0], BalancerState(), much_later)[0] == 10.0
    assert subtree(site, "grid") == {"grid"}
