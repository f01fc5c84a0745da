"""The site's own household load per circuit, phase and quarter-hour, and the planner's forecast.

Recorded in the site's SQLite (a table of its own beside the central system's) at most once per
quarter-hour per metered circuit: the mean of the household load seen in that quarter, per
phase. The forecast for a future quarter is the median of the same weekday and quarter over the
last `weeks` weeks (the same UTC instant 7, 14, ... days earlier) plus the safety margin; a
quarter with no history yet falls back to the highest household load of the last hour plus the
margin. Export (negative) counts as 0: the sun can go in a second.
"""

from __future__ import annotations

import logging
import sqlite3
import statistics
from collections import deque
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ..balancing import PhaseAmps
from ..planning.slots import SLOT, quarter_floor

_LOGGER = logging.getLogger(__name__)
WEEK = timedelta(days=7)
PEAK_WINDOW = timedelta(hours=1)
_SCHEMA = """
CREATE TABLE IF NOT EXISTS household_load (
    circuit TEXT NOT NULL,
    slot_start TEXT NOT NULL,  -- UTC ISO start of the quarter-hour
    l1 REAL NOT NULL, l2 REAL NOT NULL, l3 REAL NOT NULL,
    PRIMARY KEY (circuit, slot_start)
)
"""


class _Quarter:
    """Sums of one circuit's readings in the running quarter-hour."""

    __slots__ = ("count", "start", "sums")

    def __init__(self, start: datetime) -> None:
        self.start = start
        self.sums = [0.0, 0.0, 0.0]
        self.count = 0

    def add(self, amps: PhaseAmps) -> None:
        for p in range(3):
            self.sums[p] += max(0.0, amps[p])
        self.count += 1

    def mean(self) -> PhaseAmps:
        n = max(1, self.count)
        return (self.sums[0] / n, self.sums[1] / n, self.sums[2] / n)


class HouseholdHistory:
    def __init__(self, path: Path | None, *, margin_a: float = 2.0, weeks: int = 4) -> None:
        self.margin_a = margin_a
        self.weeks = weeks
        self._db: sqlite3.Connection | None = None
        self._rows: dict[tuple[str, datetime], PhaseAmps] = {}
        self._running: dict[str, _Quarter] = {}
        # Per circuit and phase, the readings of the last hour that a later one has not
        # exceeded (falling amps, rising time): the first is the hour's peak, read in O(1).
        self._recent: dict[str, tuple[deque[tuple[datetime, float]], ...]] = {}
        if path is not None:
            self._open(path)

    def _open(self, path: Path) -> None:
        try:
            # A short busy timeout: this runs on the event loop (once per quarter-hour).
            db = sqlite3.connect(path, timeout=1.0, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(_SCHEMA)
            for circuit, start, l1, l2, l3 in db.execute(
                "SELECT circuit, slot_start, l1, l2, l3 FROM household_load"
            ):
                self._rows[(circuit, datetime.fromisoformat(start))] = (l1, l2, l3)
        except sqlite3.Error:
            _LOGGER.exception("household history at %s unusable: forecasting from memory", path)
            return
        self._db = db

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def observe(self, household: Mapping[str, PhaseAmps], now: datetime) -> None:
        """The household load per metered circuit as the last pass saw it."""
        quarter = quarter_floor(now)
        for circuit, amps in household.items():
            running = self._running.get(circuit)
            if running is not None and running.start != quarter:
                self._record(circuit, running)
                running = None
            if running is None:
                running = self._running[circuit] = _Quarter(quarter)
            running.add(amps)
            recent = self._recent.setdefault(circuit, (deque(), deque(), deque()))
            for p in range(3):
                kept = recent[p]
                while kept and kept[-1][1] <= amps[p]:
                    kept.pop()
                kept.append((now, amps[p]))
                while kept[0][0] < now - PEAK_WINDOW:
                    kept.popleft()

    def _record(self, circuit: str, quarter: _Quarter) -> None:
        mean = quarter.mean()
        self._rows[(circuit, quarter.start)] = mean
        old = quarter.start - (self.weeks + 1) * WEEK  # never asked for again
        for key in [k for k in self._rows if k[0] == circuit and k[1] < old]:
            del self._rows[key]
        if self._db is None:
            return
        try:
            self._db.execute(
                "INSERT OR REPLACE INTO household_load VALUES (?, ?, ?, ?, ?)",
                (circuit, quarter.start.astimezone(UTC).isoformat(), *mean),
            )
            self._db.execute(
                "DELETE FROM household_load WHERE circuit = ? AND slot_start < ?",
                (circuit, old.astimezone(UTC).isoformat()),
            )
        except sqlite3.Error:
            _LOGGER.exception("household history: quarter %s not recorded", quarter.start)

    def peak(self, circuit: str) -> PhaseAmps:
        """The highest household load per phase of the last hour (0 when none seen)."""
        recent = self._recent.get(circuit)
        if recent is None:
            return (0.0, 0.0, 0.0)
        l1, l2, l3 = (max(0.0, kept[0][1]) if kept else 0.0 for kept in recent)
        return (l1, l2, l3)

    def forecast(self, circuit: str, start: datetime) -> PhaseAmps:
        """The household load to plan the quarter starting at `start` with (margin included)."""
        past = [
            seen
            for k in range(1, self.weeks + 1)
            if (seen := self._rows.get((circuit, start - k * WEEK))) is not None
        ]
        if past:
            base = tuple(statistics.median(p[i] for p in past) for i in range(3))
        else:
            base = self.peak(circuit)
        return (base[0] + self.margin_a, base[1] + self.margin_a, base[2] + self.margin_a)

    def forecasts(self, circuit: str, first: datetime, quarters: int) -> list[PhaseAmps]:
        return [self.forecast(circuit, first + q * SLOT) for q in range(quarters)]
