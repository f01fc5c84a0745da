"""Local API routes for who may charge and which chargers may boot (docs/local-api.md):

- GET /api/cards: every card by source (site, config, cloud) with its OCPP status now;
- PUT /api/cards/{uid}: add or change a site card {status, expires_at, group_id};
- DELETE /api/cards/{uid}: remove a site card (404 when there is none);
- GET /api/charge_points: every charge point the central system knows, with its boot status
  (Pending ones wait for approval) and how it authenticated (`unprotected`: no password);
- POST /api/chargers/{id}/approve: accept a charge point held Pending (id: a charge point id or
  a balanced charger's id);
- POST /api/chargers/{id}/password: rotate a connected charger's password {password?}; answers
  the new one (generated unless given) once the charger accepted it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from ..central.auth import card_status
from ..central.sitecards import OCPP_STATUS
from ..domain import Card
from ..runtime import LocalSite
from .console.ledger import holder_dict, people
from .console.residents import RESIDENTS
from .errors import ApiError
from .fields import aware_time
from .jsonbody import BodyError, read_json

MAX_BODY_BYTES = 16 * 1024
SITE = web.AppKey("admin_site", LocalSite)
CARD_FIELDS = frozenset({"status", "expires_at", "group_id"})


def add_admin_routes(app: web.Application, site: LocalSite) -> None:
    app[SITE] = site
    app.router.add_get("/api/cards", get_cards)
    app.router.add_put("/api/cards/{uid}", put_card)
    app.router.add_delete("/api/cards/{uid}", delete_card)
    app.router.add_get("/api/charge_points", get_charge_points)
    app.router.add_post("/api/chargers/{id}/approve", post_approve)
    app.router.add_post("/api/chargers/{id}/password", post_password)


def card_dict(card: Card, source: str, now: datetime, master_group: str | None) -> dict[str, Any]:
    return {
        "uid": card.uid,
        "source": source,
        "status": card_status(card, now),
        "expires_at": card.expires_at.isoformat() if card.expires_at is not None else None,
        "group_id": card.group_id,
        "master_pass": master_group is not None and card.group_id == master_group,
    }


async def get_cards(request: web.Request) -> web.Response:
    site = request.app[SITE]
    now = datetime.now(UTC)
    master = site.master_pass_group()
    holders = people(site, request.app[RESIDENTS].people())  # resident and apartment
    listing = [
        {**card_dict(card, source, now, master), **holder_dict(holders.get(card.uid))}
        for source, cards in site.cards().items()
        for card in cards
    ]
    return web.json_response({"master_pass_group": master, "cards": listing})


async def put_card(request: web.Request) -> web.Response:
    uid = request.match_info["uid"].strip()
    if not 0 < len(uid) <= 36 or not (uid.isascii() and uid.isprintable()) or " " in uid:
        raise ApiError(400, "bad_request", "uid: 1 to 36 printable characters without spaces")
    body = await read_object(request)
    unknown = sorted(set(body) - CARD_FIELDS)
    if unknown:
        raise ApiError(400, "bad_request", f"unknown field {unknown[0]!r}")
    status = body.get("status", "Accepted")
    if status not in OCPP_STATUS:
        raise ApiError(400, "bad_request", f"status must be one of {', '.join(OCPP_STATUS)}")
    group = body.get("group_id")
    if group is not None and (not isinstance(group, str) or not 0 < len(group.strip()) <= 36):
        raise ApiError(400, "bad_request", "group_id: text of 1 to 36 characters, or null")
    card = Card(
        uid=uid,
        status=OCPP_STATUS[status],
        expires_at=None
        if body.get("expires_at") is None
        else aware_time(body["expires_at"], "expires_at"),
        group_id=group.strip() if group else None,
    )
    site = request.app[SITE]
    stored = await site.set_card(card)
    master = site.master_pass_group()
    return web.json_response(card_dict(stored, "site", datetime.now(UTC), master))


async def delete_card(request: web.Request) -> web.Response:
    uid = request.match_info["uid"]
    if not await request.app[SITE].remove_card(uid):
        raise ApiError(404, "not_found", f"no site card {uid!r}")
    return web.json_response({"removed": uid})


async def get_charge_points(request: web.Request) -> web.Response:
    site = request.app[SITE]
    pending = set(site.pending_charge_points())
    listing = [
        {
            "id": cp_id,
            "online": state.online,
            "ocpp_version": state.ocpp_version,
            "vendor": state.vendor,
            "model": state.model,
            "boot_status": state.boot_status,
            "pending": cp_id in pending,
            "security_profile": state.security_profile,
            "unprotected": state.unprotected,
        }
        for cp_id, state in sorted(site.charge_points().items())
    ]
    return web.json_response({"charge_points": listing})


async def post_approve(request: web.Request) -> web.Response:
    await read_object(request, empty_ok=True)
    site, ident = request.app[SITE], request.match_info["id"]
    if not site.is_known_charge_point(ident):
        raise ApiError(404, "not_found", f"no charge point {ident!r} has connected")
    return web.json_response({"approved": await site.approve(ident)})


async def post_password(request: web.Request) -> web.Response:
    body = await read_object(request, empty_ok=True)
    unknown = sorted(set(body) - {"password"})
    if unknown:
        raise ApiError(400, "bad_request", f"unknown field {unknown[0]!r}")
    password = body.get("password")
    if password is not None and not isinstance(password, str):
        raise ApiError(400, "bad_request", "password must be text")
    site, ident = request.app[SITE], request.match_info["id"]
    new = await site.rotate_password(ident, password)
    return web.json_response({"charge_point_id": site.charge_point_of(ident), "password": new})


async def read_object(request: web.Request, *, empty_ok: bool = False) -> dict[str, Any]:
    raw = await request.read()
    if not raw.strip():
        if empty_ok:
            return {}
        raise ApiError(400, "bad_request", "a JSON object is required")
    try:
        data = read_json(raw, max_bytes=MAX_BODY_BYTES)
    except BodyError as err:
        raise ApiError(400, "bad_request", str(err)) from None
    if not isinstance(data, dict):
        raise ApiError(400, "bad_request", "body must be a JSON object")
    return data
