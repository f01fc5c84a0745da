"""The review queue (admins): sessions that failed a plausibility rule at the door wait here,
billed by no run until accepted, corrected or rejected (each decision is audited)."""

from __future__ import annotations

import voluptuous as vol
from aiohttp import web

from ..store import Correction
from . import schemas
from .app_keys import CLOCK, STORE
from .auth import actor, admin
from .http import body, ok, page, page_args, path_id

NOTE = vol.Any(None, schemas.text(500, 0))
WH = vol.All(schemas.number, vol.Range(min=0, max=1e12))
ACCEPT = vol.Schema({vol.Optional("note"): NOTE})
REJECT = vol.Schema({vol.Required("reason"): schemas.text(500)})
CORRECT = vol.Schema(
    {
        vol.Required("energy_wh"): vol.All(schemas.number, vol.Range(min=0, max=1e9)),
        vol.Required("meter_start_wh"): WH,
        vol.Required("meter_stop_wh"): WH,
        vol.Optional("stopped_at"): schemas.aware_time,
        vol.Optional("note"): NOTE,
    }
)


async def list_review(request: web.Request) -> web.Response:
    """`?status=` pending (default), accepted, corrected or rejected; paged like every list."""
    admin(request)
    status = request.query.get("status", "pending")  # the store refuses others (400)
    limit, after = page_args(request)
    return page(await request.app[STORE].review.list(status, limit=limit, after=after), limit)


async def accept(request: web.Request) -> web.Response:
    admin(request)
    data = await body(request, ACCEPT)
    return ok(
        await request.app[STORE].review.accept(
            path_id(request),
            now=request.app[CLOCK](),
            actor=actor(request),
            note=data.get("note") or "",
        )
    )


async def correct(request: web.Request) -> web.Response:
    admin(request)
    data = await body(request, CORRECT)
    fix = Correction(
        data["energy_wh"],
        data["meter_start_wh"],
        data["meter_stop_wh"],
        data.get("stopped_at"),
        data.get("note") or "",
    )
    return ok(
        await request.app[STORE].review.correct(
            path_id(request), fix, now=request.app[CLOCK](), actor=actor(request)
        )
    )


async def reject(request: web.Request) -> web.Response:
    admin(request)
    data = await body(request, REJECT)
    return ok(
        await request.app[STORE].review.reject(
            path_id(request), now=request.app[CLOCK](), actor=actor(request), reason=data["reason"]
        )
    )


def setup(app: web.Application) -> None:
    r = app.router
    r.add_get("/api/v1/review/sessions", list_review)
    r.add_post("/api/v1/review/sessions/{id}/accept", accept)
    r.add_post("/api/v1/review/sessions/{id}/correct", correct)
    r.add_post("/api/v1/review/sessions/{id}/reject", reject)
