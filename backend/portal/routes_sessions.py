"""Sessions: filter by month, card and charge point; the same selection as CSV."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from aiohttp import web

from ..billing.calendar import Month
from ..billing.errors import BillingError
from ..store import SessionRecord
from .ctx import account_of, db_of, store_of
from .forms import FormError, field, optional_id
from .queries import SessionFilter, session_cost_cents, sessions_for
from .render import render

CSV_COLUMNS = (
    "session",
    "started_at_utc",
    "stopped_at_utc",
    "charge_point",
    "card",
    "energy_kwh",
    "cost_eur_incl_vat",
    "source",
)


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


def _cell(value: str) -> str:
    """Text a spreadsheet would run as a formula is prefixed with a quote (CSV injection)."""
    return "'" + value if value[:1] in {"=", "+", "-", "@", "\t", "\r"} else value


def csv_text(rows: list[SessionRecord]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for s in rows:
        writer.writerow(
            [
                s.id,
                s.started_at.isoformat(),
                s.stopped_at.isoformat(),
                _cell(s.cp_ocpp_id),
                _cell(s.id_tag or ""),
                f"{Decimal(s.energy_wh) / 1000:.3f}",
                f"{Decimal(session_cost_cents(s)) / 100:.2f}",
                s.source.value,
            ]
        )
    return out.getvalue()


async def sessions_csv(request: web.Request) -> web.Response:
    flt = session_filter(request)
    rows = await sessions_for(db_of(request), account_of(request), flt)
    name = f"sessions-{flt.month or 'all'}.csv"
    return web.Response(
        text=csv_text(rows),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def setup(app: web.Application) -> None:
    app.router.add_get("/sessions", sessions)
    app.router.add_get("/sessions.csv", sessions_csv)
