"""The planner's linear program: power per car per slot under every shared limit, solved by HiGHS.

Columns: the power (kW) of car i in slot s, 0..its maximum, only while it is parked. Rows:
- per slot and per limit (a circuit's phase, a circuit's total, the site budget): the sum of
  each car's power times its weight on that limit (amps per kW) stays within the limit's
  capacity in that slot; a three-phase car weighs 1/3 on each of its phases, a one-phase car
  1 on its one phase (times 1000/V: amps);
- per car: the energy it gets (sum of power x slot hours) lies between a floor and its need.
One model is kept and only its bounds and costs change between the passes of `planner`, so
HiGHS starts each solve from the last basis.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import highspy
import numpy as np

EPS = 1e-9
INF = highspy.kHighsInf


@dataclass(frozen=True, slots=True)
class Column:
    car: int
    slot: int
    hours: float


class EnergyLP:
    """Cars x slots under shared limits; `solve` returns kWh per car per slot, or None."""

    def __init__(
        self,
        max_kw: Sequence[float],
        parked: Sequence[Sequence[bool]],
        hours: Sequence[float],
        weights: Sequence[Mapping[str, float]],
        capacity: Mapping[str, Sequence[float]],
        needs: Sequence[float],
    ) -> None:
        self.cars = len(max_kw)
        self.slots = len(hours)
        self.needs = list(needs)
        self.columns: list[Column] = [
            Column(i, s, hours[s])
            for i in range(self.cars)
            for s in range(self.slots)
            if parked[i][s] and max_kw[i] > EPS and hours[s] > 0
        ]
        by_slot: list[list[int]] = [[] for _ in range(self.slots)]
        by_car: list[list[tuple[int, float]]] = [[] for _ in range(self.cars)]
        for j, c in enumerate(self.columns):
            by_slot[c.slot].append(j)
            by_car[c.car].append((j, c.hours))
        rows: list[tuple[float, list[tuple[int, float]]]] = []  # (upper, [(column, coef)])
        for key, caps in capacity.items():
            for s, here in enumerate(by_slot):
                entries = [
                    (j, w) for j in here if (w := weights[self.columns[j].car].get(key, 0.0)) > 0
                ]
                if entries and math.isfinite(caps[s]):
                    rows.append((max(0.0, caps[s]), entries))
        self.energy_row0 = len(rows)
        rows.extend((self.needs[i], by_car[i]) for i in range(self.cars))
        self._highs = highspy.Highs()  # type: ignore[no-untyped-call]
        self._highs.setOptionValue("output_flag", False)
        # The passes change bounds and costs of one model: each solve starts from the last
        # basis, where presolve would only cost time.
        self._highs.setOptionValue("presolve", "off")
        self._highs.passModel(self._model(rows, max_kw))

    def _model(
        self, rows: list[tuple[float, list[tuple[int, float]]]], max_kw: Sequence[float]
    ) -> highspy.HighsLp:
        n = len(self.columns)
        per_column: list[list[tuple[int, float]]] = [[] for _ in range(n)]
        for r, (_, entries) in enumerate(rows):
            for j, coef in entries:
                per_column[j].append((r, coef))
        starts = [0]
        index: list[int] = []
        value: list[float] = []
        for entries in per_column:
            for r, coef in entries:
                index.append(r)
                value.append(coef)
            starts.append(len(index))
        lp = highspy.HighsLp()
        lp.num_col_ = n
        lp.num_row_ = len(rows)
        lp.col_cost_ = np.zeros(n)
        lp.col_lower_ = np.zeros(n)
        lp.col_upper_ = np.array([max_kw[c.car] for c in self.columns], dtype=float)
        lp.row_lower_ = np.full(len(rows), -INF)
        lp.row_upper_ = np.array([upper for upper, _ in rows], dtype=float)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = np.array(starts, dtype=np.int32)
        lp.a_matrix_.index_ = np.array(index, dtype=np.int32)
        lp.a_matrix_.value_ = np.array(value, dtype=float)
        return lp

    def solve(
        self, floors: Sequence[float], cost: Sequence[Sequence[float]] | None = None
    ) -> list[list[float]] | None:
        """Energy per car per slot with car i getting at least `floors[i]` kWh (and at most its
        need), at the least sum of cost[i][s] x kWh; None when no schedule gives the floors."""
        h = self._highs
        for i, floor in enumerate(floors):
            low = min(max(0.0, floor), self.needs[i])
            h.changeRowBounds(self.energy_row0 + i, low, self.needs[i])
        n = len(self.columns)
        rates = [cost[c.car][c.slot] * c.hours for c in self.columns] if cost else [0.0] * n
        costs = np.array(rates, dtype=float)
        if n:
            h.changeColsCost(n, np.arange(n, dtype=np.int32), costs)
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        values = h.getSolution().col_value
        energy = [[0.0] * self.slots for _ in range(self.cars)]
        for j, c in enumerate(self.columns):
            energy[c.car][c.slot] = max(0.0, float(values[j])) * c.hours
        return energy
