"""/api/v1/invoices, /invoices/{id}, /invoices/{id}.pdf and /credit-notes in the caller's scope
(a customer sees only their account's documents; an admin all of them)."""

from __future__ import annotations

import re

from aiohttp import web

from ..api import routes_payouts
from ..api.app_keys import STORE
from ..api.auth import scope
from ..api.errors import ApiError
from ..api.http import ok, page, page_args, path_id
from . import Invoicing

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$", re.ASCII)


def _invoicing(request: web.Request) -> Invoicing:
    return Invoicing(request.app[STORE].db)


def _month(request: web.Request) -> str | None:
    month = request.query.get("month")
    if month is not None and not _MONTH.match(month):
        raise ApiError(400, "invalid", "month must look like YYYY-MM")
    return month


async def list_invoices(request: web.Request) -> web.Response:
    limit, after = page_args(request)
    items = await _invoicing(request).list_invoices(
        scope(request), limit=limit, after=after, month=_month(request)
    )
    return page(items, limit)


async def list_credit_notes(request: web.Request) -> web.Response:
    limit, after = page_args(request)
    items = await _invoicing(request).list_credit_notes(
        scope(request), limit=limit, after=after, month=_month(request)
    )
    return page(items, limit)


async def get_invoice(request: web.Request) -> web.Response:
    return ok(await _invoicing(request).get_invoice(path_id(request), scope(request)))


async def get_invoice_pdf(request: web.Request) -> web.Response:
    invoice_id = path_id(request)
    pdf = await _invoicing(request).invoice_pdf(invoice_id, scope(request))
    return web.Response(
        body=pdf,
        content_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="invoice-{invoice_id}.pdf"'},
    )


def setup(app: web.Application) -> None:
    r = app.router
    r.add_get("/api/v1/invoices", list_invoices)
    r.add_get("/api/v1/invoices/{id}.pdf", get_invoice_pdf)  # before {id}, which would match it
    r.add_get("/api/v1/invoices/{id}", get_invoice)
    r.add_get("/api/v1/credit-notes", list_credit_notes)
    routes_payouts.setup(app)  # the lease drivers' statements, mounted with the documents
