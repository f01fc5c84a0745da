"""Failed-login counting per key (e-mail, client address) in a sliding window, in memory.

One process serves the portal; a restart forgets the counts, which only gives an attacker
one more window after a restart he cannot cause from outside.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta


class RateLimiter:
    def __init__(self, limit: int, window: timedelta) -> None:
        self._limit = limit
        self._window = window
        self._failures: dict[str, deque[datetime]] = {}

    def _recent(self, key: str, now: datetime) -> deque[datetime]:
        times = self._failures.setdefault(key, deque())
        while times and times[0] <= now - self._window:
            times.popleft()
        if not times:
            del self._failures[key]  # keep memory bounded by the keys with recent failures
            return deque()
        return times

    def blocked(self, keys: list[str], now: datetime) -> bool:
        return any(len(self._recent(k, now)) >= self._limit for k in keys)

    def fail(self, keys: list[str], now: datetime) -> None:
        for key in keys:
            self._recent(key, now)
            self._failures.setdefault(key, deque()).append(now)

    def clear(self, key: str) -> None:
        self._failures.pop(key, None)
