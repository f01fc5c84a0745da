"""The event-driven water-filling against a slow, obvious max-min fair reference."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from custom_components.eflux.core.balancing.allocation import FillPlan, water_fill
from custom_components.eflux.core.balancing.topology import Membership
from custom_components.eflux.core.balancing.work import Work

TOL = 1e-6


def reference_fill(members: list[Membership], rooms: list[float], left: list[float]) -> list[float]:
    """Progressive filling step by step: raise everyone not stopped to the next event."""
    n = len(rooms)
    extra = [0.0] * n
    stopped = [room <= 0 for room in rooms]
    level = 0.0
    while not all(stopped):
        events: list[tuple[float, int]] = []
        for cid in range(len(left)):
            moving = sum(w for i in range(n) if not stopped[i] for c, w in members[i] if c == cid)
            if moving == 0:
                continue
            fixed = sum(
                w * extra[i] for i in range(n) if stopped[i] for c, w in members[i] if c == cid
            )
            events.append((max((left[cid] - fixed) / moving, level), cid))
        t_room = min(rooms[i] for i in range(n) if not stopped[i])
        level = min([t_room, *(t for t, _ in events)])
        full = {cid for t, cid in events if t <= level + 1e-12}
        for i in range(n):
            if stopped[i]:
                continue
            if rooms[i] <= level + 1e-12 or any(c in full for c, _ in members[i]):
                extra[i] = min(level, rooms[i])
                stopped[i] = True
    return extra


def work(members: Membership, room: float) -> Work:
    w = Work.__new__(Work)
    w.members, w.room, w.index = members, room, 0
    return w


@st.composite
def fills(draw: st.DrawFn) -> tuple[list[Membership], list[float], list[float]]:
    constraints = draw(st.integers(min_value=1, max_value=6))
    shapes = draw(
        st.lists(
            st.lists(
                st.tuples(st.integers(0, constraints - 1), st.sampled_from([1.0, 2.0, 3.0])),
                min_size=1,
                max_size=4,
                unique_by=lambda m: m[0],
            ).map(tuple),
            min_size=1,
            max_size=4,
        )
    )
    count = draw(st.integers(min_value=1, max_value=10))
    # Chargers picking the same shape share one tuple, as chargers of one circuit do.
    members = [shapes[draw(st.integers(0, len(shapes) - 1))] for _ in range(count)]
    rooms = [draw(st.sampled_from([0.0, 2.0, 4.5, 10.0, 26.0])) for _ in range(count)]
    left = [float(draw(st.integers(min_value=-5, max_value=60))) for _ in range(constraints)]
    return members, rooms, left


@settings(deadline=None, max_examples=300)
@given(case=fills())
def test_water_fill_matches_the_reference(
    case: tuple[list[Membership], list[float], list[float]],
) -> None:
    members, rooms, left = case
    works = [work(m, r) for m, r in zip(members, rooms, strict=True)]
    after = list(left)
    water_fill(works, after)
    expected = reference_fill(members, rooms, left)
    for w, want in zip(works, expected, strict=True):
        assert abs(w.extra - want) < TOL
    for cid in range(len(left)):
        used = sum(w.extra * wt for w in works for c, wt in w.members if c == cid)
        assert abs(after[cid] - (left[cid] - used)) < TOL


@settings(deadline=None, max_examples=200)
@given(
    case=fills(),
    other_left=st.lists(st.integers(min_value=-5, max_value=60), min_size=6, max_size=6),
    change_room=st.booleans(),
)
def test_a_reused_plan_gives_what_a_fresh_one_does(
    case: tuple[list[Membership], list[float], list[float]],
    other_left: list[int],
    change_room: bool,
) -> None:
    """The second pass reuses the first pass's FillPlan (or rebuilds it when a room changed):
    its answer must be the one a pass without any plan gives, to the last bit."""
    members, rooms, left = case
    plans: dict[int, FillPlan] = {}
    first = [work(m, r) for m, r in zip(members, rooms, strict=True)]
    water_fill(first, list(left), plans, 3)
    assert 3 in plans or all(r <= 0 for r in rooms)
    second_rooms = [r + 1.5 if change_room and i == 0 else r for i, r in enumerate(rooms)]
    second_left = [float(v) for v in other_left[: len(left)]]
    reused = [work(m, r) for m, r in zip(members, second_rooms, strict=True)]
    fresh = [work(m, r) for m, r in zip(members, second_rooms, strict=True)]
    after_reused, after_fresh = list(second_left), list(second_left)
    water_fill(reused, after_reused, plans, 3)
    water_fill(fresh, after_fresh)
    assert [(w.extra, w.limited_by) for w in reused] == [(w.extra, w.limited_by) for w in fresh]
    assert after_reused == after_fresh
