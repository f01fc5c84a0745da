"""PostgreSQL engine: an asyncpg pool; `?` placeholders are numbered once per statement text."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from functools import lru_cache
from typing import Any

import asyncpg

from .engine import Queries, ReferenceViolation, Row, RowHelpers, Unavailable, UniqueViolation

CONNECT_TIMEOUT_S = 10.0  # a server that does not answer is unavailable, not a hung request
# The server is down, restarting, out of connections or out of disk, or the connection died.
_GONE = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InsufficientResourcesError,
)


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


def _lost(err: BaseException) -> bool:
    if isinstance(err, _GONE):
        return True
    # asyncpg says "connection is closed" / "pool is closing" with a bare InterfaceError.
    return isinstance(err, asyncpg.InterfaceError) and ("clos" in str(err))


@contextmanager
def _reachable() -> Iterator[None]:
    """Connection failures as `Unavailable`; every other error passes unchanged."""
    try:
        yield
    except Exception as err:
        if _lost(err):
            raise Unavailable(f"PostgreSQL is unavailable: {type(err).__name__}: {err}") from err
        raise


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
        pool = await asyncpg.create_pool(dsn, min_size=1, max_size=10, timeout=CONNECT_TIMEOUT_S)
        return cls(pool)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Queries]:
        with _reachable():
            async with self._pool.acquire() as conn, conn.transaction():
                yield _Conn(conn)

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        with _reachable():
            async with self._pool.acquire() as conn:
                return await _Conn(conn).fetch(sql, *args)

    async def execute(self, sql: str, *args: Any) -> None:
        with _reachable():
            async with self._pool.acquire() as conn:
                await _Conn(conn).execute(sql, *args)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        with _reachable():
            async with self._pool.acquire() as conn, conn.transaction():
                await _Conn(conn).executemany(sql, rows)

    async def run_script(self, script: str) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            # One migrator at a time when several back ends start together.
            await conn.execute("SELECT pg_advisory_xact_lock(7007)")
            await conn.execute(script)

    async def close(self) -> None:
        await self._pool.close()
