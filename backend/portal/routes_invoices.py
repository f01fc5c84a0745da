"""Invoices and credit notes: the list, one document with every line and its VAT, the PDF."""

from __future__ import annotations

import re

from aiohttp import web

from ..invoicing import Invoicing
from ..invoicing.pdf import render_pdf
from .ctx import account_of, db_of, path_id
from .render import render

MAX_DOCUMENTS = 500


async def invoice_list(request: web.Request) -> web.Response:
    account, invoicing = account_of(request), Invoicing(db_of(request))
    return render(
        request,
        "invoices.html",
        invoices=await invoicing.list_invoices(account, limit=MAX_DOCUMENTS),
        credit_notes=await invoicing.list_credit_notes(account, limit=MAX_DOCUMENTS),
    )


async def invoice_page(request: web.Request) -> web.Response:
    detail = await Invoicing(db_of(request)).get_invoice(path_id(request), account_of(request))
    return render(request, "invoice.html", doc=detail)


async def invoice_download(request: web.Request) -> web.Response:
    invoicing = Invoicing(db_of(request))
    detail = await invoicing.get_invoice(path_id(request), account_of(request))
    name = re.sub(r"[^A-Za-z0-9_-]", "_", detail.invoice.number)
    return web.Response(
        body=render_pdf(detail),
        content_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}.pdf"'},
    )


def setup(app: web.Application) -> None:
    app.router.add_get("/invoices", invoice_list)
    app.router.add_get("/invoices/{id}", invoice_page)
    app.router.add_get("/invoices/{id}/pdf", invoice_download)
