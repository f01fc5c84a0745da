"""The dashboard: this month's kWh and costs, a 90-day chart, open sessions and the latest
finished ones, live."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from ..billing.calendar import Month, local_midnight
from ..services.sessions import (
    SessionFilter,
    daily_totals,
    month_usage,
    session_cost_cents,
    sessions_for,
)
from .chart import daily_chart
from .ctx import account_of, db_of, now_of, today_of
from .middleware import redirect
from .open_sessions import open_rows
from .render import render

CHART_DAYS = 90
LIVE_ROWS = 10


async def dashboard(request: web.Request) -> web.Response:
    today = today_of(request)
    account = account_of(request)
    # Costs are what the account's own cards charged; guests on its charge points pay theirs.
    own = SessionFilter(own_charging=True)
    usage = await month_usage(db_of(request), account, Month.of(today))
    since = local_midnight(today - timedelta(days=CHART_DAYS - 1))
    charged = await sessions_for(db_of(request), account, own, since=since)
    recent = await sessions_for(db_of(request), account, SessionFilter(), since=since)
    days = daily_totals(charged, today, CHART_DAYS)
    return render(
        request,
        "dashboard.html",
        month=usage.month,
        month_wh=usage.energy_wh,
        month_cents=usage.cost_cents,
        month_count=usage.sessions,
        chart=daily_chart(days),
        latest=[(s, session_cost_cents(s)) for s in recent[:LIVE_ROWS]],
        running=await open_rows(request),
    )


async def live(request: web.Request) -> web.Response:
    """Open and latest sessions as JSON for the dashboard's refresh (portal.js polls it)."""
    since = now_of(request) - timedelta(days=CHART_DAYS)
    recent = await sessions_for(db_of(request), account_of(request), SessionFilter(), since=since)
    return web.json_response(
        {
            "sessions": [
                {
                    "id": s.id,
                    "charge_point": s.cp_ocpp_id,
                    "started_at": s.started_at.isoformat(),
                    "stopped_at": s.stopped_at.isoformat(),
                    "energy_wh": s.energy_wh,
                    "cost_cents": session_cost_cents(s),
                }
                for s in recent[:LIVE_ROWS]
            ],
            "open": [{"cells": row.cells(), "live": row.live} for row in await open_rows(request)],
        }
    )


def setup(app: web.Application) -> None:
    app.router.add_get("/", index)
    app.router.add_get("/dashboard", dashboard)
    app.router.add_get("/live.json", live)


async def index(request: web.Request) -> web.Response:
    return redirect("/dashboard")
