"""Login sessions and password-reset tokens, kept in the database as hashes only.

A visitor gets an anonymous session (it carries the CSRF token of the login form); logging in
replaces it with a new id (no session fixation), and logging out deletes it.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..storage import Database, to_db
from ..store import User
from ..store.errors import NotFound


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class WebSession:
    secret: str  # the cookie value; only its hash is stored
    csrf: str
    user_id: int | None


class WebSessions:
    def __init__(self, db: Database, lifetime: timedelta) -> None:
        self._db = db
        self._lifetime = lifetime

    async def start(self, user_id: int | None, now: datetime) -> WebSession:
        secret, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        await self._db.execute(
            "INSERT INTO portal_sessions (id_hash, user_id, csrf, created_at, expires_at)"
            " VALUES (?, ?, ?, ?, ?)",
            _hash(secret),
            user_id,
            csrf,
            to_db(now),
            to_db(now + self._lifetime),
        )
        return WebSession(secret, csrf, user_id)

    async def find(self, secret: str, now: datetime) -> WebSession | None:
        if not secret or len(secret) > 100:
            return None
        row = await self._db.fetchrow(
            "SELECT user_id, csrf, expires_at FROM portal_sessions WHERE id_hash = ?",
            _hash(secret),
        )
        if row is None or row["expires_at"] <= to_db(now):
            return None
        user_id = row["user_id"]
        return WebSession(secret, row["csrf"], None if user_id is None else int(user_id))

    async def end(self, secret: str) -> None:
        await self._db.execute("DELETE FROM portal_sessions WHERE id_hash = ?", _hash(secret))

    async def end_all(self, user_id: int) -> None:
        await self._db.execute("DELETE FROM portal_sessions WHERE user_id = ?", user_id)

    async def purge(self, now: datetime) -> None:
        await self._db.execute("DELETE FROM portal_sessions WHERE expires_at <= ?", to_db(now))


class PasswordResets:
    def __init__(self, db: Database, lifetime: timedelta) -> None:
        self._db = db
        self._lifetime = lifetime

    async def issue(self, user: User, now: datetime) -> str:
        token = secrets.token_urlsafe(32)
        await self._db.execute(
            "INSERT INTO password_resets (token_hash, user_id, created_at, expires_at)"
            " VALUES (?, ?, ?, ?)",
            _hash(token),
            user.id,
            to_db(now),
            to_db(now + self._lifetime),
        )
        return token

    async def valid_user(self, token: str, now: datetime) -> int:
        """The user a usable token belongs to; NotFound for unknown, used or expired ones."""
        row = await self._db.fetchrow(
            "SELECT user_id, expires_at, used_at FROM password_resets WHERE token_hash = ?",
            _hash(token[:100]),
        )
        if row is None or row["used_at"] is not None or row["expires_at"] <= to_db(now):
            raise NotFound("this reset link is unknown, used or expired")
        return int(row["user_id"])

    async def use(self, token: str, now: datetime) -> int:
        """Mark the token used (once only: a second use finds it used) and return its user."""
        user_id = await self.valid_user(token, now)
        async with self._db.transaction() as tx:
            row = await tx.fetchrow(
                "UPDATE password_resets SET used_at = ? WHERE token_hash = ? AND used_at IS NULL"
                " RETURNING user_id",
                to_db(now),
                _hash(token),
            )
        if row is None:
            raise NotFound("this reset link is unknown, used or expired")
        return user_id
