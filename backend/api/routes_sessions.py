"""Sessions and subscriptions, read in the caller's scope."""

from __future__ import annotations

from aiohttp import web

from .app_keys import STORE
from .auth import scope
from .http import ok, page, page_args, path_id


async def list_sessions(request: web.Request) -> web.Response:
    limit, after = page_args(request)
    items = await request.app[STORE].sessions.list_sessions(scope(request), limit=limit,
                                                            after=after)
    return page(items, limit)


async def get_session(request: web.Request) -> web.Response:
    return ok(await request.app[STORE].sessions.get_session(path_id(request), scope(request)))


async def list_subscriptions(request: web.Request) -> web.Response:
    limit, after = page_args(request)
    items = await request.app[STORE].plans.list_subscriptions(scope(request), limit=limit,
                                                              after=after)
    return page(items, limit)


def setup(app: web.Application) -> None:
    r = app.router
    r.add_get("/api/v1/sessions", list_sessions)
    r.add_get("/api/v1/sessions/{id}", get_session)
    r.add_get("/api/v1/subscriptions", list_subscriptions)
