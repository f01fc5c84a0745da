"""Energy from cars to time slots as a flow: exact, with re-routing when a greedy choice blocks.

Cars on one side (each wants some energy), slots on the other (each holds `capacity` kWh), and an
edge car → slot when the car is still parked then, carrying at most its power times the slot length.
Every car can be served exactly when the maximum flow equals the sum of the wants. Flow is added
by augmenting paths (car → slot ← other car → other slot ...), so energy already placed is moved
out of the way when that lets one more kWh in; what a slot or a car already carries never drops.
That monotony is what makes the two greedy passes in `planner` exact.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

EPS = 1e-9


class Network:
    def __init__(self, edge_caps: Sequence[Sequence[float]], slot_caps: Sequence[float]) -> None:
        self.edge_caps = edge_caps  # [car][slot], kWh
        self.slot_caps = slot_caps  # [slot], kWh
        self.cars = len(edge_caps)
        self.slots = len(slot_caps)
        self.flow = [[0.0] * self.slots for _ in range(self.cars)]
        self.load = [0.0] * self.slots  # per slot
        self.given = [0.0] * self.cars  # per car

    def fill_car(self, car: int, want: float, usable: Sequence[bool]) -> float:
        """Give `car` up to `want` more kWh in usable slots; returns what it got."""
        got = 0.0
        caps = self.edge_caps[car]
        for slot in range(self.slots):  # the direct way first: cheap and usually enough
            if got >= want - EPS:
                return got
            if usable[slot]:
                got += self._push_direct(car, slot, want - got, caps)
        wants = [0.0] * self.cars
        while got < want - EPS:
            wants[car] = want - got
            pushed, _ = self._augment([car], wants, usable, target=-1)
            if pushed <= EPS:
                break
            got += pushed
        return got

    def fill_slot(
        self, slot: int, wants: list[float], order: Sequence[int], usable: Sequence[bool]
    ) -> None:
        """Put as much as possible into `slot` from cars still wanting (in `order`), moving energy
        between usable slots where that makes room; `wants` is lowered by what each car got."""
        for car in order:
            if wants[car] > EPS:
                wants[car] -= self._push_direct(car, slot, wants[car], self.edge_caps[car])
        while self.slot_caps[slot] - self.load[slot] > EPS:
            starts = [car for car in order if wants[car] > EPS]
            if not starts:
                return
            pushed, start = self._augment(starts, wants, usable, target=slot)
            if pushed <= EPS:
                return
            wants[start] -= pushed

    def _push_direct(self, car: int, slot: int, want: float, caps: Sequence[float]) -> float:
        amount = min(
            want, caps[slot] - self.flow[car][slot], self.slot_caps[slot] - self.load[slot]
        )
        if amount <= EPS:
            return 0.0
        self.flow[car][slot] += amount
        self.load[slot] += amount
        self.given[car] += amount
        return amount

    def _augment(
        self, starts: list[int], wants: Sequence[float], usable: Sequence[bool], target: int
    ) -> tuple[float, int]:
        """One augmenting path from a start car to a slot with room (`target`, or any usable
        slot when -1); pushes the bottleneck and returns it with the start car (0: no path)."""
        via_slot: dict[int, int] = {}  # car reached by taking back its flow in that slot
        via_car: dict[int, int] = {}  # slot reached from that car
        queue = deque(starts)
        seen_cars = set(starts)
        end = -1
        while queue and end < 0:
            car = queue.popleft()
            caps, flows = self.edge_caps[car], self.flow[car]
            for slot in range(self.slots):
                if slot in via_car or not usable[slot] or caps[slot] - flows[slot] <= EPS:
                    continue
                via_car[slot] = car
                room = self.slot_caps[slot] - self.load[slot]
                if room > EPS and (target < 0 or slot == target):
                    end = slot
                    break
                for other in range(self.cars):
                    if other not in seen_cars and self.flow[other][slot] > EPS:
                        seen_cars.add(other)
                        via_slot[other] = slot
                        queue.append(other)
        if end < 0:
            return 0.0, -1
        path: list[tuple[int, int, int]] = []  # (car, slot, +1 forward / -1 backward)
        slot = end
        while True:
            car = via_car[slot]
            path.append((car, slot, 1))
            if car not in via_slot:
                break
            slot = via_slot[car]
            path.append((car, slot, -1))
        start = path[-1][0]
        amount = min(wants[start], self.slot_caps[end] - self.load[end])
        for car, slot, sign in path:
            residual = (
                self.edge_caps[car][slot] - self.flow[car][slot]
                if sign > 0
                else self.flow[car][slot]
            )
            amount = min(amount, residual)
        if amount <= EPS:
            return 0.0, start
        for car, slot, sign in path:
            self.flow[car][slot] += sign * amount
        self.load[end] += amount
        self.given[start] += amount
        return amount, start
