"""Sync with a local installation (site token): sessions and open sessions up; cards, config and
departures down."""

from __future__ import annotations

import re
from dataclasses import replace

from aiohttp import web

from ..ocpi.tokens import roaming_card
from ..store import CardStatus, OpenSessionIn, SessionIn
from . import schemas
from .app_keys import CLOCK, STORE
from .auth import site
from .errors import ApiError
from .http import body, ok, plain, query_int

_EPOCH = re.compile(r"[A-Za-z0-9_-]{1,64}")


async def post_sessions(request: web.Request) -> web.Response:
    """A batch of finished sessions; idempotent on (site, charge point, transaction id)."""
    own = await site(request)
    data = await body(request, schemas.SESSION_BATCH)
    batch = [SessionIn(**item) for item in data["sessions"]]
    results = await request.app[STORE].sessions.ingest(own, batch, now=request.app[CLOCK]())
    created = sum(r.created for r in results)
    return ok(
        {
            "created": created,
            "duplicates": len(results) - created,
            "results": [
                {
                    "charge_point_id": r.charge_point_id,
                    "transaction_id": r.transaction_id,
                    "session_id": r.session_id,
                    "status": "created" if r.created else "duplicate",
                }
                for r in results
            ],
        }
    )


async def put_open_sessions(request: web.Request) -> web.Response:
    """The site's open transactions, all of them: they replace its previous snapshot."""
    own = await site(request)
    data = await body(request, schemas.OPEN_SNAPSHOT)
    items = [OpenSessionIn(**item) for item in data["sessions"]]
    result = await request.app[STORE].open_sessions.replace(
        own, data["taken_at"], items, now=request.app[CLOCK]()
    )
    return ok({"stored": result.stored, "open": result.count})


async def get_cards(request: web.Request) -> web.Response:
    """The site's card-list delta since `?since=<version>` (0 or absent: the whole list).

    `?epoch=` is the epoch the site's version belongs to; on another one, or when `since` is
    ahead of the counter (a restored database), the answer is the full list with `full: true`.
    """
    own = await site(request)
    since = query_int(request.query.get("since", "0"), "since")
    epoch = request.query.get("epoch")
    if epoch is not None and _EPOCH.fullmatch(epoch) is None:
        raise ApiError(400, "invalid", "epoch must be 1-64 letters, digits, '-' or '_'")
    delta = await request.app[STORE].cards.delta(
        own.account_id, since, epoch=epoch, now=request.app[CLOCK](), actor=f"site:{own.id}"
    )
    return ok(delta)


async def get_config(request: web.Request) -> web.Response:
    """The site with its charge points, their tariffs and the account's subscriptions."""
    own = await site(request)
    store = request.app[STORE]
    big = 10_000
    return ok(
        {
            "site": own,
            "charge_points": await store.sites.list_charge_points(
                own.account_id, limit=big, site_id=own.id
            ),
            "tariffs": await store.sites.tariffs_of_site(own.id),
            "subscriptions": await store.plans.list_subscriptions(own.account_id, limit=big),
        }
    )


async def get_departures(request: web.Request) -> web.Response:
    """Departures set after `?after=<id>` on this site's charge points, oldest first."""
    own = await site(request)
    after = query_int(request.query.get("after", "0"), "after")
    found = await request.app[STORE].sites.departures_for_site(own.id, after=after)
    return ok({"items": [{**plain(d), "ocpp_id": ocpp_id} for d, ocpp_id in found]})


async def authorize(request: web.Request) -> web.Response:
    """The cloud's word on a card missing from the local list (a guest at an open charger)."""
    own = await site(request)
    data = await body(request, schemas.AUTHORIZE)
    store = request.app[STORE]
    card = await store.cards.listed(data["uid"], own.account_id)
    if card is None and await store.sites.open_to_guests(own.id):
        card = await roaming_card(store.db, data["uid"])  # an OCPI eMSP's token (roaming.md)
    if card is None:
        raise ApiError(404, "not_found", "unknown card")
    if card.status is CardStatus.BLOCKED and await store.sites.open_to_guests(own.id):
        # Listed as blocked only for being another account's: a guest may charge here.
        found = await store.cards.find_uid(data["uid"])
        if found is not None and found.status is CardStatus.ACTIVE:
            card = replace(card, status=CardStatus.ACTIVE)
    return ok(card)


async def report_lost(request: web.Request) -> web.Response:
    """The installation reports one of its account's cards lost (e.g. from Home Assistant)."""
    own = await site(request)
    data = await body(request, schemas.REPORT_LOST)
    store = request.app[STORE]
    card = await store.cards.find_uid(data["uid"])
    if card is None or card.account_id != own.account_id:
        raise ApiError(404, "not_found", "no such card on this site's account")
    lost, order = await store.cards.report_lost(
        card.id,
        own.account_id,
        now=request.app[CLOCK](),
        actor=f"site:{own.id}",
        order_replacement=data["order_replacement"],
    )
    return ok({"card": lost, "replacement_order": order})


def setup(app: web.Application) -> None:
    r = app.router
    r.add_post("/api/v1/sync/sessions", post_sessions)
    r.add_put("/api/v1/sync/open-sessions", put_open_sessions)
    r.add_get("/api/v1/sync/cards", get_cards)
    r.add_get("/api/v1/sync/config", get_config)
    r.add_get("/api/v1/sync/departures", get_departures)
    r.add_post("/api/v1/sync/authorize", authorize)
    r.add_post("/api/v1/sync/report-lost", report_lost)
