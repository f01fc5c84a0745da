"""The local outbox of finished sessions, in the central system's SQLite file.

The central system calls `enqueue` on its own connection inside the same SQLite transaction
that closes the transaction record, so a finished session is never stored without its outbox
entry (a crash between the two is impossible). The sync client drains the outbox through
`SqliteSessionOutbox`, which opens its own connection (WAL mode lets both work side by side).
Entries are never deleted when sent, only stamped, so a lost acknowledgement is just resent
and the cloud's idempotency key (site, charge point, transaction id) absorbs the duplicate.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite

from ..domain import FinishedSession, OutboxEntry

SCHEMA = """
CREATE TABLE IF NOT EXISTS session_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    charge_point_id TEXT NOT NULL,
    transaction_id TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at TEXT NOT NULL,
    sent_at TEXT,
    UNIQUE (charge_point_id, transaction_id)
);
CREATE INDEX IF NOT EXISTS session_outbox_unsent ON session_outbox (id) WHERE sent_at IS NULL;
"""


async def ensure_schema(db: aiosqlite.Connection) -> None:
    """Create the outbox table if it is missing (idempotent)."""
    await db.executescript(SCHEMA)


def session_to_json(session: FinishedSession) -> str:
    data: dict[str, Any] = {
        "charge_point_id": session.charge_point_id,
        "transaction_id": session.transaction_id,
        "connector_id": session.connector_id,
        "id_tag": session.id_tag,
        "started_at": session.started_at.isoformat(),
        "stopped_at": session.stopped_at.isoformat(),
        "meter_start_wh": session.meter_start_wh,
        "meter_stop_wh": session.meter_stop_wh,
        "energy_wh": session.energy_wh,
        "stop_reason": session.stop_reason,
        "energy_flagged": session.energy_flagged,
    }
    return json.dumps(data, separators=(",", ":"))


def session_from_json(text: str) -> FinishedSession:
    data = json.loads(text)
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
    created = (now or datetime.now(UTC)).isoformat()
    await db.execute(
        "INSERT OR IGNORE INTO session_outbox"
        " (charge_point_id, transaction_id, payload, created_at) VALUES (?, ?, ?, ?)",
        (session.charge_point_id, session.transaction_id, session_to_json(session), created),
    )


class SqliteSessionOutbox:
    """`SessionOutbox` over the central system's SQLite file, on a connection of its own."""

    def __init__(self, path: Path | str) -> None:
        self._path = str(path)
        self._db: aiosqlite.Connection | None = None

    async def open(self) -> None:
        self._db = await aiosqlite.connect(self._path)
        await self._db.execute("PRAGMA journal_mode=WAL")
        await self._db.execute("PRAGMA busy_timeout=5000")
        await ensure_schema(self._db)
        await self._db.commit()

    async def close(self) -> None:
        if self._db is not None:
            await self._db.close()
            self._db = None

    @property
    def _conn(self) -> aiosqlite.Connection:
        if self._db is None:
            raise RuntimeError("SqliteSessionOutbox is not open")
        return self._db

    async def outbox_pending(self, limit: int) -> list[OutboxEntry]:
        async with self._conn.execute(
            "SELECT id, payload, created_at FROM session_outbox"
            " WHERE sent_at IS NULL ORDER BY id LIMIT ?",
            (limit,),
        ) as cursor:
            rows = await cursor.fetchall()
        return [
            OutboxEntry(
                id=int(row[0]),
                session=session_from_json(str(row[1])),
                created_at=datetime.fromisoformat(str(row[2])),
            )
            for row in rows
        ]

    async def outbox_mark_sent(self, ids: Sequence[int]) -> None:
        if not ids:
            return
        sent = datetime.now(UTC).isoformat()
        await self._conn.executemany(
            "UPDATE session_outbox SET sent_at = ? WHERE id = ? AND sent_at IS NULL",
            [(sent, entry_id) for entry_id in ids],
        )
        await self._conn.commit()

    async def outbox_unsent_count(self) -> int:
        async with self._conn.execute(
            "SELECT count(*) FROM session_outbox WHERE sent_at IS NULL"
        ) as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0
