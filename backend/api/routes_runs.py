"""/api/v1/invoicing/runs (admin): the month's invoicing run, as the portal's admin page and
`eflux-backend invoice --month` start it (backend.invoicing; a re-run issues nothing new)."""

from __future__ import annotations

import voluptuous as vol
from aiohttp import web

from ..billing.calendar import Month
from ..billing.errors import BillingError
from ..invoicing import Invoicing
from .app_keys import CLOCK, STORE
from .auth import admin
from .http import body, ok


def _month(value: object) -> Month:
    if not isinstance(value, str) or len(value) != 7:
        raise vol.Invalid("expected a month YYYY-MM")
    try:
        return Month.parse(value)
    except BillingError as err:
        raise vol.Invalid("expected a month YYYY-MM") from err


RUN = vol.Schema({vol.Required("month"): _month})


async def run_month(request: web.Request) -> web.Response:
    admin(request)
    data = await body(request, RUN)
    summary = await Invoicing(request.app[STORE].db).run_month(
        data["month"], now=request.app[CLOCK]()
    )
    return ok(summary)


def setup(app: web.Application) -> None:
    app.router.add_post("/api/v1/invoicing/runs", run_month)
