"""Cards: list, create (admins), report lost, block/unblock, assign; replacement orders."""

from __future__ import annotations

from aiohttp import web

from ..store import CardKind, CardStatus
from . import schemas
from .app_keys import CLOCK, STORE
from .auth import actor, admin, scope
from .errors import Handler
from .http import body, listing, ok, path_id


async def list_cards(request: web.Request) -> web.Response:
    return await listing(request, request.app[STORE].cards.list_cards)


async def create_card(request: web.Request) -> web.Response:
    admin(request)
    data = await body(request, schemas.CARD)
    store = request.app[STORE]
    if data.get("account_id") is not None:
        await store.accounts.get_account(data["account_id"])
    kind: CardKind = data["kind"]
    card = await store.cards.create_card(
        data["uid"],
        kind,
        now=request.app[CLOCK](),
        account_id=data.get("account_id"),
        label=data.get("label"),
        expires_at=data.get("expires_at"),
        actor=actor(request),
        roaming_authorized=data["roaming_authorized"],
    )
    return ok(card, 201)


async def get_card(request: web.Request) -> web.Response:
    return ok(await request.app[STORE].cards.get_card(path_id(request), scope(request)))


async def report_lost(request: web.Request) -> web.Response:
    data = await body(request, schemas.LOST)
    card, order = await request.app[STORE].cards.report_lost(
        path_id(request),
        scope(request),
        now=request.app[CLOCK](),
        actor=actor(request),
        order_replacement=data["order_replacement"],
    )
    return ok({"card": card, "replacement_order": order})


def _set_status(status: CardStatus) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        await body(request, schemas.EMPTY)
        card = await request.app[STORE].cards.set_status(
            path_id(request), scope(request), status, now=request.app[CLOCK](), actor=actor(request)
        )
        return ok(card)

    return handler


async def order_replacement(request: web.Request) -> web.Response:
    """A replacement (€7.50) for a card reported lost without one; one per card."""
    await body(request, schemas.EMPTY)
    order = await request.app[STORE].cards.order_replacement(
        path_id(request), scope(request), now=request.app[CLOCK](), actor=actor(request)
    )
    return ok(order, 201)


async def assign(request: web.Request) -> web.Response:
    admin(request)
    data = await body(request, schemas.ASSIGN)
    card = await request.app[STORE].cards.assign(
        path_id(request), data["account_id"], now=request.app[CLOCK](), actor=actor(request)
    )
    return ok(card)


async def list_orders(request: web.Request) -> web.Response:
    return await listing(request, request.app[STORE].cards.list_orders)


def setup(app: web.Application) -> None:
    r = app.router
    r.add_get("/api/v1/cards", list_cards)
    r.add_post("/api/v1/cards", create_card)
    r.add_get("/api/v1/cards/{id}", get_card)
    r.add_post("/api/v1/cards/{id}/report-lost", report_lost)
    r.add_post("/api/v1/cards/{id}/block", _set_status(CardStatus.BLOCKED))
    r.add_post("/api/v1/cards/{id}/unblock", _set_status(CardStatus.ACTIVE))
    r.add_post("/api/v1/cards/{id}/replacement", order_replacement)
    r.add_post("/api/v1/cards/{id}/assign", assign)
    r.add_get("/api/v1/card-orders", list_orders)
