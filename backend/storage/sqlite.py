"""SQLite engine: one aiosqlite connection, one writer at a time (an asyncio lock).

A transaction holds the lock until it commits, so statements of concurrent requests never
interleave inside someone else's transaction on the shared connection.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import aiosqlite

from .engine import Queries, ReferenceViolation, Row, RowHelpers, Unavailable, UniqueViolation

BUSY_TIMEOUT_MS = 5000
# Another process holds the file's lock past the busy timeout, the disk is full or failing, or
# the file cannot be opened: the database is there but cannot take the statement now.
_UNAVAILABLE = (
    "database is locked",
    "unable to open",
    "disk i/o error",
    "disk is full",
    "readonly database",
)


@contextmanager
def _reachable() -> Iterator[None]:
    try:
        yield
    except sqlite3.OperationalError as err:
        if any(text in str(err).lower() for text in _UNAVAILABLE):
            raise Unavailable(f"SQLite is unavailable: {err}") from err
        raise


class _Conn(RowHelpers):
    """Statements on the connection, without locking or committing (the caller does)."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        try:
            async with self._conn.execute(sql, args) as cursor:
                names = [d[0] for d in cursor.description or ()]
                return [dict(zip(names, row, strict=True)) for row in await cursor.fetchall()]
        except sqlite3.IntegrityError as err:
            raise _translate(err) from err

    async def execute(self, sql: str, *args: Any) -> None:
        try:
            await self._conn.execute(sql, args)
        except sqlite3.IntegrityError as err:
            raise _translate(err) from err

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        try:
            await self._conn.executemany(sql, rows)
        except sqlite3.IntegrityError as err:
            raise _translate(err) from err


def _translate(err: sqlite3.IntegrityError) -> Exception:
    if "UNIQUE" in str(err):
        return UniqueViolation(str(err))
    if "FOREIGN KEY" in str(err):
        return ReferenceViolation(str(err))
    return err


class SqliteDatabase(RowHelpers):
    engine = "sqlite"

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn
        self._q = _Conn(conn)
        self._lock = asyncio.Lock()

    @classmethod
    async def connect(cls, path: str, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> SqliteDatabase:
        # isolation_level=None: we issue BEGIN/COMMIT ourselves.
        conn = await aiosqlite.connect(path, isolation_level=None)
        await conn.execute("PRAGMA journal_mode=WAL")
        await conn.execute("PRAGMA foreign_keys=ON")
        await conn.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        return cls(conn)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Queries]:
        async with self._lock:
            with _reachable():
                await self._conn.execute("BEGIN IMMEDIATE")
            try:
                with _reachable():
                    yield self._q
            except BaseException:
                if self._conn.in_transaction:
                    await self._conn.execute("ROLLBACK")
                raise
            with _reachable():
                try:
                    await self._conn.execute("COMMIT")
                except BaseException:
                    if self._conn.in_transaction:
                        await self._conn.execute("ROLLBACK")
                    raise

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        async with self._lock:
            with _reachable():
                return await self._q.fetch(sql, *args)

    async def execute(self, sql: str, *args: Any) -> None:
        async with self.transaction() as tx:
            await tx.execute(sql, *args)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        async with self.transaction() as tx:
            await tx.executemany(sql, rows)

    async def run_script(self, script: str) -> None:
        async with self._lock:
            # executescript commits first; BEGIN inside the script keeps it all-or-nothing.
            try:
                await self._conn.executescript(f"BEGIN;\n{script}\nCOMMIT;")
            except BaseException:
                if self._conn.in_transaction:
                    await self._conn.execute("ROLLBACK")
                raise

    async def close(self) -> None:
        await self._conn.close()
