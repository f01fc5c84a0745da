"""The central system's SQLite file: one connection, WAL, group commit.

Every change is a unit of work (an async function of the connection). Units that arrive
while a commit is running are committed together in the next one, each inside its own
savepoint, so a failing unit rolls back alone and the others still commit. A caller resumes
only after its unit is durable (synchronous=FULL): that is what lets the handlers answer a
charger only once its transaction is on disk.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from .outbox import ensure_schema as ensure_outbox_schema
from .schema import ADDED_COLUMNS, SCHEMA

_LOGGER = logging.getLogger(__name__)
T = TypeVar("T")
Work = Callable[[aiosqlite.Connection], Awaitable[Any]]


class Store:
    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        self._db: aiosqlite.Connection | None = None
        self._queue: list[tuple[Work, asyncio.Future[Any]]] = []
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
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.append((work, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(self._drain())
        return await future

    # Reads go through the same queue, so they never see half of someone's unit of work.
    read = write

    async def _drain(self) -> None:
        while self._queue:
            batch, self._queue = self._queue, []
            await self._commit_batch(batch)

    async def _commit_batch(self, batch: list[tuple[Work, asyncio.Future[Any]]]) -> None:
        db = self.db
        # Savepoints only matter when units share a commit (they cost two thread hops each).
        shared = len(batch) > 1
        outcomes: list[tuple[asyncio.Future[Any], Any, BaseException | None]] = []
        try:
            await db.execute("BEGIN IMMEDIATE")
            for work, future in batch:
                if shared:
                    await db.execute("SAVEPOINT unit")
                try:
                    result = await work(db)
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
            outcomes = [(future, None, err) for _, future in batch]
        for future, result, error in outcomes:
            if future.done():
                continue
            if error is None:
                future.set_result(result)
            else:
                future.set_exception(error)
