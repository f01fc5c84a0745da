# ruff: noqa: S608  (SQL text is built from constant column lists only; values are bound)
"""The review queue: sessions that failed a plausibility rule at the door (`door`).

A session waits with `review = pending` and is billed by no run until an admin decides:
- accept: it is billed as reported;
- correct: energy and meter values (and the stop time) are replaced by the admin's, which must
  pass the rules; it is billed as corrected;
- reject: it stays stored (nothing is lost) and is never billed.
A decision is final (a second one is a `Conflict`), and each one writes an audit entry with
the values before and after, in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..storage import Database, Queries, to_db
from .audit import AuditLog
from .door import implausible
from .errors import Conflict, Invalid, NotFound
from .models import SessionRecord
from .point_history import point_at
from .rows import columns, record, records

_SESSION = columns(SessionRecord)
STATES = ("pending", "accepted", "corrected", "rejected")


@dataclass(frozen=True, slots=True)
class Correction:
    energy_wh: float
    meter_start_wh: float
    meter_stop_wh: float
    stopped_at: datetime | None = None  # None: as reported
    note: str = ""


class Review:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def list(
        self, status: str = "pending", *, limit: int = 50, after: int = 0
    ) -> list[SessionRecord]:
        """Sessions of the queue in `status` (pending: those waiting), oldest first."""
        if status not in STATES:
            raise Invalid(f"status must be one of {', '.join(STATES)}")
        rows = await self._db.fetch(
            f"SELECT {_SESSION} FROM sessions WHERE review = ? AND id > ? ORDER BY id LIMIT ?",
            status,
            after,
            limit,
        )
        return records(SessionRecord, rows)

    async def accept(
        self, session_id: int, *, now: datetime, actor: str, note: str = ""
    ) -> SessionRecord:
        async with self._db.transaction() as tx:
            before = await _pending(tx, session_id)
            await _decide(tx, session_id, "review = 'accepted'")
            await _audit(tx, before, "accept", now, actor, {"note": note})
        return await self._get(session_id)

    async def reject(
        self, session_id: int, *, now: datetime, actor: str, reason: str
    ) -> SessionRecord:
        async with self._db.transaction() as tx:
            before = await _pending(tx, session_id)
            await _decide(tx, session_id, "review = 'rejected'")
            await _audit(tx, before, "reject", now, actor, {"reason": reason})
        return await self._get(session_id)

    async def correct(
        self, session_id: int, fix: Correction, *, now: datetime, actor: str
    ) -> SessionRecord:
        """Replace the reported values; the corrected session must pass the rules."""
        async with self._db.transaction() as tx:
            before = await _pending(tx, session_id)
            stopped_at = fix.stopped_at or before.stopped_at
            if stopped_at < before.started_at:
                raise Invalid("stopped_at is before the session's start")
            point = None
            if before.charge_point_id is not None:
                point, _ = await point_at(tx, before.charge_point_id, before.started_at)
            reasons = implausible(
                started_at=before.started_at,
                stopped_at=stopped_at,
                energy_wh=fix.energy_wh,
                meter_start_wh=fix.meter_start_wh,
                meter_stop_wh=fix.meter_stop_wh,
                point=point,
                now=now,
            )
            if reasons:
                raise Invalid("the correction still fails: " + "; ".join(reasons))
            await _decide(
                tx,
                session_id,
                "review = 'corrected', energy_wh = ?, meter_start_wh = ?,"
                " meter_stop_wh = ?, stopped_at = ?",
                round(fix.energy_wh),
                fix.meter_start_wh,
                fix.meter_stop_wh,
                to_db(stopped_at),
            )
            after = {
                "energy_wh": round(fix.energy_wh),
                "meter_start_wh": fix.meter_start_wh,
                "meter_stop_wh": fix.meter_stop_wh,
                "stopped_at": stopped_at.isoformat(),
                "note": fix.note,
            }
            await _audit(tx, before, "correct", now, actor, after)
        return await self._get(session_id)

    async def _get(self, session_id: int) -> SessionRecord:
        row = await self._db.fetchrow(f"SELECT {_SESSION} FROM sessions WHERE id = ?", session_id)
        assert row is not None
        return record(SessionRecord, row)


async def _pending(tx: Queries, session_id: int) -> SessionRecord:
    """The session, if it waits for a decision."""
    row = await tx.fetchrow(f"SELECT {_SESSION} FROM sessions WHERE id = ?", session_id)
    if row is None:
        raise NotFound(f"session {session_id} not found")
    found = record(SessionRecord, row)
    if found.review != "pending":
        raise Conflict(f"session {session_id} is not waiting for review ({found.review})")
    return found


async def _decide(tx: Queries, session_id: int, assignments: str, *args: Any) -> None:
    """Apply a decision only while the session is pending: of two concurrent decisions the
    second finds it decided (the UPDATE waits for the first's row lock) and is a Conflict."""
    done = await tx.fetchval(
        f"UPDATE sessions SET {assignments} WHERE id = ? AND review = 'pending' RETURNING id",
        *args,
        session_id,
    )
    if done is None:
        raise Conflict(f"session {session_id} was decided meanwhile")


async def _audit(
    tx: Queries,
    before: SessionRecord,
    decision: str,
    now: datetime,
    actor: str,
    detail: dict[str, Any],
) -> None:
    reported = {
        "energy_wh": before.energy_wh,
        "meter_start_wh": before.meter_start_wh,
        "meter_stop_wh": before.meter_stop_wh,
        "stopped_at": before.stopped_at.isoformat(),
        "reasons": before.review_reasons,
    }
    await AuditLog.add(
        tx,
        at=now,
        actor=actor,
        account_id=before.account_id,
        action=f"session.review.{decision}",
        subject=f"session:{before.id}",
        detail={"reported": reported, **detail},
    )
