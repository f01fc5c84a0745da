"""Who is logged in to the console: the manager (everything) or a resident (their card only).

Sessions live in memory (a restart logs everyone out) under a random token in an HttpOnly,
SameSite=Strict cookie (Secure over TLS). Each session has its own CSRF token that every form
carries; the login form, before any session, uses a double-submit cookie instead. Failed logins
are limited per client address (a sliding window), and a password is checked with scrypt in a
worker thread so the site's event loop never waits for it.
"""

from __future__ import annotations

import asyncio
import hmac
import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from aiohttp import web

from ...config.console import ConsoleSettings
from .hashing import hash_password, verify_password

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
    def __init__(self, settings: ConsoleSettings) -> None:
        self.settings = settings
        self._sessions: dict[str, Login] = {}
        self._attempts: dict[str, _Attempts] = {}
        self._lifetime = timedelta(hours=settings.session_hours)

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
            oldest = min(self._sessions, key=lambda t: self._sessions[t].expires_at)
            del self._sessions[oldest]
        token = secrets.token_urlsafe(32)
        name = MANAGER if role == MANAGER else self._resident_name(card)
        login = Login(role, card, name, secrets.token_urlsafe(32), _now() + self._lifetime)
        self._sessions[token] = login
        return token, login

    def _account(self, who: str) -> tuple[str | None, str | None, str | None]:
        if who.lower() == MANAGER:
            return MANAGER, None, self.settings.password_hash
        for uid, person in self.settings.residents.items():
            if uid.lower() == who.lower() and person.password_hash:
                return RESIDENT, uid, person.password_hash
        return None, None, None

    def _resident_name(self, card: str | None) -> str:
        person = self.settings.residents.get(card or "")
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
        token = request.cookies.get(COOKIE, "")
        login = self._sessions.get(token)
        if login is None:
            return None
        if login.expires_at <= _now():
            del self._sessions[token]
            return None
        return login

    def logout(self, request: web.Request) -> None:
        self._sessions.pop(request.cookies.get(COOKIE, ""), None)

    def _expire(self) -> None:
        now = _now()
        for token in [t for t, s in self._sessions.items() if s.expires_at <= now]:
            del self._sessions[token]


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
