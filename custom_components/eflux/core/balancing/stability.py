"""From the ideal allocation to the limit actually given: decrease at once, increase calmly.

The allocator's answer (`raw`) is feasible on its own. A charger's new limit is either `raw`
(a decrease, a start, a phase change) or something between its previous limit and `raw` (an
increase held back by hysteresis, the minimum interval or the ramp). Every charger ends at or
below a feasible allocation, so holding increases back can never overload a circuit.
"""

from __future__ import annotations

import math
from datetime import datetime

from .memo import HeldHit, PassMemo, PausedHit, Settled
from .result import ChargerAllocation, ChargerStatus, Reason
from .site import Tuning
from .state import ChargerState
from .topology import EPS, CompiledSite
from .work import AT_HIGH, Demand, Option, Work

SAMPLES = "waiting for samples after a raise"  # detail of a raise held (balancer._charger_draws)


def settle_admitted(
    cs: CompiledSite, memo: PassMemo, work: Work, now: datetime, tuning: Tuning
) -> Settled:
    prev, option, demand = work.prev, work.option, work.demand
    assert option is not None
    low = demand.low
    steps = math.floor((low + work.extra) / tuning.resolution_a + 1e-6)
    amps = memo.step_amps.get(steps)
    if amps is None:  # round() to 6 digits is slow, and there are only so many steps
        amps = memo.step_amps[steps] = round(steps * tuning.resolution_a, 6)
    raw = low if low > amps else amps
    if (  # the common case on a busy site: charging, and not enough more to change anything
        prev.on
        and prev.target_a <= raw
        and raw - prev.target_a < cs.hold_below_a
        and work.reason is not Reason.PV_STOP_DELAY
        and work.short_since is None
        and work.up_since is None
        and work.over_since == prev.over_since
    ):
        held = _held(cs, memo, work, prev, option, demand)
        if held is not None:
            return held
    if work.reason is Reason.PV_STOP_DELAY:
        reason, detail = Reason.PV_STOP_DELAY, ""
    elif work.limited_by == AT_HIGH:
        reason, detail = demand.high_reason, demand.high_detail
    else:
        reason, detail = cs.limit_reasons[work.limited_by]
    ramp = tuning.ramp_step_a
    changed_at, switched_at = prev.changed_at, prev.switched_at
    wake: datetime | None = None
    ramping = False
    if not prev.on:
        target = raw if ramp is None else min(raw, max(low, ramp))
        changed_at = switched_at = now
        ramping = target < raw - EPS
    elif (
        raw < prev.target_a
        or option.grid_phases != prev.grid_phases
        or option.phases != prev.phases
    ):
        target, changed_at = raw, now
    elif raw - prev.target_a < max(tuning.hysteresis_a - EPS, EPS):
        # Too small a step to be worth a change; with no hysteresis, no step at all (which
        # must not count as a change and restart the minimum interval).
        target = prev.target_a
    elif work.hold_until is not None:
        target, reason, detail = prev.target_a, Reason.INCREASE_HELD, SAMPLES
        wake = work.hold_until
    elif changed_at is not None and now < changed_at + tuning.min_change_interval:
        target, reason, detail = prev.target_a, Reason.INCREASE_HELD, "minimum interval"
        wake = changed_at + tuning.min_change_interval
    else:
        target = raw if ramp is None else min(raw, prev.target_a + ramp)
        changed_at = now
        ramping = target < raw - EPS
    if ramping:  # capped by the ramp step: more to come after the interval
        reason, detail = Reason.RAMPING, ""
        wake = now + tuning.min_change_interval
    if work.short_since is not None:
        wake = _earliest(wake, work.short_since + tuning.stop_delay)
    if work.up_since is not None:
        wake = _earliest(wake, work.up_since + tuning.phase_switch_delay)
    car_phases = work.demand.car_phases
    if (
        prev.on
        and target == prev.target_a
        and changed_at is prev.changed_at
        and option.grid_phases == prev.grid_phases
        and option.phases == prev.phases
        and work.short_since == prev.short_since
        and work.up_since == prev.up_since
        and car_phases == prev.car_phases
        and work.over_since == prev.over_since
    ):
        state = prev  # nothing changed: keep the very same object
    else:
        state = ChargerState(
            on=True,
            target_a=target,
            phases=option.phases,
            grid_phases=option.grid_phases,
            changed_at=changed_at,
            switched_at=switched_at,
            was_on=True,
            ready_since=None,
            short_since=work.short_since,
            up_since=work.up_since,
            car_phases=car_phases,
            raised_at=now if target > prev.target_a else prev.raised_at,
            over_since=work.over_since,
            owed_turn=prev.owed_turn if prev.on else work.owed,
            prior_target_a=(
                prev.prior_target_a
                if changed_at is prev.changed_at
                else (prev.target_a if prev.on else 0.0)
            ),
        )
    charging = ChargerStatus.CHARGING
    allocation = ChargerAllocation(
        work.ident, target, option.phases, option.grid_phases, charging, reason, detail
    )
    return allocation, state, wake


