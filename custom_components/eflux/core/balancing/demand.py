"""What each charger asks for in this pass: its bounds, its phases and the pool it draws from."""

from __future__ import annotations

from typing import NamedTuple

from .household import Loads
from .inputs import ChargerInput
from .memo import PassMemo
from .result import Reason
from .site import Charger, MeterLossPolicy, Mode, Tuning
from .state import ChargerState
from .topology import EPS, POOL_NONE, POOL_PV, POOL_STATIC, CompiledSite
from .work import Demand, Option

_POOLS = {Mode.STATIC: POOL_STATIC, Mode.PV: POOL_PV, Mode.PV_MIN: POOL_PV}
# Modes whose cars are owed a turn after `Tuning.max_wait` (pv waits for the sun, by choice).
TAKES_TURNS = frozenset({Mode.FAST, Mode.STATIC, Mode.DYNAMIC, Mode.SMART})


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


class Ranking(NamedTuple):
    """What a pass ranks every charger against (balancer._rank, demand_for)."""

    cs: CompiledSite
    memo: PassMemo
    loads: Loads
    any_lost: bool  # a meter is silent: the demands of this pass are not kept
    now_ts: float


def demand_for(
    ranking: Ranking,
    index: int,
    inp: ChargerInput,
    prev: ChargerState,
    mode: Mode,
    *,
    owed: bool = False,
) -> Demand:
    """What the charger asks for in this pass (balancer._rank keeps it, with the charger's
    `Work`, while the input and state are the very same objects). A charger `owed` a turn
    charges at least its minimum even when its plan says later."""
    cs = ranking.cs
    site = cs.site
    charger = site.chargers[index]
    car_phases = detect_car_phases(charger, inp, prev, site.tuning)
    pool = _POOLS.get(mode, POOL_NONE)
    options, up_probe = _options(cs, ranking.memo, index, charger, prev, car_phases, mode)
    caps: list[tuple[float, Reason, str]] = [(charger.max_current_a, Reason.MAX_CURRENT, "")]
    if inp.limit_a is not None:
        caps.append((inp.limit_a, Reason.MAX_CURRENT, "limit"))
    if mode is Mode.SMART and inp.planned_w is not None:
        planned_a = inp.planned_w / (site.voltage_v * len(options[0].grid_phases))
        if planned_a <= 0 and owed and not inp.waits_for_price:
            caps.append((charger.min_current_a, Reason.TURN_OWED, ""))
        elif planned_a <= 0:
            caps.append((0.0, Reason.PAUSED_PLAN, ""))
        else:
            # Below the minimum the car charges at the minimum: faster never misses a departure.
            caps.append((max(planned_a, charger.min_current_a), Reason.LIMITED_BY_PLAN, ""))
    if ranking.any_lost:
        caps.extend(_meter_loss_caps(cs, index, prev, ranking.loads))
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
    memo: PassMemo,
    index: int,
    charger: Charger,
    prev: ChargerState,
    car_phases: tuple[int, ...] | None,
    mode: Mode,
) -> tuple[tuple[Option, ...], Option | None]:
    wiring = charger.wiring
    used = car_phases if car_phases is not None else tuple(range(len(wiring)))
    grid = tuple(sorted(wiring[k] for k in used))
    full = _option(cs, memo, index, len(wiring), grid, charger.min_current_a, mode)
    if not (charger.can_switch_phases and len(used) == 3):
        return (full,), None
    single = _option(cs, memo, index, 1, (wiring[0],), charger.min_current_a, mode)
    if prev.on and prev.phases == 1:
        # Back to three phases only once they have fitted for the phase-switch delay.
        return (single,), full
    return (full, single), None


def _option(
    cs: CompiledSite,
    memo: PassMemo,
    index: int,
    phases: int,
    grid: tuple[int, ...],
    low: float,
    mode: Mode,
) -> Option:
    """One way to run the charger (kept in `PassMemo.options`: chargers of one circuit share
    their options)."""
    pool = _POOLS.get(mode, POOL_NONE)
    pv_min = mode is Mode.PV_MIN
    key = (cs.chains[index][0], phases, grid, pool, low, pv_min)
    found = memo.options.get(key)
    if found is not None:
        return found
    shared = (cs.chains[index][0], grid, pool)
    members = memo.members.get(shared)
    if members is None:
        members = memo.members[shared] = cs.members(index, grid, pool)
    pv_cid = cs.total_cid(cs.pv_node)
    # The PV surplus is not a hard limit for starting at the minimum: `pv` checks it on its
    # own (a start waits for it), `pv_min` charges its minimum without any (and takes none).
    check = tuple((cid, low * weight - EPS) for cid, weight in members if cid != pv_cid)
    take = tuple((cid, low * weight) for cid, weight in members if not pv_min or cid != pv_cid)
    option = memo.options[key] = Option(phases, grid, members, check, take)
    return option


def _meter_loss_caps(
    cs: CompiledSite, index: int, prev: ChargerState, loads: Loads
) -> list[tuple[float, Reason, str]]:
    """Below a silent meter nothing starts and nothing rises (the household may have grown
    unseen); the policy may lower further. Its budget (household.site_loads) caps the sum."""
    caps = []
    held = prev.target_a if prev.on else 0.0
    for node in cs.chains[index]:
        policy = loads.lost[node]
        if policy is None:
            continue
        if policy is MeterLossPolicy.SAFE_LIMIT:
            amps = min(cs.site.chargers[index].safe_current_a, held)
        elif policy is MeterLossPolicy.STOP:
            amps = 0.0
        else:  # hold, fixed_budget
            amps = held
        caps.append((amps, Reason.METER_LOST, cs.site.circuits[node].label))
    return caps
