"""Storage engines behind one interface: SQLite (aiosqlite, the default) and PostgreSQL (asyncpg).

`open_database(url)` picks the engine from the URL and applies the numbered migrations in
backend/migrations/; the repositories in backend/store/ speak only the `Database` protocol.
"""

from __future__ import annotations

from .engine import Database, Queries, ReferenceViolation, Row, Unavailable, UniqueViolation
from .migrate import apply_migrations, migration_files
from .timefmt import from_db, to_db

__all__ = [
    "Database",
    "Queries",
    "ReferenceViolation",
    "Row",
    "Unavailable",
    "UniqueViolation",
    "apply_migrations",
    "from_db",
    "migration_files",
    "open_database",
    "to_db",
]


async def open_database(url: str, *, migrate: bool = True) -> Database:
    """`postgresql://…` / `postgres://…` → asyncpg pool; a path or `sqlite:///path` → aiosqlite."""
    db: Database
    if url.startswith(("postgresql://", "postgres://")):
        from .postgres import PostgresDatabase

        db = await PostgresDatabase.connect(url)
    else:
        from .sqlite import SqliteDatabase

        path = url.removeprefix("sqlite:///").removeprefix("sqlite://")
        db = await SqliteDatabase.connect(path)
    if migrate:
        try:
            await apply_migrations(db)
        except BaseException:
            await db.close()
            raise
    return db
