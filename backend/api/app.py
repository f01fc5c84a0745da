"""The aiohttp application: middlewares (errors as JSON, bearer auth, body limit) and routes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from aiohttp import web

from ..ocpi import OcpiSettings, mount_ocpi
from ..payments import PAYMENTS, PaymentProvider, Payments, ProviderSettings
from ..portal import mount_portal
from ..portal.clientaddr import NO_PROXIES, PROXY_TRUST, ProxyTrust
from ..portal.publicurl import LISTEN_ADDRESS, PUBLIC_URL, ListenAddress, parse_public_url
from ..storage.timefmt import utc_now
from ..store import Store
from . import (
    metrics,
    routes_accounts,
    routes_billing,
    routes_cards,
    routes_charge_points,
    routes_installations,
    routes_review,
    routes_runs,
    routes_sessions,
    routes_subscriptions,
    routes_sync,
    routes_vehicles,
)
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
    portal_outbox: Path | None = None,
    proxies: ProxyTrust = NO_PROXIES,
    public_url: str | None = None,
    listen: ListenAddress | None = None,
    payments: ProviderSettings | None = None,
    ocpi: OcpiSettings | None = None,
) -> web.Application:
    """The API under /api/v1 over `store`; the caller owns the store (opens and closes it).

    With `portal_outbox` the web portal is mounted under /portal/ too (its dev e-mails go there).
    `proxies` says which peers may name the client (X-Forwarded-For / Forwarded); none by default.
    Absolute links (password-reset mails) start with `public_url`; without it, with the
    address the server listens on (`listen`, else the socket's): never with the Host header.
    With `payments` (the provider's base URL and API key) prepaid top-ups go through it.
    With `ocpi` (our party and base URL) roaming over OCPI 2.2.1 is served under /ocpi.
    """
    app = web.Application(
        middlewares=[error_middleware, auth_middleware], client_max_size=max_body_bytes
    )
    app[STORE] = store
    app[CLOCK] = clock
    app[PROXY_TRUST] = proxies  # read by the portal through config_dict
    if public_url:
        app[PUBLIC_URL] = parse_public_url(public_url)
    if listen is not None:
        app[LISTEN_ADDRESS] = listen
    metrics.setup(app)  # /metrics; its middleware wraps every other one
    for module in (
        routes_accounts,
        routes_billing,
        routes_cards,
        routes_charge_points,
        routes_installations,
        routes_review,
        routes_runs,
        routes_sessions,
        routes_subscriptions,
        routes_sync,
        routes_vehicles,
    ):
        module.setup(app)
    from ..invoicing import routes as invoice_routes  # invoicing imports api: mount it last

    invoice_routes.setup(app)
    from ..ocpi import site_channel  # it imports api too

    site_channel.setup(app)  # the sites take OCPI commands; 404 until mount_ocpi below
    _mount_payments(app, store, clock, payments)
    if ocpi is not None:
        mount_ocpi(app, store, ocpi, clock, on_round=app[metrics.METRICS].ocpi_done)
    if portal_outbox is not None:
        mount_portal(app, store, outbox=portal_outbox, clock=clock)
    return app


def _mount_payments(
    app: web.Application,
    store: Store,
    clock: Callable[[], datetime],
    settings: ProviderSettings | None,
) -> None:
    from ..payments import routes as payment_routes  # it imports api: mounted last too

    payment_routes.setup(app)
    if settings is None:
        return  # the routes answer 404 "not set up"; the portal says so too
    provider = PaymentProvider(settings)
    app[PAYMENTS] = Payments(store, provider, clock)

    async def close(_: web.Application) -> None:
        await provider.close()

    app.on_cleanup.append(close)  # type: ignore[arg-type]  # aiosignal typing skew
