"""Sessions (finished and open) and subscriptions, read in the caller's scope."""

from __future__ import annotations

from aiohttp import web

from .app_keys import CLOCK, STORE
from .auth import scope
from .http import listing, ok, path_id


async def list_sessions(request: web.Request) -> web.Response:
    return await listing(request, request.app[STORE].sessions.list_sessions)


async def open_sessions(request: web.Request) -> web.Response:
    """Running sessions of the caller's cards and on its charge points (admins: all)."""
    found = await request.app[STORE].open_sessions.list_open(
        scope(request), now=request.app[CLOCK]()
    )
    return ok({"items": found})


async def get_session(request: web.Request) -> web.Response:
    return ok(await request.app[STORE].sessions.get_session(path_id(request), scope(request)))


async def list_subscriptions(request: web.Request) -> web.Response:
    return await listing(request, request.app[STORE].plans.list_subscriptions)


def setup(app: web.Application) -> None:
    r = app.router
    r.add_get("/api/v1/sessions", list_sessions)
    r.add_get("/api/v1/sessions/open", open_sessions)  # before {id}, which would 404 it
    r.add_get("/api/v1/sessions/{id}", get_session)
    r.add_get("/api/v1/subscriptions", list_subscriptions)
