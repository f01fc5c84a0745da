"""The last 24 hours of the grid connection, one sample a minute, in memory.

Fed by the site's snapshots (`LocalSite.add_listener`): within a minute the highest grid current
and allocation per phase are kept, and whether a meter was lost at any moment of it, so that a
short peak or a short silence is not averaged away. A restart starts an empty chart.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

from ...loadcontrol.snapshot import SiteSnapshot

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


class SiteHistory:
    def __init__(self, size: int = SAMPLES) -> None:
        self.samples: deque[Sample] = deque(maxlen=size)

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
            self.samples.append(Sample(minute, grid, allocated, _phases(snapshot.fuse_a), lost))

    def since(self, start: datetime) -> list[Sample]:
        return [s for s in self.samples if s.at >= start]


def _phases(values: object) -> Phases:
    if not isinstance(values, tuple | list) or len(values) != 3:
        return (0.0, 0.0, 0.0)
    return (_amps(values[0]), _amps(values[1]), _amps(values[2]))


def _amps(value: object) -> float:
    return float(value) if isinstance(value, int | float) else 0.0


def _highest(a: Phases, b: Phases) -> Phases:
    return (max(a[0], b[0]), max(a[1], b[1]), max(a[2], b[2]))
