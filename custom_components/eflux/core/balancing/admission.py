"""Who charges: order the chargers, then admit each at its minimum current while it fits.

Order: priority, then `fast` before the other modes, then turns: chargers owed a turn (paused for
`max_wait`, the longest waiting first: no car starves behind urgent ones, nor behind its own plan),
then chargers still within their turn
(charging for less than the rotation interval), then those waiting for a turn (new sessions, and
chargers paused for at least a rotation interval), then chargers whose turn is over, then those
paused only recently; within each, urgency (energy needed per hour left), then who has waited
longest. So when not all fit at 6 A, the paused ones take turns of one rotation interval. The
first one waiting that does not fit has its minimum reserved: nobody behind it starts in its
place, and chargers whose turn is over yield to it, until it fits (no starvation of a
three-phase car among single-phase ones).

A charger that does not fit is paused at once (that is the protection path); a pause that only
the PV surplus asks for waits for the stop delay, and a restart after a pause (or any `pv` start)
waits for the start delay, so contactors are not cycled.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from .result import Reason
from .site import Mode, Tuning
from .stability import SAMPLES
from .topology import EPS, CompiledSite
from .work import Option, Work


def admit_all(
    cs: CompiledSite, works: Sequence[Work], left: list[float], now: datetime, tuning: Tuning
) -> None:
    """Admit `works` (already in order) at their minimum; updates `left` and each work.

    In each tier, the first charger waiting for a turn that does not fit keeps its minimum
    reserved from the chargers after it in that tier (so single-phase cars cannot fill the
    phases one by one ahead of a three-phase car for ever), if it would fit beside the higher
    tiers at all. The reservation is given back before the next tier and at the end."""
    reserved: Sequence[tuple[int, float]] = ()
    held: dict[int, float] = {}  # the reservation by constraint
    head = ""
    tier = None
    tier_left: list[float] = left
    pv_cid = cs.total_cid(cs.pv_node)
    start_cutoff = now - tuning.start_delay
    stop_cutoff = now - tuning.stop_delay
    switch_cutoff = now - tuning.phase_switch_delay
    for work in works:
        demand, prev = work.demand, work.prev
        if demand.tier != tier:
            _give_back(reserved, left)
            reserved, tier = (), demand.tier
            tier_left = left.copy()
        needs_pool = demand.mode is Mode.PV
        options: Sequence[Option] = demand.options
        probe = demand.up_probe
        if probe is not None and _fits(left, probe, demand.low, pv_cid if needs_pool else -1):
            work.up_since = prev.up_since or now
            if work.up_since <= switch_cutoff:
                options = (probe, *options)
        chosen: Option | None = None
        hard_only: Option | None = None
        fail = -1
        for option in options:
            for cid, threshold in option.check:  # runs for every charger: kept inline
                if left[cid] < threshold:
                    if fail < 0:
                        fail = cid
                    break
            else:
                if needs_pool and left[pv_cid] < demand.low * len(option.grid_phases) - EPS:
                    hard_only = hard_only or option
                else:
                    chosen = option
                    break
        if chosen is None and hard_only is None:
            turn_over = prev.on and work.key[1] == 2
            work.reason = Reason.PAUSED_ROTATION if turn_over else Reason.PAUSED_NO_CAPACITY
            work.detail = cs.labels[fail]
            if reserved:
                if not turn_over and _fits_without(left, held, options):
                    work.reason, work.detail = Reason.PAUSED_NEXT_IN_LINE, head
            elif work.key[1] in (-1, 1) and options:  # owed or waiting for a turn
                first = options[0]
                if all(tier_left[cid] >= threshold for cid, threshold in first.check):
                    reserved, head = first.take, cs.site.chargers[work.index].label
                    held = dict(reserved)
                    for cid, amps in reserved:
                        left[cid] -= amps
            continue
        if chosen is None:
            assert hard_only is not None
            if prev.on:
                work.short_since = prev.short_since or now
                if work.short_since > stop_cutoff:
                    _take(work, hard_only, left)
                    work.room = 0.0
                    work.reason = Reason.PV_STOP_DELAY
                    continue
            work.reason = Reason.PAUSED_NO_PV
            continue
        if not prev.on and work.hold_until is not None:
            work.reason, work.detail = Reason.INCREASE_HELD, SAMPLES
            continue
        if not prev.on and (prev.was_on or needs_pool):
            work.ready_since = prev.ready_since or now
            if work.ready_since > start_cutoff:
                work.reason = Reason.WAITING_START_DELAY
                continue
        _take(work, chosen, left)
    _give_back(reserved, left)


def _give_back(reserved: Sequence[tuple[int, float]], left: list[float]) -> None:
    for cid, amps in reserved:
        left[cid] += amps


def _fits_without(left: list[float], held: dict[int, float], options: Sequence[Option]) -> bool:
    """Whether one of `options` would fit if nothing were `held` (most fail at once on a
    constraint the reservation does not touch)."""
    for option in options:
        for cid, threshold in option.check:
            if left[cid] < threshold and left[cid] + held.get(cid, 0.0) < threshold:
                break
        else:
            return True
    return False


def _fits(left: list[float], option: Option, low: float, pool: int) -> bool:
    if any(left[cid] < threshold for cid, threshold in option.check):
        return False
    return pool < 0 or left[pool] >= low * len(option.grid_phases) - EPS


def _take(work: Work, option: Option, left: list[float]) -> None:
    work.admitted = True
    work.option = option
    work.members = option.members
    for cid, amps in option.take:
        left[cid] -= amps
    high, low = work.demand.high, work.demand.low
    work.room = high - low if high > low else 0.0
