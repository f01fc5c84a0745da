"""Who is logged in to the console: the manager (everything) or a resident (their card only).

A session is a random token in an HttpOnly, SameSite=Strict cookie (Secure over TLS); the
server keeps only the token's SHA-256, in memory and, once `load`ed with a store, in the site's
SQLite file (store.py), so a restart logs nobody out. Each session has its own CSRF token that
every form carries; the login form, before any session, uses a double-submit cookie instead.
Failed logins are limited per client address (a sliding window, in memory), and a password is
checked with scrypt in a worker thread so the site's event loop never waits for it. Residents
are site.yaml's and those set through the local API (`people`: the card list now).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from aiohttp import web

from ...config.console import ConsoleSettings, Resident
from .hashing import hash_password, verify_password

if TYPE_CHECKING:
    from .store import ConsoleStore

_LOGGER = logging.getLogger(__name__)

COOKIE = "eflux_console"
LOGIN_CSRF_COOKIE = "eflux_console_login"
MANAGER = "manager"
RESIDENT = "resident"
MAX_FAILURES = 5
FAILURE_WINDOW_S = 300.0
MAX_SESSIONS = 1000
# Checked when the name is unknown, so that an unknown name costs as long as a wrong password.
_DUMMY_HASH = hash_password(secrets.token_hex(8))


@dataclass
class Login:
    role: str
    card: str | None  # a resident's card
    name: str
    csrf: str
    expires_at: datetime


@dataclass
class _Attempts:
    failures: deque[float] = field(default_factory=deque)


class TooManyAttempts(Exception):
    def __init__(self, retry_after_s: int) -> None:
        super().__init__(retry_after_s)
        self.retry_after_s = retry_after_s


class ConsoleAuth:
    def __init__(
        self,
        settings: ConsoleSettings,
        people: Callable[[], Mapping[str, Resident]] | None = None,
    ) -> None:
        self.settings = settings
        self._people = people or (lambda: settings.residents)
        self._sessions: dict[str, Login] = {}  # by the token's SHA-256
        self._attempts: dict[str, _Attempts] = {}
        self._lifetime = timedelta(hours=settings.session_hours)
        self._store: ConsoleStore | None = None
        self._writes: set[asyncio.Task[None]] = set()

    async def load(self, store: ConsoleStore) -> None:
        """Take the stored logins (a restart keeps them) and store new ones from now on."""
        stored = await store.logins(_now())
        self._sessions = {**stored, **self._sessions}
        self._store = store

    async def settle(self) -> None:
        """Wait for every write to the store (when the console stops)."""
        while self._writes:
            await asyncio.gather(*self._writes, return_exceptions=True)
        self._store = None

    def _drop(self, key: str) -> None:
        if self._sessions.pop(key, None) is not None and self._store is not None:
            self._later(self._store.drop_login(key))

    def _later(self, write: object) -> None:
        async def run() -> None:
            try:
                await write  # type: ignore[misc]
            except Exception:
                _LOGGER.exception("the console could not store a login change")

        task = asyncio.get_running_loop().create_task(run())
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    # ---- logging in ------------------------------------------------------------------------
    async def login(self, who: str, password: str, client: str) -> tuple[str, Login] | None:
        """A new session for a right name and password; None when wrong; TooManyAttempts."""
        self._check_rate(client)
        role, card, stored = self._account(who.strip())
        ok = await asyncio.to_thread(verify_password, password, stored or _DUMMY_HASH)
        if not ok or stored is None or role is None:
            self._attempts.setdefault(client, _Attempts()).failures.append(time.monotonic())
            return None
        self._attempts.pop(client, None)
        if len(self._sessions) >= MAX_SESSIONS:
            self._expire()
        if len(self._sessions) >= MAX_SESSIONS:
            self._drop(min(self._sessions, key=lambda t: self._sessions[t].expires_at))
        token = secrets.token_urlsafe(32)
        name = MANAGER if role == MANAGER else self._resident_name(card)
        login = Login(role, card, name, secrets.token_urlsafe(32), _now() + self._lifetime)
        self._sessions[token_key(token)] = login
        if self._store is not None:
            await self._store.save_login(token, login)  # stored before the cookie is sent
        return token, login

    def _account(self, who: str) -> tuple[str | None, str | None, str | None]:
        if who.lower() == MANAGER:
            return MANAGER, None, self.settings.password_hash
        for uid, person in self._people().items():
            if uid.lower() == who.lower() and person.password_hash:
                return RESIDENT, uid, person.password_hash
        return None, None, None

    def _resident_name(self, card: str | None) -> str:
        person = self._people().get(card or "")
        return (person.name if person else None) or card or ""

    def _check_rate(self, client: str) -> None:
        attempts = self._attempts.get(client)
        if attempts is None:
            return
        now = time.monotonic()
        while attempts.failures and now - attempts.failures[0] > FAILURE_WINDOW_S:
            attempts.failures.popleft()
        if len(attempts.failures) >= MAX_FAILURES:
            wait = int(FAILURE_WINDOW_S - (now - attempts.failures[0])) + 1
            raise TooManyAttempts(wait)

    # ---- sessions --------------------------------------------------------------------------
    def current(self, request: web.Request) -> Login | None:
        key = token_key(request.cookies.get(COOKIE, ""))
        login = self._sessions.get(key)
        if login is None:
            return None
        if login.expires_at <= _now():
            self._drop(key)
            return None
        return login

    async def logout(self, request: web.Request) -> None:
        key = token_key(request.cookies.get(COOKIE, ""))
        self._sessions.pop(key, None)
        if self._store is not None:
            await self._store.drop_login(key)

    async def end_logins(self, card: str) -> None:
        """Log out every session of the resident holding `card` (their login changed)."""
        ended = [
            key
            for key, login in self._sessions.items()
            if login.card is not None and login.card.casefold() == card.casefold()
        ]
        for key in ended:
            del self._sessions[key]
            if self._store is not None:
                await self._store.drop_login(key)

    def _expire(self) -> None:
        now = _now()
        for key in [k for k, s in self._sessions.items() if s.expires_at <= now]:
            self._drop(key)


def token_key(token: str) -> str:
    """What the server keeps of a cookie's token: its SHA-256."""
    return hashlib.sha256(token.encode()).hexdigest()


def check_csrf(login: Login, given: object) -> bool:
    return isinstance(given, str) and hmac.compare_digest(given.encode(), login.csrf.encode())


def set_cookie(
    request: web.Request,
    response: web.StreamResponse,
    name: str,
    value: str,
    *,
    secure: bool = False,
) -> None:
    """HttpOnly, SameSite=Strict, only for /console; Secure over TLS or when told so."""
    response.set_cookie(
        name,
        value,
        path="/console",
        httponly=True,
        samesite="Strict",
        secure=secure or request.secure,
    )


def _now() -> datetime:
    # Session lifetimes are wall-clock (a browser's cookie), not the site's simulated time.
    return datetime.now().astimezone()
