"""Hypothesis strategies: random sites (nested circuits, rotated 1- and 3-phase chargers), loads
and cars."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import strategies as st

from custom_components.eflux.core.balancing import (
    ALL_PHASES,
    Charger,
    ChargerInput,
    Circuit,
    MeterLossPolicy,
    Mode,
    Site,
    SiteInputs,
    Tuning,
    per_phase,
)

amps = st.floats(min_value=0.0, max_value=40.0, allow_nan=False).map(lambda x: round(x, 1))
signed_amps = st.floats(min_value=-30.0, max_value=60.0, allow_nan=False).map(lambda x: round(x, 1))
ZERO = timedelta(0)
wirings = st.one_of(
    st.permutations(ALL_PHASES).map(tuple),  # three-phase, any rotation
    st.sampled_from(ALL_PHASES).map(lambda p: (p,)),  # single-phase on any phase
    st.permutations(ALL_PHASES).map(lambda ps: tuple(ps[:2])),  # two-phase (rare, exists)
)


@st.composite
def circuits(draw: st.DrawFn, max_circuits: int = 5) -> tuple[Circuit, ...]:
    count = draw(st.integers(min_value=1, max_value=max_circuits))
    built: list[Circuit] = []
    for i in range(count):
        limit = tuple(draw(st.integers(min_value=8, max_value=63)) for _ in range(3))
        built.append(
            Circuit(
                id=f"c{i}",
                parent=None if i == 0 else f"c{draw(st.integers(min_value=0, max_value=i - 1))}",
                limit_a=(float(limit[0]), float(limit[1]), float(limit[2])),
                margin_a=draw(st.sampled_from([0.0, 0.5, 2.0])),
                total_limit_a=draw(st.none() | st.integers(min_value=10, max_value=120).map(float)),
                metered=draw(st.booleans()),
                meter_includes_chargers=draw(st.booleans()),
                on_meter_loss=draw(st.sampled_from(list(MeterLossPolicy))),
                fallback_budget_a=per_phase(float(draw(st.integers(min_value=0, max_value=30)))),
            )
        )
    return tuple(built)


@st.composite
def chargers(draw: st.DrawFn, circuit_ids: list[str], max_chargers: int = 8) -> tuple[Charger, ...]:
    count = draw(st.integers(min_value=1, max_value=max_chargers))
    built = []
    for i in range(count):
        wiring = draw(wirings)
        low = draw(st.sampled_from([6.0, 6.0, 8.0]))
        built.append(
            Charger(
                id=f"cp{i}",
                circuit=draw(st.sampled_from(circuit_ids)),
                wiring=wiring,
                min_current_a=low,
                max_current_a=draw(
                    st.sampled_from([m for m in (10.0, 16.0, 32.0) if m >= low] + [low])
                ),
                priority=draw(st.integers(min_value=0, max_value=2)),
                can_switch_phases=len(wiring) == 3 and draw(st.booleans()),
                safe_current_a=draw(st.sampled_from([0.0, low])),
            )
        )
    return tuple(built)


@st.composite
def sites(draw: st.DrawFn, *, instant: bool = False) -> Site:
    """A valid random site; `instant` drops every delay and hysteresis."""
    tree = draw(circuits())
    tuning = (
        Tuning(
            hysteresis_a=0.0,
            min_change_interval=ZERO,
            ramp_step_a=None,
            start_delay=ZERO,
            stop_delay=ZERO,
            phase_switch_delay=ZERO,
        )
        if instant
        else Tuning()
    )
    return Site(
        circuits=tree,
        chargers=draw(chargers([c.id for c in tree])),
        default_mode=draw(st.sampled_from(list(Mode))),
        static_budget_a=draw(
            st.none() | st.integers(min_value=0, max_value=40).map(float).map(per_phase)
        ),
        tuning=tuning,
    )


@st.composite
def charger_inputs(
    draw: st.DrawFn,
    charger: Charger,
    modes: list[Mode] | None = None,
    sampled_at: datetime | None = None,
) -> ChargerInput:
    """`sampled_at`: the measured currents were received up to a minute before it (None: when
    is unknown)."""
    measured = draw(st.none() | st.tuples(*[amps for _ in charger.wiring]))
    measured_at = None
    if sampled_at is not None and measured is not None:
        measured_at = sampled_at - timedelta(seconds=draw(st.sampled_from([0, 2, 7, 40, 60])))
    return ChargerInput(
        plugged=draw(st.booleans() | st.just(True)),
        mode=draw(st.none() | st.sampled_from(modes or list(Mode))),
        measured_a=measured,
        measured_at=measured_at,
        limit_a=draw(st.none() | amps),
        urgency_kw=draw(st.sampled_from([0.0, 0.0, 1.5, 7.0])),
        planned_w=draw(st.none() | st.sampled_from([0.0, 1000.0, 4000.0, 11000.0])),
    )


@st.composite
def site_inputs(
    draw: st.DrawFn, site: Site, modes: list[Mode] | None = None, silent: bool = False
) -> SiteInputs:
    """Readings for every metered circuit, or (`silent`) for a random part of them."""
    meters = {
        c.id: (draw(signed_amps), draw(signed_amps), draw(signed_amps))
        for c in site.circuits
        if c.metered and not (silent and draw(st.booleans()))
    }
    return SiteInputs(
        meters=meters,
        chargers={c.id: draw(charger_inputs(c, modes)) for c in site.chargers},
    )
