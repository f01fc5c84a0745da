"""Sessions: filter by month, card and charge point; the same selection as CSV."""

from __future__ import annotations

from aiohttp import web

from ..billing.calendar import Month
from ..billing.errors import BillingError
from ..services.sessions import SessionFilter, csv_name, csv_text, session_cost_cents, sessions_for
from .ctx import account_of, db_of, store_of
from .forms import FormError, field, optional_id
from .render import render


def session_filter(request: web.Request) -> SessionFilter:
    query = request.query
    month_text = field(query, "month", 7)
    try:
        month = Month.parse(month_text) if month_text else None
    except BillingError as err:
        raise FormError("form.not_month", name="month") from err
    return SessionFilter(month, optional_id(query, "card"), optional_id(query, "cp"))


async def sessions(request: web.Request) -> web.Response:
    account = account_of(request)
    flt = session_filter(request)
    rows = await sessions_for(db_of(request), account, flt)
    store = store_of(request)
    return render(
        request,
        "sessions.html",
        sessions=[(s, session_cost_cents(s)) for s in rows],
        filter=flt,
        cards=await store.cards.list_cards(account, limit=500),
        charge_points=await store.sites.list_charge_points(account, limit=500),
        query=request.query_string,
    )


async def sessions_csv(request: web.Request) -> web.Response:
    flt = session_filter(request)
    rows = await sessions_for(db_of(request), account_of(request), flt)
    return web.Response(
        text=csv_text(rows),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{csv_name(flt)}"'},
    )


def setup(app: web.Application) -> None:
    app.router.add_get("/sessions", sessions)
    app.router.add_get("/sessions.csv", sessions_csv)
