"""The last 24 hours of the grid connection, one sample a minute.

Fed by the site's snapshots (`LocalSite.add_listener`): within a minute the highest grid current
and allocation per phase are kept, and whether a meter was lost at any moment of it, so that a
short peak or a short silence is not averaged away. With a store (store.py, the site's SQLite
file) each minute is written when the next one starts, and the open minute when the console
stops; `load` reads the last 24 hours back at start, so a restart keeps the chart.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from ...loadcontrol.snapshot import SiteSnapshot

if TYPE_CHECKING:
    from .store import ConsoleStore

_LOGGER = logging.getLogger(__name__)

SAMPLES = 24 * 60
MINUTE = timedelta(minutes=1)
Phases = tuple[float, float, float]


@dataclass(slots=True)
class Sample:
    at: datetime  # the minute (UTC, seconds cut)
    grid_a: Phases
    allocated_a: Phases
    fuse_a: Phases
    meter_lost: bool


SPAN = timedelta(minutes=SAMPLES)


class SiteHistory:
    def __init__(self, size: int = SAMPLES) -> None:
        self.samples: deque[Sample] = deque(maxlen=size)
        self._store: ConsoleStore | None = None
        self._writes: set[asyncio.Task[None]] = set()

    async def load(self, store: ConsoleStore, now: datetime) -> None:
        """Read the stored day back (before what was observed since) and store from now on."""
        stored = await store.samples(now - SPAN)
        seen = list(self.samples)
        self.samples.clear()
        self.samples.extend(stored)
        for sample in seen:
            last = self.samples[-1] if self.samples else None
            if last is not None and sample.at == last.at:
                self.samples[-1] = _merged(last, sample)
            elif last is None or sample.at > last.at:
                self.samples.append(sample)
        self._store = store

    async def flush(self) -> None:
        """Store the open minute and wait for every write (when the console stops)."""
        if self._store is not None and self.samples:
            self._save(self.samples[-1])
        while self._writes:
            await asyncio.gather(*self._writes, return_exceptions=True)
        self._store = None

    def _save(self, sample: Sample) -> None:
        if self._store is None:
            return
        task = asyncio.get_running_loop().create_task(
            self._write(self._store, replace(sample))  # a copy: the open minute still changes
        )
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    @staticmethod
    async def _write(store: ConsoleStore, sample: Sample) -> None:
        try:
            await store.save_sample(sample, sample.at - SPAN)
        except Exception:  # the chart is a view: a failed write must not stop the site
            _LOGGER.exception("the console could not store the chart's minute %s", sample.at)

    def observe(self, snapshot: SiteSnapshot) -> None:
        minute = snapshot.at.replace(second=0, microsecond=0)
        grid = _phases(snapshot.grid_current_a)
        allocated = _phases(snapshot.allocated_a)
        lost = bool(snapshot.meters_lost)
        last = self.samples[-1] if self.samples else None
        if last is not None and last.at == minute:
            last.grid_a = _highest(last.grid_a, grid)
            last.allocated_a = _highest(last.allocated_a, allocated)
            last.fuse_a = _phases(snapshot.fuse_a)
            last.meter_lost = last.meter_lost or lost
        elif last is None or minute > last.at:
            if last is not None:
                self._save(last)  # the minute is over
            self.samples.append(Sample(minute, grid, allocated, _phases(snapshot.fuse_a), lost))

    def since(self, start: datetime) -> list[Sample]:
        return [s for s in self.samples if s.at >= start]


def _phases(values: object) -> Phases:
    if not isinstance(values, tuple | list) or len(values) != 3:
        return (0.0, 0.0, 0.0)
    return (_amps(values[0]), _amps(values[1]), _amps(values[2]))


def _amps(value: object) -> float:
    return float(value) if isinstance(value, int | float) else 0.0


def _merged(a: Sample, b: Sample) -> Sample:
    return Sample(
        a.at,
        _highest(a.grid_a, b.grid_a),
        _highest(a.allocated_a, b.allocated_a),
        b.fuse_a,
        a.meter_lost or b.meter_lost,
    )


def _highest(a: Phases, b: Phases) -> Phases:
    return (max(a[0], b[0]), max(a[1], b[1]), max(a[2], b[2]))
