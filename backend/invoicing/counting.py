# ruff: noqa: S608  (SQL text is built from constant parts and placeholders only)
"""How many sessions a run of a month reads, counted by the database (the summary of a
partitioned run, and of a re-run that loads nothing): the same rows `load_sessions` reads."""

from __future__ import annotations

from ..billing.calendar import Month
from ..storage import Database
from .contracts import load_contracts, load_plans
from .load import history_points, window_of
from .load_sessions import CHECKED, Lookups, history_rows


async def count_sessions(db: Database, month: Month) -> int:
    window = window_of(month)
    total = int(
        await db.fetchval(
            "SELECT count(*) FROM sessions s WHERE"
            + CHECKED
            + " s.started_at >= ? AND s.started_at < ?",
            *window,
        )
        or 0
    )
    points = history_points(await load_contracts(db, await load_plans(db)))
    lookups = Lookups()
    for chunk in range(0, len(points), 500):
        total += len(await history_rows(db, lookups, window[0], points[chunk : chunk + 500]))
    return total
