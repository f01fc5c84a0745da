"""Sessions and subscriptions, read in the caller's scope."""

from __future__ import annotations

from aiohttp import web

from .app_keys import STORE
from .auth import scope
from .http import listing, ok, path_id


async def list_sessions(request: web.Request) -> web.Response:
    return await listing(request, request.app[STORE].sessions.list_sessions)


async def get_session(request: web.Request) -> web.Response:
    return ok(await request.app[STORE].sessions.get_session(path_id(request), scope(request)))


async def list_subscriptions(request: web.Request) -> web.Response:
    return await listing(request, request.app[STORE].plans.list_subscriptions)


def setup(app: web.Application) -> None:
    r = app.router
    r.add_get("/api/v1/sessions", list_sessions)
    r.add_get("/api/v1/sessions/{id}", get_session)
    r.add_get("/api/v1/subscriptions", list_subscriptions)
