"""GET /api/sessions and GET /api/reports/monthly: the site's session history (docs/local-api.md).

- /api/sessions?from=&to=&month=&charger=&card=&format=csv: finished sessions, oldest first,
  with totals; CSV when `format=csv` or the client accepts only text/csv.
- /api/reports/monthly?month=YYYY-MM: totals per card with the card's resident and apartment;
  with the cloud's word (console/credit.py) each card's guest sessions and the month's
  expected credit note.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..runtime import LocalSite
from .console import ledger
from .console.credit import CreditNote, credit_note
from .console.residents import RESIDENTS
from .console.store import STORE
from .errors import ApiError


def add_routes(app: web.Application, site_key: web.AppKey[LocalSite]) -> None:
    async def get_sessions(request: web.Request) -> web.StreamResponse:
        site = request.app[site_key]
        zone = ledger.site_zone(site)
        wanted = _filter(request, zone)
        records = await ledger.sessions(site, wanted)
        residents = ledger.people(site, request.app[RESIDENTS].people())
        if request.query.get("format") == "csv" or request.headers.get("Accept") == "text/csv":
            return ledger.csv_response(
                ledger.sessions_csv(records, residents, zone), "sessions.csv"
            )
        total = ledger.totals(records)
        return web.json_response(
            {
                "from": wanted.start.isoformat(),
                "to": wanted.end.isoformat(),
                "sessions": [ledger.session_dict(r, residents) for r in records],
                "totals": totals_dict(total),
            }
        )

    async def get_monthly(request: web.Request) -> web.Response:
        site = request.app[site_key]
        month = request.query.get("month", "")
        usage = ledger.usage_of(site, await request.app[STORE].cloud_config())
        try:
            start, end, rows = await ledger.monthly(
                site, month, request.app[RESIDENTS].people(), usage
            )
        except ledger.QueryError as err:
            raise ApiError(400, "bad_request", str(err)) from None
        records = [s for row in rows for s in row.sessions]
        note = None if usage is None else credit_note(usage, month, records)
        return web.json_response(
            {
                "month": month,
                "from": start.isoformat(),
                "to": end.isoformat(),
                "currency": site.config.central.currency,
                "cards": [
                    {
                        "card": row.card,
                        "resident": row.resident,
                        "apartment": row.apartment,
                        "cloud_card": row.cloud_card,
                        **totals_dict(row.totals),
                        "guest_sessions": row.guest_sessions if usage is not None else None,
                        "credited": ledger.money(row.guest_amount) if usage is not None else None,
                    }
                    for row in rows
                ],
                "totals": totals_dict(ledger.totals(records)),
                "credit_note": None if note is None else credit_dict(note),
            }
        )

    app.router.add_get("/api/sessions", get_sessions)
    app.router.add_get("/api/reports/monthly", get_monthly)


def _filter(request: web.Request, zone: Any) -> ledger.SessionFilter:
    try:
        return ledger.parse_filter(request.query, zone)
    except ledger.QueryError as err:
        raise ApiError(400, "bad_request", str(err)) from None


def totals_dict(total: ledger.Totals) -> dict[str, Any]:
    return {
        "sessions": total.sessions,
        "energy_kwh": ledger.kwh(total.energy_kwh),
        "cost": None if total.cost is None else ledger.money(total.cost),
    }


def credit_dict(note: CreditNote) -> dict[str, Any]:
    return {
        "expected": ledger.money(note.amount),
        "guest_sessions": note.sessions,
        "energy_kwh": ledger.kwh(note.energy_kwh),
        "payout_from": note.payout_from.isoformat(),
    }
