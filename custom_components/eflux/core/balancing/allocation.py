"""Max-min fair water-filling over constraints: the arithmetic of sharing above the minimum.

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

from .topology import EPS, Membership
from .work import AT_HIGH, Work


class FillPlan:
    """Who shares which constraints in one tier: cohorts (positions in the tier with the same
    membership tuple), which cohorts load each constraint, and the starting slopes.

    It depends only on the tier's chargers, their memberships and rooms, not on the capacities
    left, so a pass reuses the previous pass's plan while its `signature` still matches: on a
    busy site the same chargers are admitted the same way pass after pass."""

    __slots__ = ("by_room", "cohort_of", "cohorts", "signature", "slope", "users")

    def __init__(
        self, tier: Sequence[Work], signature: list[tuple[int, Membership, float]], size: int
    ) -> None:
        self.signature = signature
        by_members: dict[int, int] = {}  # id(membership) -> cohort number
        self.cohort_of = [-1] * len(tier)  # per position: its cohort number (-1: frozen)
        self.cohorts: list[tuple[Membership, list[int]]] = []
        moving: list[int] = []  # per cohort: its chargers that have room to rise
        for position, work in enumerate(tier):
            if work.frozen:
                continue
            number = by_members.get(id(work.members))
            if number is None:
                number = by_members[id(work.members)] = len(self.cohorts)
                self.cohorts.append((work.members, []))
                moving.append(0)
            self.cohorts[number][1].append(position)
            self.cohort_of[position] = number
            moving[number] += 1
        self.slope = [0.0] * size
        self.users: dict[int, list[int]] = {}
        for number, (members, _) in enumerate(self.cohorts):
            for cid, weight in members:
                self.slope[cid] += weight * moving[number]
                if cid in self.users:
                    self.users[cid].append(number)
                else:
                    self.users[cid] = [number]
        active = [p for p, work in enumerate(tier) if not work.frozen]
        self.by_room = sorted(active, key=lambda p: tier[p].room)


def water_fill(
    tier: Sequence[Work], left: list[float], plans: dict[int, FillPlan] | None = None, key: int = 0
) -> None:
    """Raise the admitted chargers of one tier above their minimum, fairly; updates `left`.

    Sets `extra` (amps above the minimum) and `limited_by` (a constraint id, or AT_HIGH).
    `plans` keeps each tier's `FillPlan` (by `key`) for the next pass."""
    signature: list[tuple[int, Membership, float]] = []
    moving_any = False
    for work in tier:
        work.extra = 0.0
        work.limited_by = AT_HIGH
        room = work.room
        work.frozen = frozen_now = room <= EPS
        moving_any = moving_any or not frozen_now
        signature.append((work.index, work.members, room))
    if not moving_any:
        return
    plan = plans.get(key) if plans is not None else None
    if plan is None or plan.signature != signature:
        plan = FillPlan(tier, signature, len(left))
        if plans is not None:
            plans[key] = plan
    # While every moving charger has the same extra `t`, a constraint's free capacity is
    # left[cid] - frozen[cid] - slope[cid] * t: it fills at t = (left - frozen) / slope. Slopes
    # only fall as chargers stop, so a time in the heap is never late: popped, it is checked
    # against the current slope and pushed back if the constraint now fills later.
    cohorts, users = plan.cohorts, plan.users
    slope = plan.slope.copy()
    frozen = [0.0] * len(left)  # extra amps given to stopped chargers, per constraint
    heap = [(max(left[cid], 0.0) / slope[cid], cid) for cid in users]
    heapq.heapify(heap)
    order, cohort_of = plan.by_room, plan.cohort_of
    by_room = [tier[p] for p in order]
    next_high, remaining, now = 0, len(by_room), 0.0
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
        stopped: dict[int, list[float]] = {}  # cohort number -> [works stopped, their extra]
        if t_high <= t_full:  # chargers reach their own maximum
            now = t_high
            while next_high < len(by_room) and by_room[next_high].room <= now + EPS:
                work, position = by_room[next_high], order[next_high]
                next_high += 1
                if not work.frozen:
                    work.frozen, work.extra, work.limited_by = True, work.room, AT_HIGH
                    entry = stopped.setdefault(cohort_of[position], [0.0, 0.0])
                    entry[0] += 1
                    entry[1] += work.room
        else:  # a constraint is full: everyone still rising through it stops
            now = max(t_full, now)
            heapq.heappop(heap)
            for number in users[full]:
                count, total = 0.0, 0.0
                for position in cohorts[number][1]:
                    work = tier[position]
                    if not work.frozen:
                        room = work.room
                        extra = now if now < room else room
                        work.frozen, work.extra, work.limited_by = True, extra, full
                        count += 1
                        total += extra
                if count:
                    stopped[number] = [count, total]
        for count, _ in stopped.values():
            remaining -= int(count)
        last = remaining == 0  # no event is left to look at the slopes
        for number, (count, total) in stopped.items():
            for cid, weight in cohorts[number][0]:
                if not last:
                    slope[cid] -= weight * count
                frozen[cid] += weight * total
    for cid in users:
        left[cid] -= frozen[cid]
