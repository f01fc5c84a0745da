"""The central system's SQLite file: one connection, WAL, group commit.

Every change is a unit of work: an async function of the aiosqlite connection (`write`), or a
plain function of the sqlite3 connection (`write_sync`) for the hot paths. Units that arrive
while a commit is running are committed together in the next one, each inside its own
savepoint, so a failing unit rolls back alone and the others still commit. A caller resumes
only after its unit is durable (synchronous=FULL): that is what lets the handlers answer a
charger only once its transaction is on disk.

Every statement of an async unit is a hop to aiosqlite's thread and back through the event
loop; a batch of plain units (BEGIN, each unit in its savepoint, COMMIT) is one hop in all.
Under load that is most of the difference (1,000 chargers: ~7 hops per MeterValues before).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Any, TypeVar, cast

import aiosqlite

from .outbox import ensure_schema as ensure_outbox_schema
from .schema import ADDED_COLUMNS, SCHEMA

_LOGGER = logging.getLogger(__name__)
T = TypeVar("T")
Work = Callable[[aiosqlite.Connection], Awaitable[Any]]
SyncWork = Callable[[sqlite3.Connection], Any]
# A queued unit: (work, the caller's future, True for a plain function run in the thread).
_Unit = tuple[Work | SyncWork, asyncio.Future[Any], bool]
# A unit's outcome: (result, error).
_Outcome = tuple[Any, BaseException | None]


async def in_thread[R](db: aiosqlite.Connection, work: Callable[[sqlite3.Connection], R]) -> R:
    """Run `work` on the connection's own thread: one hop, however many statements."""
    # aiosqlite has no public call for this; `_execute` is what its own methods use.
    run: Callable[..., Awaitable[Any]] = db._execute  # untyped in aiosqlite
    return cast(R, await run(work, db._conn))


def _run_unit(conn: sqlite3.Connection, work: SyncWork, shared: bool) -> _Outcome:
    """One plain unit, inside its savepoint when it shares the commit (thread side)."""
    if not shared:
        return work(conn), None  # an error rolls the whole (single-unit) batch back
    conn.execute("SAVEPOINT unit")
    try:
        result = work(conn)
    except Exception as err:
        conn.execute("ROLLBACK TO unit")
        conn.execute("RELEASE unit")
        return None, err
    conn.execute("RELEASE unit")
    return result, None


def _commit_plain(conn: sqlite3.Connection, works: list[SyncWork]) -> list[_Outcome]:
    """A batch of plain units in one transaction (thread side)."""
    shared = len(works) > 1
    try:
        conn.execute("BEGIN IMMEDIATE")
        outcomes = [_run_unit(conn, work, shared) for work in works]
        conn.execute("COMMIT")
    except Exception as err:
        if shared:
            _LOGGER.exception("commit failed; %d units rolled back", len(works))
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        return [(None, err)] * len(works)
    return outcomes


class Store:
    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        self._db: aiosqlite.Connection | None = None
        self._queue: list[_Unit] = []
        self._writer: asyncio.Task[None] | None = None

    async def open(self) -> None:
        # isolation_level=None: we issue BEGIN/COMMIT ourselves (group commit, savepoints).
        self._db = await aiosqlite.connect(self.path, isolation_level=None)
        for pragma in (
            "PRAGMA journal_mode=WAL",
            "PRAGMA synchronous=FULL",
            "PRAGMA busy_timeout=5000",
        ):
            await self._db.execute(pragma)
        await self._db.executescript(SCHEMA)
        for table, column, kind in ADDED_COLUMNS:
            async with self._db.execute(f"PRAGMA table_info({table})") as cursor:
                have = {str(row[1]) async for row in cursor}
            if column not in have:  # a file from before the column
                await self._db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
        await ensure_outbox_schema(self._db)

    async def close(self) -> None:
        if self._writer is not None:
            await asyncio.shield(self._writer)
        if self._db is not None:
            await self._db.close()
            self._db = None

    @property
    def db(self) -> aiosqlite.Connection:
        if self._db is None:
            raise RuntimeError("the central system's store is not open")
        return self._db

    async def write(self, work: Callable[[aiosqlite.Connection], Awaitable[T]]) -> T:
        """Run `work` in a transaction; return once it is committed."""
        return cast(T, await self._enqueue(work, False))

    async def write_sync(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run the plain function `work` on the SQLite thread in a transaction; return once it
        is committed. It must not touch the event loop (it runs in another thread)."""
        return cast(T, await self._enqueue(work, True))

    # Reads go through the same queue, so they never see half of someone's unit of work.
    read = write
    read_sync = write_sync

    async def _enqueue(self, work: Work | SyncWork, plain: bool) -> Any:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._queue.append((work, future, plain))
        if self._writer is None or self._writer.done():
            self._writer = loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        while self._queue:
            batch, self._queue = self._queue, []
            await self._commit_batch(batch)

    async def _commit_batch(self, batch: list[_Unit]) -> None:
        db = self.db
        if all(plain for _, _, plain in batch):  # the hot path: one hop for the whole batch
            works = [cast(SyncWork, work) for work, _, _ in batch]
            results = await in_thread(db, lambda conn: _commit_plain(conn, works))
            futures = [future for _, future, _ in batch]
            self._settle([(f, *outcome) for f, outcome in zip(futures, results, strict=True)])
            return
        # Savepoints only matter when units share a commit (they cost two thread hops each).
        shared = len(batch) > 1
        outcomes: list[tuple[asyncio.Future[Any], Any, BaseException | None]] = []
        try:
            await db.execute("BEGIN IMMEDIATE")
            for work, future, plain in batch:
                if plain:
                    unit = partial(_run_unit, work=cast(SyncWork, work), shared=shared)
                    result, error = await in_thread(db, unit)
                    outcomes.append((future, result, error))
                    continue
                if shared:
                    await db.execute("SAVEPOINT unit")
                try:
                    result = await cast(Work, work)(db)
                except Exception as err:
                    if not shared:
                        raise
                    await db.execute("ROLLBACK TO unit")
                    await db.execute("RELEASE unit")
                    outcomes.append((future, None, err))
                    continue
                if shared:
                    await db.execute("RELEASE unit")
                outcomes.append((future, result, None))
            await db.execute("COMMIT")
        except Exception as err:
            if shared:
                _LOGGER.exception("commit failed; %d units rolled back", len(batch))
            if db.in_transaction:
                await db.execute("ROLLBACK")
            outcomes = [(future, None, err) for _, future, _ in batch]
        self._settle(outcomes)

    @staticmethod
    def _settle(outcomes: list[tuple[asyncio.Future[Any], Any, BaseException | None]]) -> None:
        for future, result, error in outcomes:
            if future.done():
                continue
            if error is None:
                future.set_result(result)
            else:
                future.set_exception(error)
