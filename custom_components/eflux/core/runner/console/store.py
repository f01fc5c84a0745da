"""What the console keeps across restarts, in the site's SQLite file (the central system's
`central.db_path`), on a connection of its own (WAL lets it work beside the central system's,
as the cloud outbox does):

- `console_samples`: the 24-hour chart, one row a minute (phases as JSON arrays);
- `console_logins`: who is logged in — the SHA-256 of each session's cookie token (never the
  token itself: a copy of the file logs nobody in), role, card, name, CSRF token, expiry;
- `console_residents`: residents set through the local API (`/api/residents`), beside
  site.yaml's.

It also reads the site config the cloud link keeps in the same file (`cloud_sync_state`,
core/cloud/sync.py), for the report's guest usage (credit.py).
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from typing import Any

import aiosqlite
from aiohttp import web

from ...cloud.sync import CONFIG_KEY
from ...config.console import Resident
from ...sqlite_file import SqliteFile
from .auth import Login, token_key
from .history import Phases, Sample

SCHEMA = """
CREATE TABLE IF NOT EXISTS console_samples (
    at TEXT PRIMARY KEY,
    grid_a TEXT NOT NULL,
    allocated_a TEXT NOT NULL,
    fuse_a TEXT NOT NULL,
    meter_lost INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS console_logins (
    token_sha256 TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    card TEXT,
    name TEXT NOT NULL,
    csrf TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS console_residents (
    card TEXT PRIMARY KEY,
    name TEXT,
    apartment TEXT,
    password_hash TEXT
);
"""


class ConsoleStore(SqliteFile):
    async def _prepare(self, db: aiosqlite.Connection) -> None:
        await db.executescript(SCHEMA)

    async def _write(self, sql: str, *args: object) -> None:
        await self._conn.execute(sql, args)
        await self._conn.commit()

    # ---- the chart ---------------------------------------------------------------------------
    async def save_sample(self, sample: Sample, keep_from: datetime) -> None:
        """Store (or replace) a minute and forget minutes before `keep_from`."""
        conn = self._conn
        await conn.execute(
            "INSERT OR REPLACE INTO console_samples (at, grid_a, allocated_a, fuse_a, meter_lost)"
            " VALUES (?, ?, ?, ?, ?)",
            (
                _time(sample.at),
                json.dumps(sample.grid_a),
                json.dumps(sample.allocated_a),
                json.dumps(sample.fuse_a),
                int(sample.meter_lost),
            ),
        )
        await conn.execute("DELETE FROM console_samples WHERE at < ?", (_time(keep_from),))
        await conn.commit()

    async def samples(self, since: datetime) -> list[Sample]:
        async with self._conn.execute(
            "SELECT at, grid_a, allocated_a, fuse_a, meter_lost FROM console_samples"
            " WHERE at >= ? ORDER BY at",
            (_time(since),),
        ) as cursor:
            return [
                Sample(
                    datetime.fromisoformat(r[0]),
                    _phases(r[1]),
                    _phases(r[2]),
                    _phases(r[3]),
                    bool(r[4]),
                )
                async for r in cursor
            ]

    # ---- logins ------------------------------------------------------------------------------
    async def save_login(self, token: str, login: Login) -> None:
        await self._write(
            "INSERT OR REPLACE INTO console_logins"
            " (token_sha256, role, card, name, csrf, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
            token_key(token),
            login.role,
            login.card,
            login.name,
            login.csrf,
            _time(login.expires_at),
        )

    async def drop_login(self, key: str) -> None:
        await self._write("DELETE FROM console_logins WHERE token_sha256 = ?", key)

    async def logins(self, now: datetime) -> dict[str, Login]:
        """Unexpired logins by token key; expired ones are deleted."""
        await self._write("DELETE FROM console_logins WHERE expires_at <= ?", _time(now))
        async with self._conn.execute(
            "SELECT token_sha256, role, card, name, csrf, expires_at FROM console_logins"
        ) as cursor:
            return {
                r[0]: Login(r[1], r[2], r[3], r[4], datetime.fromisoformat(r[5]))
                async for r in cursor
            }

    # ---- what the cloud link keeps -----------------------------------------------------------
    async def cloud_config(self) -> dict[str, Any] | None:
        """The site config the cloud last sent (None: never synced, or the file has no table)."""
        try:
            async with self._conn.execute(
                "SELECT value FROM cloud_sync_state WHERE key = ?", (CONFIG_KEY,)
            ) as cursor:
                row = await cursor.fetchone()
        except sqlite3.OperationalError:  # no such table: no cloud link ever used this file
            return None
        if row is None:
            return None
        value = json.loads(row[0])
        return value if isinstance(value, dict) else None

    # ---- residents set through the API -------------------------------------------------------
    async def residents(self) -> dict[str, Resident]:
        async with self._conn.execute(
            "SELECT card, name, apartment, password_hash FROM console_residents ORDER BY card"
        ) as cursor:
            return {r[0]: Resident(r[0], r[1], r[2], r[3]) async for r in cursor}

    async def save_resident(self, person: Resident) -> None:
        await self._write(
            "INSERT OR REPLACE INTO console_residents (card, name, apartment, password_hash)"
            " VALUES (?, ?, ?, ?)",
            person.card,
            person.name,
            person.apartment,
            person.password_hash,
        )

    async def drop_resident(self, card: str) -> None:
        await self._write("DELETE FROM console_residents WHERE card = ?", card)


def _time(value: datetime) -> str:
    """UTC ISO text: compared as text in SQL, so every row must have the same form."""
    return value.astimezone(UTC).isoformat(timespec="seconds")


def _phases(text: str) -> Phases:
    values = json.loads(text)
    return (float(values[0]), float(values[1]), float(values[2]))


STORE = web.AppKey("console_store", ConsoleStore)
