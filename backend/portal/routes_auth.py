"""Login (rate limited, new session id), logout, and the password-reset flow via the outbox."""

from __future__ import annotations

import secrets
from datetime import datetime
from pathlib import Path

from aiohttp import web

from ..store import NotFound, User
from ..store.security import check_password
from .clientaddr import request_client
from .forms import field
from .keys import CLOCK, CONFIG, LIMITER, STORE
from .middleware import COOKIE, PREFIX, redirect, set_cookie, web_sessions
from .publicurl import link_base
from .render import CTX_SESSION, CTX_USER, render
from .sessions import PasswordResets

MIN_PASSWORD = 10


async def login_page(request: web.Request) -> web.Response:
    if request.get(CTX_USER) is not None:
        return redirect("/dashboard")
    return render(request, "login.html", error=None, email="")


async def login(request: web.Request) -> web.Response:
    form = await request.post()
    email, password = field(form, "email", 254).lower(), field(form, "password", 200)
    now: datetime = request.app[CLOCK]()
    limiter = request.app[LIMITER]
    keys = [f"email:{email}", f"ip:{request_client(request)}"]
    # The slot is taken before the password is checked, so concurrent guesses cannot all
    # pass a check for the last one; a good login hands it back.
    taken = await limiter.take(keys, now)
    if taken is None:
        return render(request, "login.html", 429, error="login.too_many", email=email)
    user = await _verify(request, email, password)
    if user is None:
        return render(request, "login.html", 401, error="login.failed", email=email)
    await limiter.succeeded(taken, clear=keys[:1])  # the address's failures stay counted
    sessions = web_sessions(request)
    await sessions.purge(now)
    old = request[CTX_SESSION]
    if old is not None:
        await sessions.end(old.secret)  # the pre-login id dies: no session fixation
    fresh = await sessions.start(user.id, now)
    response = redirect("/dashboard")
    set_cookie(request, response, fresh)
    return response


async def _verify(request: web.Request, email: str, password: str) -> User | None:
    """The user for a right e-mail and password; the same scrypt work either way (no oracle).

    The store's check skips the hash for an e-mail it does not know (7.5 ms against 63 ms),
    so an unknown or disabled address is checked against a hash that matches nothing.
    """
    accounts = request.app[STORE].accounts
    known = await accounts.find_user(email)
    if known is None or known.disabled:
        check_password(password, None)
        return None
    return await accounts.verify_password(email, password)


async def logout(request: web.Request) -> web.Response:
    session = request[CTX_SESSION]
    if session is not None:
        await web_sessions(request).end(session.secret)
    response = redirect("/login")
    response.del_cookie(COOKIE, path=PREFIX + "/")
    return response


def _resets(request: web.Request) -> PasswordResets:
    return PasswordResets(request.app[STORE].db, request.app[CONFIG].reset_lifetime)


async def reset_page(request: web.Request) -> web.Response:
    return render(request, "reset_request.html", sent=False)


async def reset_request(request: web.Request) -> web.Response:
    form = await request.post()
    email = field(form, "email", 254).lower()
    now: datetime = request.app[CLOCK]()
    limiter = request.app[LIMITER]
    keys = [f"reset:{email}", f"reset-ip:{request_client(request)}"]
    # Every request counts (never handed back): the outbox must not be flooded.
    if await limiter.take(keys, now) is None:
        return render(request, "reset_request.html", 429, sent=False)
    user = await request.app[STORE].accounts.find_user(email)
    if user is not None and not user.disabled:
        token = await _resets(request).issue(user, now)
        # Never request.host: a forged Host header would mail the victim the attacker's link.
        link = f"{link_base(request)}{PREFIX}/reset/{token}"
        write_mail(
            request.app[CONFIG].outbox,
            now,
            user.email,
            "E-Flux password reset",
            f"Open this link within an hour to choose a new password:\n{link}\n",
        )
    # The same answer for known and unknown addresses: no way to probe for accounts.
    return render(request, "reset_request.html", sent=True)


def write_mail(outbox: Path, now: datetime, to: str, subject: str, body: str) -> Path:
    outbox.mkdir(parents=True, exist_ok=True)
    path = outbox / f"{now.strftime('%Y%m%dT%H%M%S%f')}-{secrets.token_hex(4)}.eml"
    path.write_text(f"To: {to}\nSubject: {subject}\n\n{body}", encoding="utf-8")
    return path


async def reset_form(request: web.Request) -> web.Response:
    token = request.match_info["token"]
    await _resets(request).valid_user(token, request.app[CLOCK]())
    return render(request, "reset_form.html", token=token, error=None)


async def reset_done(request: web.Request) -> web.Response:
    token = request.match_info["token"]
    form = await request.post()
    password = field(form, "password", 200)
    now: datetime = request.app[CLOCK]()
    if len(password) < MIN_PASSWORD or password != field(form, "password2", 200):
        await _resets(request).valid_user(token, now)
        return render(request, "reset_form.html", 400, token=token, error="reset.weak")
    try:
        user_id = await _resets(request).use(token, now)
    except NotFound:
        return render(request, "error.html", 404, message_key="reset.invalid", detail=None)
    await request.app[STORE].accounts.set_password(user_id, password)
    await web_sessions(request).end_all(user_id)  # a reset logs out every other browser
    return redirect("/login")


def setup(app: web.Application) -> None:
    app.router.add_get("/login", login_page)
    app.router.add_post("/login", login)
    app.router.add_post("/logout", logout)
    app.router.add_get("/reset", reset_page)
    app.router.add_post("/reset", reset_request)
    app.router.add_get("/reset/{token}", reset_form)
    app.router.add_post("/reset/{token}", reset_done)
