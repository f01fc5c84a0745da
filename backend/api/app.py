"""The aiohttp application: middlewares (errors as JSON, bearer auth, body limit) and routes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aiohttp import web

from ..storage.timefmt import utc_now
from ..store import Store
from . import routes_accounts, routes_cards, routes_charge_points, routes_sessions, routes_sync
from .app_keys import CLOCK, STORE
from .auth import auth_middleware
from .errors import error_middleware

DEFAULT_MAX_BODY = 1024 * 1024  # a sync batch of 500 sessions is ~200 KB

__all__ = ["CLOCK", "STORE", "create_app"]


def create_app(
    store: Store,
    *,
    clock: Callable[[], datetime] = utc_now,
    max_body_bytes: int = DEFAULT_MAX_BODY,
) -> web.Application:
    """The API under /api/v1 over `store`; the caller owns the store (opens and closes it)."""
    app = web.Application(
        middlewares=[error_middleware, auth_middleware], client_max_size=max_body_bytes
    )
    app[STORE] = store
    app[CLOCK] = clock
    for module in (routes_accounts, routes_cards, routes_charge_points, routes_sessions,
                   routes_sync):
        module.setup(app)
    return app
