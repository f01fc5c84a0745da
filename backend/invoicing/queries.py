# ruff: noqa: S608  (SQL text is built from constant column lists only; values are bound)
"""Read side of invoicing for the portal and the API: documents of an account, one document with
its lines and VAT, payment state. Every query takes `scope` (the caller's account id; None =
an admin) and raises NotFound for a document outside it, exactly like a missing one."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from ..billing.money import VatRate
from ..storage import Queries, Row
from ..store.errors import NotFound
from ..store.rows import scoped
from .models import InvoiceDetail, InvoiceLineView, InvoiceSummary, VatBreakdown

_SUMMARY = (
    "id, number, account_id, document_kind, month, issued_on, due_on, status, net_cents,"
    " vat_cents, gross_cents, paid_cents"
)
_LINE = (
    "position, kind, description, quantity, unit, vat_rate, net_cents, vat_cents, gross_cents, ref"
)
INVOICE_KINDS = ("invoice", "overage_invoice")
CREDIT_NOTE_KINDS = ("credit_note",)


def summary(row: Row) -> InvoiceSummary:
    return InvoiceSummary(
        int(row["id"]),
        row["number"],
        int(row["account_id"]),
        row["document_kind"],
        row["month"],
        date.fromisoformat(row["issued_on"]),
        date.fromisoformat(row["due_on"]),
        row["status"],
        int(row["net_cents"]),
        int(row["vat_cents"]),
        int(row["gross_cents"]),
        int(row["paid_cents"]),
    )


def line(row: Row) -> InvoiceLineView:
    return InvoiceLineView(
        int(row["position"]),
        row["kind"],
        row["description"],
        Decimal(row["quantity"]),
        row["unit"],
        row["vat_rate"],
        int(row["net_cents"]),
        int(row["vat_cents"]),
        int(row["gross_cents"]),
        row["ref"],
    )


async def list_documents(
    db: Queries,
    scope: int | None,
    kinds: tuple[str, ...],
    *,
    limit: int = 50,
    after: int = 0,
    month: str | None = None,
) -> list[InvoiceSummary]:
    """Documents of the given kinds in scope, by id (keyset pagination: ids after `after`)."""
    marks = ", ".join("?" for _ in kinds)
    args: list[Any] = [after, *kinds]
    sql = f"SELECT {_SUMMARY} FROM invoices WHERE id > ? AND document_kind IN ({marks})"
    if month is not None:
        sql += " AND month = ?"
        args.append(month)
    sql = scoped(sql, args, scope)
    rows = await db.fetch(sql + " ORDER BY id LIMIT ?", *args, limit)
    return [summary(r) for r in rows]


async def list_invoices(
    db: Queries, scope: int | None, *, limit: int = 50, after: int = 0, month: str | None = None
) -> list[InvoiceSummary]:
    """Monthly and overage invoices of the caller's account (all accounts for an admin)."""
    return await list_documents(db, scope, INVOICE_KINDS, limit=limit, after=after, month=month)


async def list_credit_notes(
    db: Queries, scope: int | None, *, limit: int = 50, after: int = 0, month: str | None = None
) -> list[InvoiceSummary]:
    """Guest-usage credit notes (payouts to the owner) of the caller's account."""
    return await list_documents(db, scope, CREDIT_NOTE_KINDS, limit=limit, after=after, month=month)


async def get_summary(db: Queries, invoice_id: int, scope: int | None) -> InvoiceSummary:
    args: list[Any] = [invoice_id]
    row = await db.fetchrow(
        scoped(f"SELECT {_SUMMARY} FROM invoices WHERE id = ?", args, scope), *args
    )
    if row is None:
        raise NotFound(f"invoice {invoice_id} not found")
    return summary(row)


async def get_invoice(db: Queries, invoice_id: int, scope: int | None) -> InvoiceDetail:
    """One document with its lines (in printed order) and its VAT per rate."""
    args: list[Any] = [invoice_id]
    row = await db.fetchrow(
        scoped(
            f"SELECT {_SUMMARY}, customer_name, customer_address, customer_vat_number"
            " FROM invoices WHERE id = ?",
            args,
            scope,
        ),
        *args,
    )
    if row is None:
        raise NotFound(f"invoice {invoice_id} not found")
    lines = tuple(
        line(r)
        for r in await db.fetch(
            f"SELECT {_LINE} FROM invoice_lines WHERE invoice_id = ? ORDER BY position", invoice_id
        )
    )
    return InvoiceDetail(
        summary(row),
        row["customer_name"],
        row["customer_address"],
        row["customer_vat_number"],
        lines,
        vat_breakdown(lines),
    )


def vat_breakdown(lines: tuple[InvoiceLineView, ...]) -> tuple[VatBreakdown, ...]:
    per_rate: dict[str, tuple[int, int]] = {}
    for item in lines:
        net, vat = per_rate.get(item.vat_rate, (0, 0))
        per_rate[item.vat_rate] = (net + item.net_cents, vat + item.vat_cents)
    return tuple(
        VatBreakdown(rate, VatRate(rate).percent, net, vat)
        for rate, (net, vat) in sorted(per_rate.items())
    )
