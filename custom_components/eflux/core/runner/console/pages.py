"""Console pages: login and logout, Site, Chargers, Decisions, the live stream, static files."""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path

from aiohttp import web

from ...runtime import ChargerSnapshot
from .auth import COOKIE, LOGIN_CSRF_COOKIE, MANAGER, Login, TooManyAttempts, set_cookie
from .chart import build_chart
from .circuits import circuits_now
from .context import CONSOLE, Console, manager, need
from .render import page

_STATIC = Path(__file__).resolve().parent / "static"
STATIC_TYPES = {".css": "text/css", ".js": "text/javascript", ".png": "image/png"}
WAITING = ("waiting", "paused")


async def login_form(request: web.Request) -> web.StreamResponse:
    console = request.app[CONSOLE]
    if console.auth.current(request) is not None:
        raise web.HTTPSeeOther("/console/")
    return _login_page(request, console, None)


def _login_page(
    request: web.Request, console: Console, error: str | None, *, status: int = 200, **extra: object
) -> web.Response:
    token = secrets.token_urlsafe(24)
    response = page(
        request,
        "login.html",
        None,
        console.zone,
        status=status,
        csrf=token,
        error=error,
        no_password=console.auth.settings.password_hash is None,
        **extra,
    )
    set_cookie(request, response, LOGIN_CSRF_COOKIE, token, secure=_secure(console))
    return response


async def login_post(request: web.Request) -> web.StreamResponse:
    console = request.app[CONSOLE]
    form = await request.post()
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    given = form.get("csrf")
    if not expected or not isinstance(given, str) or not secrets.compare_digest(given, expected):
        return _login_page(request, console, "error_csrf", status=403)
    who, password = form.get("user"), form.get("password")
    if not isinstance(who, str) or not isinstance(password, str) or len(password) > 1024:
        return _login_page(request, console, "error_login", status=400)
    client = request.remote or "?"
    try:
        found = await console.auth.login(who[:100], password, client)
    except TooManyAttempts as err:
        response = _login_page(
            request, console, "error_rate", status=429, retry_after=err.retry_after_s
        )
        response.headers["Retry-After"] = str(err.retry_after_s)
        return response
    if found is None:
        return _login_page(request, console, "error_login", status=401)
    token, login = found
    target = "/console/site" if login.role == MANAGER else "/console/sessions"
    response = web.Response(status=303, headers={"Location": target})
    set_cookie(request, response, COOKIE, token, secure=_secure(console))
    response.del_cookie(LOGIN_CSRF_COOKIE, path="/console")
    return response


@need()
async def logout(request: web.Request, console: Console, login: Login) -> web.StreamResponse:
    await console.auth.logout(request)
    response = web.Response(status=303, headers={"Location": "/console/login"})
    response.del_cookie(COOKIE, path="/console")
    return response


async def to_console(request: web.Request) -> web.StreamResponse:
    raise web.HTTPSeeOther("/console/")


@need()
async def home(request: web.Request, console: Console, login: Login) -> web.StreamResponse:
    raise web.HTTPSeeOther("/console/site" if login.role == MANAGER else "/console/sessions")


@manager()
async def site_page(request: web.Request, console: Console, login: Login) -> web.StreamResponse:
    site = console.site
    snapshot = site.state()
    now = site.clock.now()
    chart = build_chart(console.history.since(now - timedelta(hours=24)), now, console.zone)
    return page(
        request,
        "site.html",
        login,
        console.zone,
        snapshot=snapshot,
        circuits=circuits_now(site.config, snapshot),
        chart=chart,
        csrf=login.csrf,
    )


@manager()
async def chargers_page(request: web.Request, console: Console, login: Login) -> web.StreamResponse:
    snapshot = console.site.state()
    residents = console.people()
    chargers = list(snapshot.chargers.values())
    return page(
        request,
        "chargers.html",
        login,
        console.zone,
        chargers=chargers,
        queue=queue(chargers),
        residents=residents,
        pending=snapshot.pending_approval,
        csrf=login.csrf,
        done=_done(request.query.get("done")),
    )


def queue(chargers: list[ChargerSnapshot]) -> list[ChargerSnapshot]:
    """Cars that wait for power: the one next in line first, then by how long they have
    waited for nothing (no limit) and by the rotation's reason."""

    def order(charger: ChargerSnapshot) -> tuple[int, str]:
        reason = charger.reason or ""
        return (0 if "next_in_line" in reason else 1, charger.id)

    return sorted((c for c in chargers if c.balancer_status in WAITING), key=order)


@manager()
async def decisions_page(
    request: web.Request, console: Console, login: Login
) -> web.StreamResponse:
    decisions = list(reversed(console.site.recent_decisions(200)))
    return page(request, "decisions.html", login, console.zone, decisions=decisions)


@manager()
async def events(request: web.Request, console: Console, login: Login) -> web.StreamResponse:
    return await console.stream.handle(request)


async def static(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    path = _STATIC / name
    if "/" in name or name.startswith(".") or path.suffix not in STATIC_TYPES or not path.is_file():
        raise web.HTTPNotFound()
    return web.Response(
        body=path.read_bytes(),
        content_type=STATIC_TYPES[path.suffix],
        headers={"Cache-Control": "max-age=300", "X-Content-Type-Options": "nosniff"},
    )


def _done(action: str | None) -> str | None:
    return action if action in ("mode", "max_current", "stop", "unlock", "approve") else None


def _secure(console: Console) -> bool:
    return console.auth.settings.secure_cookies
