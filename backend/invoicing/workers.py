"""Running a month's partitions (`partition`) in worker processes, each with its own database
connection: the rules are pure Python, so processes - not threads or tasks - share them."""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date

from ..billing.calendar import Month
from ..storage import Database, open_database
from .load import Part, load_month
from .partition import PartResult, compute_part, split


async def account_parts(db: Database, count: int) -> list[Part]:
    """`count` account id ranges covering every account."""
    row = await db.fetchrow("SELECT min(id) AS low, max(id) AS high FROM accounts")
    if row is None or row["low"] is None:
        return [Part(0, 0, first=True)]
    return split(int(row["low"]), int(row["high"]), count)


async def compute_here(
    db: Database, month: Month, issued_on: date | None, part: Part
) -> PartResult:
    """One partition, loaded and computed in this process."""
    began = time.perf_counter()
    loaded = await load_month(db, month, part)
    return compute_part(loaded, issued_on, time.perf_counter() - began)


async def _open_and_compute(
    url: str, month: Month, issued_on: date | None, part: Part
) -> PartResult:
    db = await open_database(url, migrate=False)
    try:
        return await compute_here(db, month, issued_on, part)
    finally:
        await db.close()


def _job(url: str, month: str, issued_on: date | None, part: Part) -> PartResult:
    """A worker process's job (module level: it is pickled by name)."""
    return asyncio.run(_open_and_compute(url, Month.parse(month), issued_on, part))


async def run_parts(
    db: Database, url: str, month: Month, issued_on: date | None, workers: int
) -> list[PartResult]:
    """Compute the month in `workers` partitions, one process each (spawned: no state of this
    process, its event loop or its connections is copied)."""
    parts = await account_parts(db, workers)
    loop = asyncio.get_running_loop()
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=len(parts), mp_context=context) as pool:
        jobs = [loop.run_in_executor(pool, _job, url, str(month), issued_on, p) for p in parts]
        return list(await asyncio.gather(*jobs))
