"""The arithmetic of sharing: capacity checks and max-min fair water-filling over constraints.

`left[cid]` is the capacity still free on a constraint (see `topology` for the ids). Chargers are
first admitted at their minimum (see `admission`), then raised together: within a tier every
charger gets the same extra amps above its minimum until a constraint it loads is full or it
reaches its own maximum. Events (a constraint filling up, a charger reaching its maximum) are
taken from a heap, so a pass costs O(memberships · log constraints), not a scan per step.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence

from .topology import Membership
from .work import AT_HIGH, Work

EPS = 1e-9


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


def water_fill(tier: Sequence[Work], left: list[float]) -> None:
    """Raise the admitted chargers of one tier above their minimum, fairly; updates `left`.

    Sets `extra` (amps above the minimum) and `limited_by` (a constraint id, or AT_HIGH)."""
    slope: dict[int, float] = {}
    users: dict[int, list[Work]] = {}
    active: list[Work] = []
    for work in tier:
        work.extra = 0.0
        work.frozen = work.room <= EPS
        if work.frozen:
            work.limited_by = AT_HIGH
            continue
        active.append(work)
        for cid, weight in work.members:
            if cid in slope:
                slope[cid] += weight
                users[cid].append(work)
            else:
                slope[cid] = weight
                users[cid] = [work]
    if not active:
        return
    since = dict.fromkeys(slope, 0.0)  # time (in extra amps) at which left[cid] was last settled
    version = dict.fromkeys(slope, 0)
    heap = [(max(left[cid], 0.0) / s, cid, 0) for cid, s in slope.items()]
    heapq.heapify(heap)
    by_room = sorted(active, key=_room)
    next_cap, remaining = 0, len(active)
    while remaining:
        while heap and heap[0][2] != version[heap[0][1]]:
            heapq.heappop(heap)
        t_full = heap[0][0] if heap else math.inf
        while next_cap < len(by_room) and by_room[next_cap].frozen:
            next_cap += 1
        t_high = by_room[next_cap].room if next_cap < len(by_room) else math.inf
        if t_high <= t_full:
            now, limit = t_high, AT_HIGH
            batch = []
            while next_cap < len(by_room) and by_room[next_cap].room <= now + EPS:
                if not by_room[next_cap].frozen:
                    batch.append(by_room[next_cap])
                next_cap += 1
        else:
            now, limit, _ = heapq.heappop(heap)
            batch = [work for work in users[limit] if not work.frozen]
        touched: set[int] = set()
        for work in batch:
            work.frozen = True
            work.extra = min(now, work.room)
            work.limited_by = limit
            remaining -= 1
            for cid, weight in work.members:
                s = slope[cid]
                left[cid] -= s * (now - since[cid])
                since[cid] = now
                slope[cid] = s - weight
                touched.add(cid)
        for cid in touched:
            version[cid] += 1
            s = slope[cid]
            if s > EPS:
                heapq.heappush(heap, (now + max(left[cid], 0.0) / s, cid, version[cid]))


def _room(work: Work) -> float:
    return work.room
