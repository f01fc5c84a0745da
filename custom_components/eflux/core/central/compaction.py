"""Meter samples of closed transactions are kept at one per bucket (default 5 minutes).

Open transactions keep every raw sample (the balancer and a dispute may need them); once
closed, a session's curve at bucket resolution is plenty, and 10-second samples of every
session would grow the file by hundreds of MB a year.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from statistics import fmean

import aiosqlite

from . import records
from .model import MeterSample, PhaseValues


def bucket_samples(samples: Sequence[MeterSample], bucket: timedelta) -> list[MeterSample]:
    """One sample per bucket: the last register and SoC, the mean power, current and voltage."""
    groups: dict[int, list[MeterSample]] = {}
    size = bucket.total_seconds()
    for sample in sorted(samples, key=lambda s: s.timestamp):
        groups.setdefault(int(sample.timestamp.timestamp() // size), []).append(sample)
    return [_combine(group) for group in groups.values()]


def _combine(group: list[MeterSample]) -> MeterSample:
    last = group[-1]

    def last_of(values: list[float | None]) -> float | None:
        known = [v for v in values if v is not None]
        return known[-1] if known else None

    def mean_of(values: list[float | None]) -> float | None:
        known = [v for v in values if v is not None]
        return fmean(known) if known else None

    def phases(pick: str) -> PhaseValues:
        rows = [getattr(s, pick).as_tuple() for s in group]
        return PhaseValues(*(mean_of([row[i] for row in rows]) for i in range(3)))

    return MeterSample(
        timestamp=last.timestamp,
        context=last.context,
        energy_wh=last_of([s.energy_wh for s in group]),
        power_w=mean_of([s.power_w for s in group]),
        current_a=phases("current_a"),
        voltage_v=phases("voltage_v"),
        soc=last_of([s.soc for s in group]),
        current_offered_a=last_of([s.current_offered_a for s in group]),
    )


async def compact_closed(
    db: aiosqlite.Connection, bucket: timedelta, idle_before: datetime | None = None
) -> int:
    """Downsample every closed, not yet compacted transaction; returns how many."""
    async with db.execute(
        "SELECT id, charge_point_id, connector_id FROM transactions"
        " WHERE stopped_at IS NOT NULL AND compacted = 0"
    ) as cursor:
        closed = list(await cursor.fetchall())
    for record_id, cp_id, connector_id in closed:
        samples = await records.transaction_samples(db, record_id)
        await db.execute("DELETE FROM meter_samples WHERE transaction_record = ?", (record_id,))
        await records.insert_samples(
            db, cp_id, connector_id, record_id, bucket_samples(samples, bucket)
        )
        await db.execute("UPDATE transactions SET compacted = 1 WHERE id = ?", (record_id,))
    if idle_before is not None:  # samples outside any transaction matter only while fresh
        await db.execute(
            "DELETE FROM meter_samples WHERE transaction_record IS NULL AND ts < ?",
            (idle_before.astimezone(UTC).isoformat(timespec="microseconds"),),
        )
    return len(closed)
