"""Sessions (finished and open), usage and subscriptions, read in the caller's scope."""

from __future__ import annotations

from aiohttp import web

from ..billing.calendar import Month, local_date
from ..billing.errors import BillingError
from ..services.sessions import SessionFilter, csv_name, csv_text, month_usage, sessions_for
from .app_keys import CLOCK, STORE
from .auth import scope
from .errors import ApiError
from .http import listing, ok, path_id, query_int


async def list_sessions(request: web.Request) -> web.Response:
    return await listing(request, request.app[STORE].sessions.list_sessions)


async def open_sessions(request: web.Request) -> web.Response:
    """Running sessions of the caller's cards and on its charge points (admins: all)."""
    found = await request.app[STORE].open_sessions.list_open(
        scope(request), now=request.app[CLOCK]()
    )
    return ok({"items": found})


async def get_session(request: web.Request) -> web.Response:
    return ok(await request.app[STORE].sessions.get_session(path_id(request), scope(request)))


def _month(request: web.Request) -> Month | None:
    text = request.query.get("month")
    if text is None:
        return None
    try:
        return Month.parse(text)
    except BillingError as err:
        raise ApiError(400, "invalid", "month must look like YYYY-MM") from err


def _id(request: web.Request, name: str) -> int | None:
    text = request.query.get(name)
    return None if text is None else query_int(text, name)


async def sessions_csv(request: web.Request) -> web.Response:
    """The portal's CSV: `?month=&card_id=&charge_point_id=`, newest first."""
    flt = SessionFilter(_month(request), _id(request, "card_id"), _id(request, "charge_point_id"))
    rows = await sessions_for(request.app[STORE].db, scope(request), flt)
    return web.Response(
        text=csv_text(rows),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{csv_name(flt)}"'},
    )


async def usage(request: web.Request) -> web.Response:
    """What the account's own cards charged in `?month=` (default: this month), per day."""
    month = _month(request) or Month.of(local_date(request.app[CLOCK]()))
    found = await month_usage(request.app[STORE].db, scope(request), month)
    return ok(
        {
            "month": str(found.month),
            "energy_wh": found.energy_wh,
            "cost_cents": found.cost_cents,
            "sessions": found.sessions,
            "days": found.days,
        }
    )


async def list_subscriptions(request: web.Request) -> web.Response:
    return await listing(request, request.app[STORE].plans.list_subscriptions)


def setup(app: web.Application) -> None:
    r = app.router
    r.add_get("/api/v1/sessions", list_sessions)
    r.add_get("/api/v1/sessions.csv", sessions_csv)
    r.add_get("/api/v1/sessions/open", open_sessions)  # before {id}, which would 404 it
    r.add_get("/api/v1/sessions/{id}", get_session)
    r.add_get("/api/v1/usage", usage)
    r.add_get("/api/v1/subscriptions", list_subscriptions)
