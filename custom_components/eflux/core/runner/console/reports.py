"""Sessions (filters, totals, CSV) and the monthly Report per resident (HTML, CSV, PDF).

A resident sees only their own card: their filter is forced to it whatever the query says.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from decimal import Decimal

from aiohttp import web

from . import ledger
from .auth import RESIDENT, Login
from .context import Console, need
from .credit import CreditNote, GuestUsage, credit_note
from .pdf import report_pdf
from .render import page


def _month(request: web.Request, console: Console) -> str:
    month = request.query.get("month") or ""
    if ledger.MONTH.match(month):
        return month
    return console.site.clock.now().astimezone(console.zone).strftime("%Y-%m")


def _query(request: web.Request, console: Console, login: Login) -> dict[str, str]:
    query = {k: request.query.get(k, "")[:64] for k in ("charger", "card")}
    query["month"] = _month(request, console)
    if login.role == RESIDENT:
        if not login.card:  # never "all cards" for a resident
            raise web.HTTPForbidden()
        query["card"] = login.card
    return query


@need()
async def sessions_page(request: web.Request, console: Console, login: Login) -> web.StreamResponse:
    query = _query(request, console, login)
    wanted = ledger.parse_filter(query, console.zone)
    records = await ledger.sessions(console.site, wanted)
    residents = console.people()
    return page(
        request,
        "sessions.html",
        login,
        console.zone,
        query=query,
        records=records,
        totals=ledger.totals(records),
        residents=residents,
        chargers=list(console.site.config.bindings),
        cards=sorted({r.card for r in records if r.card} | set(residents)),
        csrf=login.csrf,
    )


@need()
async def sessions_csv(request: web.Request, console: Console, login: Login) -> web.StreamResponse:
    query = _query(request, console, login)
    records = await ledger.sessions(console.site, ledger.parse_filter(query, console.zone))
    text = ledger.sessions_csv(records, console.people(), console.zone)
    return ledger.csv_response(text, f"sessions-{query['month']}.csv")


async def _report(
    request: web.Request, console: Console, login: Login
) -> tuple[str, list[ledger.CardMonth], GuestUsage | None, CreditNote | None]:
    """The month's rows; with the cloud's word, its guest usage and the association's expected
    credit note (the manager's only: a resident sees their own guest sessions marked)."""
    month = _month(request, console)
    usage = ledger.usage_of(console.site, await console.store.cloud_config())
    _, _, rows = await ledger.monthly(console.site, month, console.residents.people(), usage)
    note = None
    if usage is not None:
        note = credit_note(usage, month, (s for row in rows for s in row.sessions))
    if login.role == RESIDENT:
        rows = [row for row in rows if ledger.same_card(row.card, login.card)]
        note = None
    return month, rows, usage, note


@need()
async def report_page(request: web.Request, console: Console, login: Login) -> web.StreamResponse:
    month, rows, usage, note = await _report(request, console, login)
    return page(
        request,
        "report.html",
        login,
        console.zone,
        month=month,
        rows=rows,
        totals=ledger.totals(s for row in rows for s in row.sessions),
        usage=usage,
        note=note,
        tariff=console.site.price_now(),
        csrf=login.csrf,
    )


REPORT_COLUMNS = (
    "month",
    "apartment",
    "resident",
    "card",
    "sessions",
    "energy_kwh",
    "cost",
    "billed_by",
    "guest_sessions",
    "credited",
)


@need()
async def report_csv(request: web.Request, console: Console, login: Login) -> web.StreamResponse:
    """One row per card, then the total (its `credited`: the expected credit note, when the
    cloud's word is known; `billed_by` e-flux for a card with guest sessions)."""
    month, rows, usage, _ = await _report(request, console, login)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(REPORT_COLUMNS)
    for row in rows:
        writer.writerow(
            [
                month,
                ledger.csv_cell(row.apartment),
                ledger.csv_cell(row.resident),
                ledger.csv_cell(row.card),
                row.totals.sessions,
                ledger.kwh(row.totals.energy_kwh),
                ledger.money(row.totals.cost),
                "e-flux" if row.cloud_card else "site",
                row.guest_sessions if usage is not None else "",
                ledger.money(row.guest_amount) if usage is not None else "",
            ]
        )
    total = ledger.totals(s for row in rows for s in row.sessions)
    guests = sum(row.guest_sessions for row in rows)
    credited = sum((row.guest_amount for row in rows), Decimal(0))
    writer.writerow(
        [
            month,
            "total",
            "",
            "",
            total.sessions,
            ledger.kwh(total.energy_kwh),
            ledger.money(total.cost),
            "",
            guests if usage is not None else "",
            ledger.money(credited) if usage is not None else "",
        ]
    )
    return ledger.csv_response(out.getvalue(), f"report-{month}.csv")


@need()
async def report_pdf_file(
    request: web.Request, console: Console, login: Login
) -> web.StreamResponse:
    month, rows, _, note = await _report(request, console, login)
    made = datetime.now().astimezone(console.zone)
    body = report_pdf(month, rows, console.zone, made, note)
    return web.Response(
        body=body,
        content_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="report-{month}.pdf"'},
    )
