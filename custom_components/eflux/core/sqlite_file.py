"""A connection of its own to one of the site's SQLite files (WAL, so the central system's own
connection and this one read and write side by side), opened and closed by its owner."""

from __future__ import annotations

from pathlib import Path

import aiosqlite


class SqliteFile:
    """Subclasses set up their tables in `_prepare` (run once per `open`, then committed)."""

    def __init__(self, path: Path | str) -> None:
        self._path = str(path)
        self._db: aiosqlite.Connection | None = None

    async def open(self) -> None:
        self._db = await aiosqlite.connect(self._path)
        await self._db.execute("PRAGMA journal_mode=WAL")
        await self._db.execute("PRAGMA busy_timeout=5000")
        await self._prepare(self._db)
        await self._db.commit()

    async def _prepare(self, db: aiosqlite.Connection) -> None:
        """Create or upgrade the owner's tables."""

    async def close(self) -> None:
        if self._db is not None:
            await self._db.close()
            self._db = None

    @property
    def _conn(self) -> aiosqlite.Connection:
        if self._db is None:
            raise RuntimeError(f"{type(self).__name__} is not open")
        return self._db
