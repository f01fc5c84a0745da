# ruff: noqa: S608  (SQL text is built from constant column lists only; values are bound)
"""The append-only audit log: who did what to which record, and when."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from ..storage import Database, Queries, to_db
from .models import AuditEntry
from .rows import columns, records


class AuditLog:
    def __init__(self, db: Database) -> None:
        self._db = db

    @staticmethod
    async def add(
        tx: Queries,
        *,
        at: datetime,
        actor: str,
        account_id: int | None,
        action: str,
        subject: str,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Write an entry inside the caller's transaction (the change and its audit go together)."""
        await tx.execute(
            "INSERT INTO audit_log (at, actor, account_id, action, subject, detail)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            to_db(at),
            actor,
            account_id,
            action,
            subject,
            json.dumps(detail or {}, sort_keys=True, default=str),
        )

    async def latest(self, limit: int) -> list[AuditEntry]:
        """The newest `limit` entries of every account, newest first (the admin's page)."""
        rows = await self._db.fetch(
            f"SELECT {columns(AuditEntry)} FROM audit_log ORDER BY id DESC LIMIT ?", limit
        )
        return records(AuditEntry, rows)

    async def list(self, scope: int | None, *, limit: int = 50, after: int = 0) -> list[AuditEntry]:
        """Newest last; `scope` = an account id, or None for everything (admins)."""
        sql = f"SELECT {columns(AuditEntry)} FROM audit_log WHERE id > ?"
        args: list[Any] = [after]
        if scope is not None:
            sql += " AND account_id = ?"
            args.append(scope)
        rows = await self._db.fetch(sql + " ORDER BY id LIMIT ?", *args, limit)
        return records(AuditEntry, rows)
