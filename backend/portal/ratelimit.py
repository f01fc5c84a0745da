"""Login and password-reset attempts counted per key (e-mail, client address) in the database.

Every back-end process on the same database shares the counts, and a restart keeps them.
Each key has a fixed window that starts with its first attempt and lasts `window`; at most
`limit` attempts fit in it. Keys are stored only as SHA-256 hashes (no e-mail addresses or
client addresses at rest), and rows whose window has ended are pruned.

An attempt takes its slot *before* the password is checked: checking "blocked?" first and
counting the failure afterwards would let concurrent requests all pass the check for the last
slot. Taking is one `INSERT … ON CONFLICT DO UPDATE … WHERE … RETURNING` per key, atomic on
both engines (PostgreSQL re-checks the WHERE on the locked, newest row; SQLite has one writer),
inside one transaction so an attempt is counted on all of its keys or on none.

    taken = await limiter.take(["email:ann@x", "ip:10.0.0.1"], now)
    if taken is None: ...                    # 429, nothing counted
    if password_ok: await limiter.succeeded(taken, clear=["email:ann@x"])
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..storage import Database, to_db

# The window restarts when the stored one has ended; otherwise one more hit, but only while
# there is room (a WHERE that is false updates nothing and returns no row: blocked).
_TAKE = (
    "INSERT INTO portal_rate_limits (key_hash, hits, expires_at) VALUES (?, 1, ?)"
    " ON CONFLICT (key_hash) DO UPDATE SET"
    " hits = CASE WHEN portal_rate_limits.expires_at <= ? THEN 1"
    " ELSE portal_rate_limits.hits + 1 END,"
    " expires_at = CASE WHEN portal_rate_limits.expires_at <= ? THEN excluded.expires_at"
    " ELSE portal_rate_limits.expires_at END"
    " WHERE portal_rate_limits.expires_at <= ? OR portal_rate_limits.hits < ?"
    " RETURNING expires_at"
)
# Only within the same window: a slot handed back after a restart must not free a new one.
_GIVE_BACK = (
    "UPDATE portal_rate_limits SET hits = hits - 1"
    " WHERE key_hash = ? AND expires_at = ? AND hits > 0"
)

# PostgreSQL: rows a concurrent `take` holds are skipped, so pruning (which locks rows in
# expiry order) never waits on, nor deadlocks with, an attempt (which locks in key order).
# SQLite has one writer at a time: no row locks to collide on.
_PRUNE = {
    "sqlite": "DELETE FROM portal_rate_limits WHERE expires_at <= ?",
    "postgresql": (
        "DELETE FROM portal_rate_limits WHERE key_hash IN (SELECT key_hash"
        " FROM portal_rate_limits WHERE expires_at <= ? FOR UPDATE SKIP LOCKED)"
    ),
}


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Taken:
    """The slots one attempt took: key hash → the end of the window it was counted in."""

    windows: dict[str, str]


class _Blocked(Exception):
    """Raised inside the transaction to roll back the keys already counted."""


class RateLimiter:
    def __init__(self, db: Database, limit: int, window: timedelta) -> None:
        self._db = db
        self._limit = limit
        self._window = window
        self._next_prune: datetime | None = None

    async def take(self, keys: Sequence[str], now: datetime) -> Taken | None:
        """Count one attempt on every key, or on none and answer None when any key is full."""
        await self._prune(now)
        stamp, ends = to_db(now), to_db(now + self._window)
        windows: dict[str, str] = {}
        try:
            async with self._db.transaction() as tx:
                # Sorted: concurrent attempts lock shared keys' rows in one order (no deadlock).
                for key_hash in sorted({_hash(k) for k in keys}):
                    row = await tx.fetchrow(_TAKE, key_hash, ends, stamp, stamp, stamp, self._limit)
                    if row is None:
                        raise _Blocked
                    windows[key_hash] = str(row["expires_at"])
        except _Blocked:
            return None
        return Taken(windows)

    async def succeeded(self, taken: Taken, *, clear: Sequence[str] = ()) -> None:
        """The attempt was good: hand its slots back, and forget the `clear` keys' counts."""
        cleared = {_hash(k) for k in clear}
        async with self._db.transaction() as tx:
            # One sorted pass over both kinds: the same lock order as `take` (no deadlock).
            for key_hash in sorted(cleared | taken.windows.keys()):
                if key_hash in cleared:
                    await tx.execute("DELETE FROM portal_rate_limits WHERE key_hash = ?", key_hash)
                else:
                    await tx.execute(_GIVE_BACK, key_hash, taken.windows[key_hash])

    async def _prune(self, now: datetime) -> None:
        # At most once per window and process; expired rows are also reset in place by _TAKE,
        # so pruning only keeps the table small, and its timing does not matter.
        if self._next_prune is not None and now < self._next_prune:
            return
        self._next_prune = now + self._window
        await self._db.execute(_PRUNE[self._db.engine], to_db(now))
