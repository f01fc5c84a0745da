"""What each charger asks for in this pass: its bounds, its phases and the pool it draws from."""

from __future__ import annotations

from .household import Loads
from .inputs import ChargerInput
from .result import Reason
from .site import Charger, MeterLossPolicy, Mode, Tuning
from .state import ChargerState
from .topology import EPS, POOL_NONE, POOL_PV, POOL_STATIC, CompiledSite
from .work import Demand, Option

_POOLS = {Mode.STATIC: POOL_STATIC, Mode.PV: POOL_PV, Mode.PV_MIN: POOL_PV}


def detect_car_phases(
    charger: Charger, inp: ChargerInput, prev: ChargerState, tuning: Tuning
) -> tuple[int, ...] | None:
    """Charger phases the car draws on, learnt from its measured currents while it was offered
    every wired phase. Detection only ever widens within a session: a car seen on one phase that
    later draws on three is believed at once, the other way round never (that would be unsafe)."""
    known = prev.car_phases
    measured = inp.measured_a
    width = len(charger.wiring)
    if measured is None or not prev.on or prev.phases != width:
        return known
    if known is not None and len(known) == width:
        return known  # nothing left to learn
    peak = max(measured)
    if peak < tuning.detect_min_a:
        return known
    floor = max(1.0, 0.25 * peak)
    seen = tuple(k for k, amps in enumerate(measured) if amps >= floor)
    if known is None or not set(seen) <= set(known):
        return tuple(sorted(set(seen) | set(known or ())))
    return known


def demand_for(
    cs: CompiledSite,
    index: int,
    inp: ChargerInput,
    prev: ChargerState,
    mode: Mode,
    loads: Loads,
    any_lost: bool,
) -> Demand:
    """The charger's request, reused from the last pass when its input and state allow."""
    cache = cs.demand_cache
    if not any_lost:
        hit = cache[index]
        if (
            hit is not None
            and hit[0] is inp
            and hit[1] == prev.on
            and hit[2] == prev.phases
            and hit[3] == prev.car_phases
        ):
            cached: Demand = hit[4]
            return cached
    demand = _build(cs, index, inp, prev, mode, loads, any_lost)
    # Meter-loss caps depend on the loads and the previous limit: those demands are not kept.
    cache[index] = None if any_lost else (inp, prev.on, prev.phases, prev.car_phases, demand)
    return demand


def _build(
    cs: CompiledSite,
    index: int,
    inp: ChargerInput,
    prev: ChargerState,
    mode: Mode,
    loads: Loads,
    any_lost: bool,
) -> Demand:
    site = cs.site
    charger = site.chargers[index]
    car_phases = detect_car_phases(charger, inp, prev, site.tuning)
    pool = _POOLS.get(mode, POOL_NONE)
    options, up_probe = _options(cs, index, charger, prev, car_phases, mode)
    caps: list[tuple[float, Reason, str]] = [(charger.max_current_a, Reason.MAX_CURRENT, "")]
    if inp.limit_a is not None:
        caps.append((inp.limit_a, Reason.MAX_CURRENT, "limit"))
    if mode is Mode.SMART and inp.planned_w is not None:
        planned_a = inp.planned_w / (site.voltage_v * len(options[0].grid_phases))
        if planned_a <= 0:
            caps.append((0.0, Reason.PAUSED_PLAN, ""))
        else:
            # Below the minimum the car charges at the minimum: faster never misses a departure.
            caps.append((max(planned_a, charger.min_current_a), Reason.LIMITED_BY_PLAN, ""))
    if any_lost:
        caps.extend(_meter_loss_caps(cs, index, prev, loads))
    high, reason, detail = min(caps, key=lambda cap: cap[0])
    if high < charger.min_current_a and reason is Reason.MAX_CURRENT:
        reason = Reason.PAUSED_BELOW_MINIMUM
    return Demand(
        mode=mode,
        low=charger.min_current_a,
        high=high,
        high_reason=reason,
        high_detail=detail,
        pool=pool,
        tier=2 * charger.priority + (1 if mode is Mode.FAST else 0),
        options=options,
        up_probe=up_probe,
        car_phases=car_phases,
    )


def _options(
    cs: CompiledSite,
    index: int,
    charger: Charger,
    prev: ChargerState,
    car_phases: tuple[int, ...] | None,
    mode: Mode,
) -> tuple[tuple[Option, ...], Option | None]:
    wiring = charger.wiring
    used = car_phases if car_phases is not None else tuple(range(len(wiring)))
    grid = tuple(sorted(wiring[k] for k in used))
    full = _option(cs, index, len(wiring), grid, charger.min_current_a, mode)
    if not (charger.can_switch_phases and len(used) == 3):
        return (full,), None
    single = _option(cs, index, 1, (wiring[0],), charger.min_current_a, mode)
    if prev.on and prev.phases == 1:
        # Back to three phases only once they have fitted for the phase-switch delay.
        return (single,), full
    return (full, single), None


def _option(
    cs: CompiledSite, index: int, phases: int, grid: tuple[int, ...], low: float, mode: Mode
) -> Option:
    """One way to run the charger (memoized: chargers of one circuit share their options)."""
    pool = _POOLS.get(mode, POOL_NONE)
    pv_min = mode is Mode.PV_MIN
    key = (cs.chains[index][0], phases, grid, pool, low, pv_min)
    found: Option | None = cs.option_cache.get(key)
    if found is not None:
        return found
    members = cs.members(index, grid, pool)
    pv_cid = cs.total_cid(cs.pv_node)
    # The PV surplus is not a hard limit for starting at the minimum: `pv` checks it on its
    # own (a start waits for it), `pv_min` charges its minimum without any (and takes none).
    check = tuple((cid, low * weight - EPS) for cid, weight in members if cid != pv_cid)
    take = tuple((cid, low * weight) for cid, weight in members if not pv_min or cid != pv_cid)
    option = cs.option_cache[key] = Option(phases, grid, members, check, take)
    return option


def _meter_loss_caps(
    cs: CompiledSite, index: int, prev: ChargerState, loads: Loads
) -> list[tuple[float, Reason, str]]:
    caps = []
    for node in cs.chains[index]:
        policy = loads.lost[node]
        if policy is None or policy is MeterLossPolicy.FIXED_BUDGET:
            continue
        if policy is MeterLossPolicy.SAFE_LIMIT:
            amps = cs.site.chargers[index].safe_current_a
        elif policy is MeterLossPolicy.HOLD:
            amps = prev.target_a if prev.on else 0.0
        else:
            amps = 0.0
        caps.append((amps, Reason.METER_LOST, cs.site.circuits[node].label))
    return caps
