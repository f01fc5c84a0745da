"""Sites (with their sync tokens), tariffs, charge points (and their guest usage) and
departures."""

from __future__ import annotations

from typing import Any

import voluptuous as vol
from aiohttp import web

from ..store import DepartureIn
from . import schemas
from .app_keys import CLOCK, STORE
from .auth import actor, owner, scope, user
from .http import body, listing, ok, path_id


async def _owner(request: web.Request, data: dict[str, Any]) -> int:
    return await owner(request, data.pop("account_id", None))


async def list_sites(request: web.Request) -> web.Response:
    return await listing(request, request.app[STORE].sites.list_sites)


async def create_site(request: web.Request) -> web.Response:
    data = await body(request, schemas.SITE)
    owner = await _owner(request, data)
    site = await request.app[STORE].sites.create_site(
        owner, data["name"], now=request.app[CLOCK](), address=data.get("address")
    )
    return ok(site, 201)


async def get_site(request: web.Request) -> web.Response:
    return ok(await request.app[STORE].sites.get_site(path_id(request), scope(request)))


async def create_site_token(request: web.Request) -> web.Response:
    """The token a local installation syncs with (shown once)."""
    data = await body(request, schemas.TOKEN)
    store = request.app[STORE]
    site = await store.sites.get_site(path_id(request), scope(request))
    issued = await store.accounts.create_site_token(
        site, data["name"], now=request.app[CLOCK](), expires_at=data.get("expires_at")
    )
    return ok({"id": issued.id, "token": issued.secret, "expires_at": issued.expires_at}, 201)


async def list_tariffs(request: web.Request) -> web.Response:
    return await listing(request, request.app[STORE].sites.list_tariffs)


async def create_tariff(request: web.Request) -> web.Response:
    data = await body(request, schemas.TARIFF)
    principal = user(request)
    # A platform tariff (account_id null) is for admins; others always get their own.
    if principal.is_admin and "account_id" in data and data["account_id"] is None:
        owner = data.pop("account_id")
    else:
        owner = await _owner(request, data)
    tariff = await request.app[STORE].sites.create_tariff(
        owner, data.pop("name"), now=request.app[CLOCK](), **data
    )
    return ok(tariff, 201)


async def list_charge_points(request: web.Request) -> web.Response:
    return await listing(request, request.app[STORE].sites.list_charge_points)


async def create_charge_point(request: web.Request) -> web.Response:
    data = await body(request, schemas.CHARGE_POINT)
    owner = await _owner(request, data)
    store = request.app[STORE]
    if data.get("site_id") is not None:
        await store.sites.get_site(data["site_id"], owner)
    if data.get("tariff_id") is not None:
        await store.sites.get_tariff(data["tariff_id"], owner)
    cp = await store.sites.create_charge_point(
        owner, data.pop("ocpp_id"), now=request.app[CLOCK](), **data
    )
    return ok(cp, 201)


async def get_charge_point(request: web.Request) -> web.Response:
    return ok(await request.app[STORE].sites.get_charge_point(path_id(request), scope(request)))


async def update_charge_point(request: web.Request) -> web.Response:
    data = await body(request, schemas.CHARGE_POINT_CHANGE)
    cp = await request.app[STORE].sites.update_charge_point(
        path_id(request), scope(request), now=request.app[CLOCK](), actor=actor(request), **data
    )
    return ok(cp)


async def set_departure(request: web.Request) -> web.Response:
    """The driver's app states departure, car and SoC; the site picks it up on its next sync."""
    principal = user(request)
    data = await body(request, schemas.DEPARTURE)
    departure = await request.app[STORE].sites.set_departure(
        path_id(request),
        scope(request),
        DepartureIn(**data),
        now=request.app[CLOCK](),
        user_id=principal.user.id if principal.user else None,
    )
    return ok(departure, 201)


GUEST_USAGE = vol.Schema(
    {
        vol.Required("guest_usage"): bool,
        vol.Optional("start_cents", default=0): schemas.cents,
        vol.Optional("per_kwh_cents", default=0): schemas.cents,
        vol.Optional("per_minute_cents", default=0): schemas.cents,
    }
)


async def set_guest_usage(request: web.Request) -> web.Response:
    """Open (or close) a charge point to guests at a tariff incl. VAT of its own (the portal's
    form): at most the platform maximum, art. 28.3."""
    data = await body(request, GUEST_USAGE)
    cp = await request.app[STORE].sites.set_guest_tariff(
        path_id(request), scope(request), now=request.app[CLOCK](), actor=actor(request), **data
    )
    return ok(cp)


def setup(app: web.Application) -> None:
    r = app.router
    r.add_get("/api/v1/sites", list_sites)
    r.add_post("/api/v1/sites", create_site)
    r.add_get("/api/v1/sites/{id}", get_site)
    r.add_post("/api/v1/sites/{id}/tokens", create_site_token)
    r.add_get("/api/v1/tariffs", list_tariffs)
    r.add_post("/api/v1/tariffs", create_tariff)
    r.add_get("/api/v1/charge-points", list_charge_points)
    r.add_post("/api/v1/charge-points", create_charge_point)
    r.add_get("/api/v1/charge-points/{id}", get_charge_point)
    r.add_patch("/api/v1/charge-points/{id}", update_charge_point)
    r.add_put("/api/v1/charge-points/{id}/departure", set_departure)
    r.add_put("/api/v1/charge-points/{id}/guest-usage", set_guest_usage)
