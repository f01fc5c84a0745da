"""PostgreSQL engine: an asyncpg pool; `?` placeholders are numbered once per statement text."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import Any

import asyncpg

from .engine import Queries, ReferenceViolation, Row, RowHelpers, UniqueViolation


@lru_cache(maxsize=1024)
def numbered(sql: str) -> str:
    """`?` → `$1`, `$2`, … (our SQL never has a `?` inside a string literal)."""
    parts = sql.split("?")
    out = [parts[0]]
    for index, part in enumerate(parts[1:], start=1):
        out.append(f"${index}{part}")
    return "".join(out)


def translate(err: Exception) -> Exception:
    if isinstance(err, asyncpg.UniqueViolationError):
        return UniqueViolation(str(err))
    if isinstance(err, asyncpg.ForeignKeyViolationError):
        return ReferenceViolation(str(err))
    return err


class _Conn(RowHelpers):
    def __init__(self, conn: Any) -> None:
        self._conn = conn

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        try:
            return [dict(r) for r in await self._conn.fetch(numbered(sql), *args)]
        except asyncpg.IntegrityConstraintViolationError as err:
            raise translate(err) from err

    async def execute(self, sql: str, *args: Any) -> None:
        try:
            await self._conn.execute(numbered(sql), *args)
        except asyncpg.IntegrityConstraintViolationError as err:
            raise translate(err) from err

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        try:
            await self._conn.executemany(numbered(sql), list(rows))
        except asyncpg.IntegrityConstraintViolationError as err:
            raise translate(err) from err


class PostgresDatabase(RowHelpers):
    engine = "postgresql"

    def __init__(self, pool: Any) -> None:
        self._pool = pool

    @classmethod
    async def connect(cls, dsn: str) -> PostgresDatabase:
        pool = await asyncpg.create_pool(dsn, min_size=1, max_size=10)
        return cls(pool)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Queries]:
        async with self._pool.acquire() as conn, conn.transaction():
            yield _Conn(conn)

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        async with self._pool.acquire() as conn:
            return await _Conn(conn).fetch(sql, *args)

    async def execute(self, sql: str, *args: Any) -> None:
        async with self._pool.acquire() as conn:
            await _Conn(conn).execute(sql, *args)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            await _Conn(conn).executemany(sql, rows)

    async def run_script(self, script: str) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            # One migrator at a time when several back ends start together.
            await conn.execute("SELECT pg_advisory_xact_lock(7007)")
            await conn.execute(script)

    async def close(self) -> None:
        await self._pool.close()
