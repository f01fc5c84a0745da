"""What each charger asks for in this pass: its bounds, its phases and the pool it draws from."""

from __future__ import annotations

from .household import Loads
from .inputs import ChargerInput
from .result import Reason
from .site import Charger, MeterLossPolicy, Mode, Tuning
from .state import ChargerState
from .topology import POOL_NONE, POOL_PV, POOL_STATIC, CompiledSite
from .work import Option, Work

_POOLS = {Mode.STATIC: POOL_STATIC, Mode.PV: POOL_PV, Mode.PV_MIN: POOL_PV}


def detect_car_phases(
    charger: Charger, inp: ChargerInput, prev: ChargerState, tuning: Tuning
) -> tuple[int, ...] | None:
    """Charger phases the car draws on, learnt from its measured currents while it was offered
    every wired phase. Detection only ever widens within a session: a car seen on one phase that
    later draws on three is believed at once, the other way round never (that would be unsafe)."""
    known = prev.car_phases
    measured = inp.measured_a
    if measured is None or not prev.on or prev.phases != len(charger.wiring):
        return known
    peak = max(measured)
    if peak < tuning.detect_min_a:
        return known
    floor = max(1.0, 0.25 * peak)
    seen = tuple(k for k, amps in enumerate(measured) if amps >= floor)
    if known is None or not set(seen) <= set(known):
        return tuple(sorted(set(seen) | set(known or ())))
    return known


def build_work(
    cs: CompiledSite,
    index: int,
    inp: ChargerInput,
    prev: ChargerState,
    mode: Mode,
    loads: Loads,
    any_lost: bool,
) -> Work:
    """The charger's request; `work.high < work.low` means it must pause (see `high_reason`)."""
    site = cs.site
    charger = site.chargers[index]
    work = Work(index, charger, inp, prev, mode)
    work.car_phases = detect_car_phases(charger, inp, prev, site.tuning)
    work.pool = _POOLS.get(mode, POOL_NONE)
    work.tier = 2 * charger.priority + (1 if mode is Mode.FAST else 0)
    _options(cs, work)
    if inp.limit_a is not None and inp.limit_a < work.high:
        _cap(work, inp.limit_a, Reason.MAX_CURRENT, "limit")
    if mode is Mode.SMART and inp.planned_w is not None:
        width = len(work.options[0].grid_phases)
        planned_a = inp.planned_w / (site.voltage_v * width)
        if planned_a <= 0:
            _cap(work, 0.0, Reason.PAUSED_PLAN, "")
        else:
            # Below the minimum the car charges at the minimum: faster never misses a departure.
            _cap(work, max(planned_a, work.low), Reason.LIMITED_BY_PLAN, "")
    if any_lost:
        _meter_loss_caps(cs, work, loads)
    if work.high < work.low and work.high_reason is Reason.MAX_CURRENT:
        work.high_reason = Reason.PAUSED_BELOW_MINIMUM
    return work


def _cap(work: Work, amps: float, reason: Reason, detail: str) -> None:
    if amps < work.high:
        work.high, work.high_reason, work.high_detail = amps, reason, detail


def _options(cs: CompiledSite, work: Work) -> None:
    charger, prev = work.charger, work.prev
    wiring = charger.wiring
    used = work.car_phases if work.car_phases is not None else tuple(range(len(wiring)))
    grid = tuple(sorted(wiring[k] for k in used))
    full = Option(len(wiring), grid, cs.members(work.index, grid, work.pool))
    if charger.can_switch_phases and len(used) == 3:
        single_grid = (wiring[0],)
        single = Option(1, single_grid, cs.members(work.index, single_grid, work.pool))
        if prev.on and prev.phases == 1:
            # Back to three phases only once they have fitted for the phase-switch delay.
            work.up_probe = full
            work.options = [single]
        else:
            work.options = [full, single]
    else:
        work.options = [full]


def _meter_loss_caps(cs: CompiledSite, work: Work, loads: Loads) -> None:
    circuits = cs.site.circuits
    for node in cs.chains[work.index]:
        policy = loads.lost[node]
        if policy is None or policy is MeterLossPolicy.FIXED_BUDGET:
            continue
        if policy is MeterLossPolicy.SAFE_LIMIT:
            amps = work.charger.safe_current_a
        elif policy is MeterLossPolicy.HOLD:
            amps = work.prev.target_a if work.prev.on else 0.0
        else:
            amps = 0.0
        _cap(work, amps, Reason.METER_LOST, circuits[node].label)
