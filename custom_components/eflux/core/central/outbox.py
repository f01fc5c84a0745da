"""The outbox of finished sessions, in the central system's SQLite file.

The central system calls `enqueue` on its own connection inside the same SQLite transaction
that closes the transaction record, so a finished session is never stored without its outbox
entry (a crash between the two is impossible). The cloud sync drains the outbox through the
`SessionOutbox` protocol (core/domain.py), implemented here by `SqliteSessionOutbox` on a
connection of its own (WAL mode lets both work side by side).
Entries are never deleted when sent, only stamped, so a lost acknowledgement is just resent
and the cloud's idempotency key (site, charge point, transaction id) absorbs the duplicate.
A payload is the stored form of a session (JSON of its fields); what goes on the wire to the
cloud is the cloud's own business (core/cloud/client.py).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import fields
from datetime import datetime
from typing import Any

import aiosqlite

from ..clock import utc_now
from ..domain import FinishedSession, OutboxEntry
from ..sqlite_file import SqliteFile

SCHEMA = """
CREATE TABLE IF NOT EXISTS session_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    charge_point_id TEXT NOT NULL,
    transaction_id TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at TEXT NOT NULL,
    sent_at TEXT,
    rejected_at TEXT,
    rejected_reason TEXT,
    UNIQUE (charge_point_id, transaction_id)
);
CREATE INDEX IF NOT EXISTS session_outbox_unsent ON session_outbox (id) WHERE sent_at IS NULL;
CREATE TABLE IF NOT EXISTS cloud_sync_state (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""
# Columns added after the first release: added to older files in place.
_ADDED_COLUMNS = (("rejected_at", "TEXT"), ("rejected_reason", "TEXT"))
_PENDING = "sent_at IS NULL AND rejected_at IS NULL"


async def ensure_schema(db: aiosqlite.Connection) -> None:
    """Create the outbox tables if they are missing, add newer columns (idempotent)."""
    await db.executescript(SCHEMA)
    async with db.execute("PRAGMA table_info(session_outbox)") as cursor:
        have = {str(row[1]) async for row in cursor}
    for name, kind in _ADDED_COLUMNS:
        if name not in have:
            await db.execute(f"ALTER TABLE session_outbox ADD COLUMN {name} {kind}")


def _payload(session: FinishedSession) -> str:
    """The stored form of a session: its fields in order, datetimes in ISO 8601."""
    data = {f.name: _plain(getattr(session, f.name)) for f in fields(session)}
    return json.dumps(data, separators=(",", ":"))


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _session(payload: str) -> FinishedSession:
    data = json.loads(payload)
    return FinishedSession(
        charge_point_id=data["charge_point_id"],
        transaction_id=data["transaction_id"],
        connector_id=int(data["connector_id"]),
        id_tag=data["id_tag"],
        started_at=datetime.fromisoformat(data["started_at"]),
        stopped_at=datetime.fromisoformat(data["stopped_at"]),
        meter_start_wh=float(data["meter_start_wh"]),
        meter_stop_wh=float(data["meter_stop_wh"]),
        energy_wh=float(data["energy_wh"]),
        stop_reason=data["stop_reason"],
        energy_flagged=bool(data["energy_flagged"]),
    )


async def enqueue(
    db: aiosqlite.Connection, session: FinishedSession, now: datetime | None = None
) -> None:
    """Add a finished session on the caller's connection; the caller commits.

    A session already queued (same charge point and transaction id) is left as it was: a
    StopTransaction replayed by a charger must not queue it twice.
    """
    created = (now or utc_now()).isoformat()
    await db.execute(
        "INSERT OR IGNORE INTO session_outbox"
        " (charge_point_id, transaction_id, payload, created_at) VALUES (?, ?, ?, ?)",
        (session.charge_point_id, session.transaction_id, _payload(session), created),
    )


async def replace_pending(db: aiosqlite.Connection, session: FinishedSession) -> bool:
    """Put `session` in place of its queued, unsent entry (a correction of an estimate, see
    ledger.stop); False when there is no such entry (none, or already sent)."""
    cursor = await db.execute(
        "UPDATE session_outbox SET payload = ? WHERE charge_point_id = ? AND transaction_id = ?"
        " AND sent_at IS NULL",
        (_payload(session), session.charge_point_id, session.transaction_id),
    )
    return cursor.rowcount > 0


class SqliteSessionOutbox(SqliteFile):
    """The `SessionOutbox` over the central system's SQLite file, on a connection of its own."""

    async def _prepare(self, db: aiosqlite.Connection) -> None:
        await ensure_schema(db)

    async def outbox_pending(self, limit: int) -> list[OutboxEntry]:
        async with self._conn.execute(
            f"SELECT id, payload, created_at FROM session_outbox WHERE {_PENDING}"  # noqa: S608 (fixed text)
            " ORDER BY id LIMIT ?",
            (limit,),
        ) as cursor:
            rows = await cursor.fetchall()
        return [
            OutboxEntry(
                id=int(row[0]),
                session=_session(str(row[1])),
                created_at=datetime.fromisoformat(str(row[2])),
            )
            for row in rows
        ]

    async def outbox_mark_sent(self, ids: Sequence[int]) -> None:
        if not ids:
            return
        sent = utc_now().isoformat()
        await self._conn.executemany(
            "UPDATE session_outbox SET sent_at = ? WHERE id = ? AND sent_at IS NULL",
            [(sent, entry_id) for entry_id in ids],
        )
        await self._conn.commit()

    async def outbox_unsent_count(self) -> int:
        return await self._count(_PENDING)

    async def outbox_rejected_count(self) -> int:
        return await self._count("sent_at IS NULL AND rejected_at IS NOT NULL")

    async def _count(self, where: str) -> int:
        async with self._conn.execute(
            f"SELECT count(*) FROM session_outbox WHERE {where}"  # noqa: S608 (fixed text)
        ) as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def outbox_mark_rejected(self, entry_id: int, reason: str) -> None:
        """Park an entry the cloud refuses for good (kept, visible, retryable; never dropped)."""
        await self._conn.execute(
            "UPDATE session_outbox SET rejected_at = ?, rejected_reason = ?"
            " WHERE id = ? AND sent_at IS NULL",
            (utc_now().isoformat(), reason[:500], entry_id),
        )
        await self._conn.commit()

    async def outbox_rejected(self) -> list[tuple[int, str, str]]:
        """(id, "charge point/transaction", reason) of parked entries, oldest first."""
        async with self._conn.execute(
            "SELECT id, charge_point_id || '/' || transaction_id, rejected_reason"
            " FROM session_outbox WHERE sent_at IS NULL AND rejected_at IS NOT NULL ORDER BY id"
        ) as cursor:
            return [(int(r[0]), str(r[1]), str(r[2])) async for r in cursor]

    async def outbox_retry_rejected(self) -> int:
        """Put parked entries back in the queue (after a fix on either side)."""
        cursor = await self._conn.execute(
            "UPDATE session_outbox SET rejected_at = NULL, rejected_reason = NULL"
            " WHERE sent_at IS NULL AND rejected_at IS NOT NULL"
        )
        await self._conn.commit()
        return cursor.rowcount

    async def state_get(self, key: str) -> str | None:
        """A value the sync keeps across restarts (e.g. the departures cursor)."""
        async with self._conn.execute(
            "SELECT value FROM cloud_sync_state WHERE key = ?", (key,)
        ) as cursor:
            row = await cursor.fetchone()
        return str(row[0]) if row else None

    async def state_set(self, key: str, value: str) -> None:
        await self._conn.execute(
            "INSERT OR REPLACE INTO cloud_sync_state (key, value) VALUES (?, ?)", (key, value)
        )
        await self._conn.commit()
