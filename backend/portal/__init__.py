"""The billing portal: server-rendered pages (aiohttp + Jinja2) under /portal/, English and Dutch.

    app = create_app(store)                          # the API under /api/v1
    mount_portal(app, store, outbox=Path("outbox"))  # the portal under /portal/

Security: a session cookie (HttpOnly, SameSite=Strict, Secure over https) whose id is replaced
at login, a CSRF token on every form, login and reset requests rate-limited in the database
(shared by every process, kept across restarts), password-reset
links written to the outbox directory (the dev "mail"), and a strict Content-Security-Policy.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from aiohttp import web

from ..storage.timefmt import utc_now
from ..store import Store
from . import (
    routes_admin,
    routes_advisor,
    routes_auth,
    routes_cards,
    routes_charge_points,
    routes_dashboard,
    routes_invoices,
    routes_review,
    routes_sessions,
    routes_subscription,
    routes_top_ups,
)
from .keys import CLOCK, CONFIG, LIMITER, STORE, TEMPLATES, PortalConfig
from .middleware import PREFIX, portal_middleware
from .ratelimit import RateLimiter
from .render import environment

__all__ = ["PREFIX", "PortalConfig", "create_portal", "default_outbox", "mount_portal"]

_STATIC = Path(__file__).resolve().parent / "static"
_ROUTES = (
    routes_auth,
    routes_dashboard,
    routes_cards,
    routes_sessions,
    routes_invoices,
    routes_subscription,
    routes_charge_points,
    routes_advisor,
    routes_admin,
    routes_review,
    routes_top_ups,
)


def default_outbox() -> Path:
    """Where dev e-mails go: $EFLUX_PORTAL_OUTBOX, else ./portal-outbox."""
    return Path(os.environ.get("EFLUX_PORTAL_OUTBOX", "portal-outbox"))


def create_portal(
    store: Store,
    *,
    outbox: Path,
    clock: Callable[[], datetime] = utc_now,
    config: PortalConfig | None = None,
) -> web.Application:
    """The portal as an aiohttp sub-application (mount it at /portal/)."""
    settings = replace(config, outbox=outbox) if config else PortalConfig(outbox=outbox)
    app = web.Application(middlewares=[portal_middleware], client_max_size=64 * 1024)
    app[STORE] = store
    app[CLOCK] = clock
    app[CONFIG] = settings
    app[TEMPLATES] = environment()
    app[LIMITER] = RateLimiter(store.db, settings.login_failures, settings.login_window)
    for module in _ROUTES:
        module.setup(app)
    app.router.add_static("/static/", _STATIC)
    return app


def mount_portal(
    app: web.Application,
    store: Store,
    *,
    outbox: Path,
    clock: Callable[[], datetime] = utc_now,
    config: PortalConfig | None = None,
) -> None:
    app.add_subapp(PREFIX + "/", create_portal(store, outbox=outbox, clock=clock, config=config))
