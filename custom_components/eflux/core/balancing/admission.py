"""Who charges: order the chargers, then admit each at its minimum current while it fits.

Order: priority, then `fast` before the other modes, then turns: chargers still within their turn
(charging for less than the rotation interval), then those waiting for a turn (first those owed
one, paused for `max_wait`, the longest waiting first whatever their urgency: no car starves
behind urgent ones, nor behind its own plan; then new sessions, and chargers paused for at least
a rotation interval), then chargers whose turn is over, then those paused only recently; within
each, urgency (energy needed per hour left), then who has waited
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
    head_group, head_owed = 1.0, False  # the head's turn group, whether it is owed a turn
    tier = None
    tier_left: list[float] = left
    # Admitted at their minimum in this tier on fewer than three phases, by turn group: the
    # ones a charger on more phases could displace.
    taken: dict[float, list[Work]] = {}
    short: list[Work] = []  # paused for capacity in this tier (a displacement may let them in)
    pv_cid = cs.total_cid(cs.pv_node)
    start_cutoff = now - tuning.start_delay
    stop_cutoff = now - tuning.stop_delay
    switch_cutoff = now - tuning.phase_switch_delay
    for work in works:
        demand, prev = work.demand, work.prev
        if demand.tier != tier:
            _give_back(reserved, left)
            reserved, tier = (), demand.tier
            taken, short = {}, []
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
        swapped = False
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
        if (
            chosen is None
            and hard_only is None
            and not needs_pool
            and any(len(option.grid_phases) > 1 for option in options)  # a 1p car displaces none
            and work.key[1] in taken
            and (not reserved or (head_group >= work.key[1] and (work.owed or not head_owed)))
        ):
            # A reservation (its head could not start now anyway) yields to a charger of a
            # group as early that gives more power than the chargers it displaces; one owed
            # a turn keeps its reservation from the others.
            _give_back(reserved, left)
            swap = _displace(taken[work.key[1]], work, options, left)
            if swap is None:
                _give_back(reserved, left, -1.0)  # held again
            else:
                reserved = ()
                held = {}
                displaced, chosen = swap
                swapped = True
                for out in displaced:
                    taken[work.key[1]].remove(out)
                    _give_back(out.option.take if out.option is not None else (), left)
                    out.admitted = False
                    out.reason, out.detail = Reason.PAUSED_NO_CAPACITY, cs.labels[fail]
                    short.append(out)
        if chosen is None and hard_only is None:
            turn_over = prev.on and work.key[1] == 2
            work.reason = Reason.PAUSED_ROTATION if turn_over else Reason.PAUSED_NO_CAPACITY
            work.detail = cs.labels[fail]
            if not turn_over and not needs_pool:
                short.append(work)
            if reserved:
                if not turn_over and _fits_without(left, held, options):
                    work.reason, work.detail = Reason.PAUSED_NEXT_IN_LINE, head
            elif work.key[1] == 1 and options:  # waiting for a turn (owed ones first)
                first = options[0]
                if all(tier_left[cid] >= threshold for cid, threshold in first.check):
                    reserved, head = first.take, cs.site.chargers[work.index].label
                    head_group, head_owed = work.key[1], work.owed
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
        # A car that fits but may not start yet keeps its minimum out of `left` (not given
        # back: nobody is raised into its room meanwhile, so it starts without a decrease of
        # the others, and their raises do not renew the hold on it for ever).
        if not prev.on and work.hold_until is not None:
            work.reason, work.detail = Reason.INCREASE_HELD, SAMPLES
            work.ready_since = prev.ready_since  # its start delay runs on meanwhile
            if not needs_pool:
                _give_back(chosen.take, left, -1.0)
            continue
        if not prev.on and (prev.was_on or needs_pool):
            work.ready_since = prev.ready_since or now
            if work.ready_since > start_cutoff:
                work.reason = Reason.WAITING_START_DELAY
                if not needs_pool:
                    _give_back(chosen.take, left, -1.0)
                continue
        _take(work, chosen, left)
        if not needs_pool:
            _taken(taken, work)
        if swapped:  # the room it left may let in a charger that did not fit before
            for other in [w for w in short if _startable(w)]:
                for option in other.demand.options:
                    if all(left[cid] >= limit for cid, limit in option.check):
                        _take(other, option, left)
                        _taken(taken, other)
                        short.remove(other)
                        break
    _give_back(reserved, left)


def _taken(taken: dict[float, list[Work]], work: Work) -> None:
    """Note an admitted charger on fewer than three phases (see `admit_all`)."""
    if work.option is not None and len(work.option.grid_phases) < 3:
        group = work.key[1]
        if group in taken:
            taken[group].append(work)
        else:
            taken[group] = [work]


def _startable(work: Work) -> bool:
    """Whether `work` may run in this pass as soon as it fits (no delay, no hold on a start)."""
    prev = work.prev
    return prev.on or (work.hold_until is None and not prev.was_on)


def _displace(
    taken: Sequence[Work], work: Work, options: Sequence[Option], left: list[float]
) -> tuple[list[Work], Option] | None:
    """Chargers on fewer phases, admitted before `work` in its turn group, whose places give
    `work` more power: without them `work` fits at its minimum, on more amp-phases at the
    minimum than they had together and at least as many at the maximum (single-phase cars
    first in line do not keep a three-phase car out: an amp on the binding phase is worth three
    times the power there). For each phase or circuit where `work` is short, the ones giving
    the least power go first (the last admitted among equals). None if no such set. Only within
    one group (all running or all waiting), so turns still rotate, and a car owed a turn only by
    another one; never when `work` could not start in this pass anyway (a start delay or a
    held increase)."""
    demand = work.demand
    if not _startable(work):
        return None
    peers = [  # a car owed a turn is displaced by none but another owed one
        w for w in reversed(taken) if w.option is not None and (work.owed or not w.owed)
    ]
    if not peers:
        return None
    peers.sort(key=_low_power)  # stable: the last admitted first among equals
    for option in options:
        width = len(option.grid_phases)
        gain_low, gain_high = demand.low * width, demand.high * width
        out: list[Work] = []
        freed: dict[int, float] = {}
        lost_low = lost_high = 0.0
        for cid, limit in option.check:
            for peer in peers:
                if left[cid] + freed.get(cid, 0.0) >= limit:
                    break
                if peer in out or peer.option is None or len(peer.option.grid_phases) >= width:
                    continue
                take = dict(peer.option.take)
                if cid not in take:
                    continue
                out.append(peer)
                for c, amps in take.items():
                    freed[c] = freed.get(c, 0.0) + amps
                lost_low += _low_power(peer)
                # at most what the short constraint would have left it
                low = peer.demand.low
                bound = (left[cid] + freed[cid]) * low / take[cid] if take[cid] > EPS else low
                lost_high += min(peer.demand.high, bound) * len(peer.option.grid_phases)
            if left[cid] + freed.get(cid, 0.0) < limit or gain_low <= lost_low + EPS:
                break
        else:
            if out and gain_high >= lost_high - EPS:
                return out, option
    return None


def _low_power(work: Work) -> float:
    """Amp-phases of an admitted charger at its minimum."""
    return work.demand.low * len(work.option.grid_phases) if work.option is not None else 0.0


def _give_back(reserved: Sequence[tuple[int, float]], left: list[float], sign: float = 1.0) -> None:
    for cid, amps in reserved:
        left[cid] += sign * amps


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
