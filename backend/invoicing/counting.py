"""How many sessions a run of a month reads, counted by the database (the summary of a
partitioned run, and of a re-run that loads nothing): the same rows `load_sessions` reads."""

from __future__ import annotations

from ..billing.calendar import Month
from ..storage import Database
from .contracts import load_contracts, load_plans
from .load import history_points, window_of
from .load_sessions import CHECKED

_FROM = (
    " FROM sessions s LEFT JOIN cards c ON c.id = s.card_id"
    " LEFT JOIN charge_points cp ON cp.id = s.charge_point_id WHERE"
)


async def count_sessions(db: Database, month: Month) -> int:
    window = window_of(month)
    total = int(
        await db.fetchval(
            "SELECT count(*)" + _FROM + CHECKED + " s.started_at >= ? AND s.started_at < ?",
            *window,
        )
        or 0
    )
    ids = history_points(await load_contracts(db, await load_plans(db)))
    for chunk in range(0, len(ids), 500):
        part = ids[chunk : chunk + 500]
        marks = ", ".join("?" for _ in part)
        for row in await db.fetch(
            "SELECT s.charge_point_id, count(*) AS n"
            + _FROM
            + CHECKED
            + f" s.started_at < ? AND s.energy_wh > 0 AND s.charge_point_id IN ({marks})"
            " AND cp.account_id = c.account_id GROUP BY s.charge_point_id",
            window[0],
            *map(int, part),
        ):
            total += int(row["n"])
    return total