def _held(
    cs: CompiledSite, memo: PassMemo, work: Work, prev: ChargerState, option: Option, demand: Demand
) -> Settled | None:
    """The answer when a charging car keeps its limit (what the general path of
    `settle_admitted` gives then, without its bookkeeping); None when something else changed.

    It depends on nothing but `prev`, `option`, `demand` and `limited_by`, so the answer of the
    last pass is handed out again while those are the very same (see `PassMemo.held`)."""
    limited_by = work.limited_by
    hit = memo.held[work.index]
    if (
        hit is not None
        and hit.prev is prev
        and hit.option is option
        and hit.demand is demand
        and hit.limited_by == limited_by
    ):
        return hit.settled
    if not (
        prev.short_since is None
        and prev.up_since is None
        and option.grid_phases == prev.grid_phases
        and option.phases == prev.phases
        and demand.car_phases == prev.car_phases
    ):
        return None
    if limited_by == AT_HIGH:
        reason, detail = demand.high_reason, demand.high_detail
    else:
        reason, detail = cs.limit_reasons[limited_by]
    allocation = ChargerAllocation(
        work.ident,
        prev.target_a,
        option.phases,
        option.grid_phases,
        ChargerStatus.CHARGING,
        reason,
        detail,
    )
    settled = (allocation, prev, None)
    memo.held[work.index] = HeldHit(prev, option, demand, limited_by, settled)
    return settled


def settle_paused(
    cs: CompiledSite,
    memo: PassMemo,
    work: Work,
    reason: Reason,
    detail: str,
    now: datetime,
    tuning: Tuning,
) -> Settled:
    prev, ready_since, car_phases = work.prev, work.ready_since, work.demand.car_phases
    over_since = work.over_since
    unchanged = (
        not prev.on
        and prev.ready_since == ready_since
        and prev.car_phases == car_phases
        and prev.over_since == over_since
        and reason is not Reason.INCREASE_HELD  # its wake moves with the samples
    )
    if unchanged:  # the state stays `prev`: the answer of the last pass still holds
        hit = memo.paused[work.index]
        if hit is not None and hit.prev is prev and hit.reason is reason and hit.detail == detail:
            return hit.settled
    waiting = reason is Reason.WAITING_START_DELAY
    wake = ready_since + tuning.start_delay if waiting and ready_since else None
    if reason is Reason.INCREASE_HELD:
        wake = work.hold_until
    state = pause_state(prev, now, ready_since, car_phases, over_since)
    status = ChargerStatus.WAITING if waiting else ChargerStatus.PAUSED
    settled = ChargerAllocation(work.ident, 0.0, 0, (), status, reason, detail), state, wake
    if unchanged:
        memo.paused[work.index] = PausedHit(prev, reason, detail, settled)
    return settled


def pause_state(
    prev: ChargerState,
    now: datetime,
    ready_since: datetime | None = None,
    car_phases: tuple[int, ...] | None = None,
    over_since: datetime | None = None,
) -> ChargerState:
    if (
        not prev.on
        and prev.ready_since == ready_since
        and prev.car_phases == car_phases
        and prev.over_since == over_since
    ):
        return prev
    return ChargerState(
        on=False,
        changed_at=now if prev.on else prev.changed_at,
        prior_target_a=prev.target_a if prev.on else prev.prior_target_a,
        switched_at=now if prev.on else prev.switched_at,
        was_on=prev.was_on,
        ready_since=ready_since,
        car_phases=car_phases,
        raised_at=prev.raised_at,
        over_since=over_since,
    )


def _earliest(a: datetime | None, b: datetime) -> datetime:
    return b if a is None or b < a else a
