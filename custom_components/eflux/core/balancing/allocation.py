"""The arithmetic of sharing: capacity checks and max-min fair water-filling over constraints.

`left[cid]` is the capacity still free on a constraint (see `topology` for the ids). Chargers are
first admitted at their minimum (see `admission`), then raised together: within a tier every
charger gets the same extra amps above its minimum until a constraint it loads is full or it
reaches its own maximum. Events (a constraint filling up, chargers reaching their maximum) come
from a heap, and chargers that load the same constraints (same circuit, phases and pool: they
share one membership tuple) move as one cohort, so a pass costs O(cohorts · depth · log), not a
scan of every charger per step.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from operator import attrgetter

from .topology import Membership
from .work import AT_HIGH, Work

EPS = 1e-9
_ROOM = attrgetter("room")


def first_failure(left: list[float], members: Membership, amps: float, skip: int = -1) -> int:
    """The first constraint that cannot take `amps` more, or -1 when all can."""
    for cid, weight in members:
        if cid != skip and left[cid] < amps * weight - EPS:
            return cid
    return -1


def reserve(left: list[float], members: Membership, amps: float, skip: int = -1) -> None:
    for cid, weight in members:
        if cid != skip:
            left[cid] -= amps * weight


class _Cohort:
    __slots__ = ("members", "moving", "works")

    def __init__(self, members: Membership) -> None:
        self.members = members
        self.works: list[Work] = []
        self.moving = 0  # works not frozen yet


def water_fill(tier: Sequence[Work], left: list[float]) -> None:
    """Raise the admitted chargers of one tier above their minimum, fairly; updates `left`.

    Sets `extra` (amps above the minimum) and `limited_by` (a constraint id, or AT_HIGH)."""
    cohorts: dict[int, _Cohort] = {}
    active: list[Work] = []
    for work in tier:
        work.extra = 0.0
        work.limited_by = AT_HIGH
        work.frozen = work.room <= EPS
        if not work.frozen:
            active.append(work)
            cohort = cohorts.get(id(work.members))
            if cohort is None:
                cohort = cohorts[id(work.members)] = _Cohort(work.members)
            cohort.works.append(work)
            cohort.moving += 1
    if not active:
        return
    # While every moving charger has the same extra `t`, a constraint's free capacity is
    # left[cid] - frozen[cid] - slope[cid] * t: it fills at t = (left - frozen) / slope. Slopes
    # only fall as chargers stop, so a time in the heap is never late: popped, it is checked
    # against the current slope and pushed back if the constraint now fills later.
    size = len(left)
    slope = [0.0] * size
    frozen = [0.0] * size  # extra amps given to stopped chargers, per constraint
    users: dict[int, list[_Cohort]] = {}
    for cohort in cohorts.values():
        moving = cohort.moving
        for cid, weight in cohort.members:
            slope[cid] += weight * moving
            if cid in users:
                users[cid].append(cohort)
            else:
                users[cid] = [cohort]
    heap = [(max(left[cid], 0.0) / slope[cid], cid) for cid in users]
    heapq.heapify(heap)
    by_room = sorted(active, key=_ROOM)
    next_high, remaining, now = 0, len(active), 0.0
    while remaining:
        t_full, full = math.inf, -1
        while heap:
            t_full, full = heap[0]
            s = slope[full]
            if s <= EPS:
                heapq.heappop(heap)
                t_full, full = math.inf, -1
                continue
            due = max((left[full] - frozen[full]) / s, now)
            if due <= t_full + EPS:
                break
            heapq.heapreplace(heap, (due, full))
        while next_high < len(by_room) and by_room[next_high].frozen:
            next_high += 1
        t_high = by_room[next_high].room if next_high < len(by_room) else math.inf
        stopped: dict[int, list[float]] = {}  # id(members) -> [works stopped, their extra]
        if t_high <= t_full:  # chargers reach their own maximum
            now = t_high
            while next_high < len(by_room) and by_room[next_high].room <= now + EPS:
                work = by_room[next_high]
                next_high += 1
                if not work.frozen:
                    work.frozen, work.extra, work.limited_by = True, work.room, AT_HIGH
                    entry = stopped.setdefault(id(work.members), [0.0, 0.0])
                    entry[0] += 1
                    entry[1] += work.room
        else:  # a constraint is full: everyone still rising through it stops
            now = max(t_full, now)
            heapq.heappop(heap)
            for cohort in users[full]:
                count, total = 0.0, 0.0
                for work in cohort.works:
                    if not work.frozen:
                        room = work.room
                        extra = now if now < room else room
                        work.frozen, work.extra, work.limited_by = True, extra, full
                        count += 1
                        total += extra
                if count:
                    stopped[id(cohort.members)] = [count, total]
        for key, (count, total) in stopped.items():
            cohort = cohorts[key]
            cohort.moving -= int(count)
            remaining -= int(count)
            for cid, weight in cohort.members:
                slope[cid] -= weight * count
                frozen[cid] += weight * total
    for cid in users:
        left[cid] -= frozen[cid]
