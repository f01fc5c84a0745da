"""/api/v1/reimbursements (lease drivers' statements in the caller's scope: a driver sees
theirs, an admin all) and /api/v1/accounts/{id}/reimbursements/{month}/paid (admin only:
record the bank transfer of a statement; a paid statement never changes)."""

from __future__ import annotations

from datetime import date
from typing import Any

import voluptuous as vol
from aiohttp import web

from ..invoicing.payouts import MAX_REFERENCE, list_statements, mark_paid
from .app_keys import CLOCK, STORE
from .auth import actor, admin, scope
from .http import body, ok, path_id


def _day(value: Any) -> date:
    if not isinstance(value, str) or len(value) != 10 or not value.isascii():
        raise vol.Invalid("expected a date YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError as err:
        raise vol.Invalid("expected a date YYYY-MM-DD") from err


PAID = vol.Schema(
    {
        vol.Required("paid_on"): _day,
        vol.Required("reference"): vol.All(str, vol.Length(min=1, max=MAX_REFERENCE)),
    }
)


async def get_reimbursements(request: web.Request) -> web.Response:
    found = await list_statements(
        request.app[STORE].db,
        scope(request),
        month=request.query.get("month"),
        status=request.query.get("status"),
    )
    return ok({"items": found})


async def post_paid(request: web.Request) -> web.Response:
    admin(request)
    data = await body(request, PAID)
    view = await mark_paid(
        request.app[STORE].db,
        path_id(request),
        request.match_info["month"],
        data["paid_on"],
        data["reference"],
        now=request.app[CLOCK](),
        actor=actor(request),
    )
    return ok(view)


def setup(app: web.Application) -> None:
    app.router.add_get("/api/v1/reimbursements", get_reimbursements)
    app.router.add_post("/api/v1/accounts/{id}/reimbursements/{month}/paid", post_paid)
