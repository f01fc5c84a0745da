"""Who is asking (session cookie), CSRF on every POST, login/admin gates, HTML error pages."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from ..billing.errors import BillingError
from ..storage import Unavailable
from ..store import NotFound, StoreError
from .clientaddr import request_scheme
from .forms import FormError
from .keys import CLOCK, CONFIG, STORE
from .render import CTX_SESSION, CTX_USER, render
from .sessions import WebSession, WebSessions

_LOGGER = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
PREFIX = "/portal"
COOKIE = "eflux_portal"
PUBLIC = ("/login", "/reset", "/static/")
MAX_FORM = 64 * 1024
RETRY_AFTER_S = 5

_HEADERS = {
    # Scripts and styles only from our own files: an injected <script> would not run anyway.
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none';"
    " frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


class CsrfRefused(Exception):
    pass


def web_sessions(request: web.Request) -> WebSessions:
    return WebSessions(request.app[STORE].db, request.app[CONFIG].session_lifetime)


def set_cookie(request: web.Request, response: web.StreamResponse, session: WebSession) -> None:
    response.set_cookie(
        COOKIE,
        session.secret,
        httponly=True,
        samesite="Strict",
        path=PREFIX + "/",
        secure=request_scheme(request) == "https",  # a TLS proxy in front says so
        max_age=int(request.app[CONFIG].session_lifetime.total_seconds()),
    )


def redirect(path: str) -> web.Response:
    """303 See Other to a portal path (after a POST the browser GETs the result)."""
    return web.Response(status=303, headers={"Location": PREFIX + path})


def local_path(request: web.Request) -> str:
    return request.path.removeprefix(PREFIX)


async def _load(request: web.Request) -> WebSession | None:
    now = request.app[CLOCK]()
    session = await web_sessions(request).find(request.cookies.get(COOKIE, ""), now)
    if session is not None and session.user_id is not None:
        try:
            user = await request.app[STORE].accounts.get_user(session.user_id)
        except NotFound:
            return None
        if user.disabled:
            return None
        request[CTX_USER] = user
    return session


async def _check_csrf(request: web.Request, session: WebSession | None) -> None:
    if request.method not in {"POST", "PUT", "PATCH", "DELETE"}:
        return
    if request.content_length is not None and request.content_length > MAX_FORM:
        raise web.HTTPRequestEntityTooLarge(max_size=MAX_FORM, actual_size=request.content_length)
    try:
        form = await request.post()  # parsed once here; handlers get the cached copy
    except (UnicodeDecodeError, ValueError):  # raw bytes that are not UTF-8: a 400, not a 500
        raise web.HTTPBadRequest(reason="the form is not UTF-8 text") from None
    if any(not isinstance(value, str) for value in form.values()):  # no page takes files
        raise web.HTTPBadRequest(reason="the form may hold text fields only")
    sent = form.get("csrf")
    if (
        session is None
        or not isinstance(sent, str)
        or not hmac.compare_digest(sent.encode(), session.csrf.encode())
    ):
        raise CsrfRefused


@web.middleware
async def portal_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await _guarded(request, handler)
    except CsrfRefused:
        response = render(request, "error.html", 403, message_key="error.csrf")
    except web.HTTPException as err:
        if err.status < 400:
            raise
        response = render(
            request, "error.html", err.status, message_key="error.generic", detail=err.reason
        )
    except NotFound:
        response = render(request, "error.html", 404, message_key="error.not_found")
    except FormError as err:
        response = render(
            request, "error.html", 400, message_key=err.key, message_values=err.values
        )
    except BillingError as err:  # a rule of the terms refused the step; its text says which
        response = render(request, "error.html", 409, message_key="error.rule", detail=str(err))
    except StoreError as err:
        response = render(request, "error.html", 400, message_key="error.generic", detail=str(err))
    except Unavailable:  # the database is down or locked: come back, nothing was lost
        _LOGGER.warning("portal: database unavailable on %s %s", request.method, request.path)
        response = render(request, "error.html", 503, message_key="error.unavailable")
        response.headers["Retry-After"] = str(RETRY_AFTER_S)
    except Exception:
        _LOGGER.exception("portal error on %s %s", request.method, request.path)
        response = render(request, "error.html", 500, message_key="error.internal")
    for name, value in _HEADERS.items():
        response.headers.setdefault(name, value)
    if not local_path(request).startswith("/static/"):
        response.headers.setdefault("Cache-Control", "no-store")  # pages carry personal data
    return response


async def _guarded(request: web.Request, handler: Handler) -> web.StreamResponse:
    session = await _load(request)
    fresh = None
    if session is None and not local_path(request).startswith("/static/"):
        # Every visitor has a session row from the first page, so the login form has a token.
        fresh = session = await web_sessions(request).start(None, request.app[CLOCK]())
    request[CTX_SESSION] = session
    await _check_csrf(request, session if fresh is None else None)
    path = local_path(request)
    user = request.get(CTX_USER)
    if user is None and not path.startswith(PUBLIC):
        response: web.StreamResponse = redirect("/login")
    elif path.startswith("/admin") and (user is None or not user.is_admin):
        raise NotFound("no such page")  # hidden from customers, like another account's record
    else:
        response = await handler(request)
    if fresh is not None:
        set_cookie(request, response, fresh)
    return response
