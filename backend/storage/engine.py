"""The engine-neutral database interface the repositories are written against.

SQL is written once with `?` placeholders; the PostgreSQL engine numbers them (`$1`, `$2`, …).
Rows come back as plain dicts on both engines.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

Row = dict[str, Any]


class UniqueViolation(Exception):
    """A UNIQUE constraint refused a row (the same error on both engines)."""


class ReferenceViolation(Exception):
    """A FOREIGN KEY constraint refused a row: it names a record that does not exist."""


class Unavailable(Exception):
    """The database cannot be reached or cannot take the statement now (server down, connection
    lost, file locked by another process, disk full): worth retrying later (HTTP 503)."""


class Queries(Protocol):
    """What can run SQL: the database itself (one statement, auto-commit) or a transaction."""

    async def fetch(self, sql: str, *args: Any) -> list[Row]: ...

    async def fetchrow(self, sql: str, *args: Any) -> Row | None: ...

    async def fetchval(self, sql: str, *args: Any) -> Any: ...

    async def execute(self, sql: str, *args: Any) -> None: ...

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None: ...


class RowHelpers:
    """`fetchrow` and `fetchval` in terms of `fetch`, shared by both engines' connections."""

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        raise NotImplementedError

    async def fetchrow(self, sql: str, *args: Any) -> Row | None:
        rows = await self.fetch(sql, *args)
        return rows[0] if rows else None

    async def fetchval(self, sql: str, *args: Any) -> Any:
        row = await self.fetchrow(sql, *args)
        return next(iter(row.values())) if row else None


class Database(Queries, Protocol):
    engine: str  # "sqlite" or "postgresql"

    def transaction(self) -> AbstractAsyncContextManager[Queries]:
        """All statements inside commit together or not at all."""
        ...

    async def run_script(self, script: str) -> None:
        """Run a migration script (several statements) in one transaction."""
        ...

    async def close(self) -> None: ...
