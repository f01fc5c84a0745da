"""Stored documents back into backend.billing values (for the collection rules and re-runs)."""

from __future__ import annotations

from ..billing.calendar import Month
from ..billing.invoices import DocumentKind, Invoice, InvoiceDraft, InvoiceLine, LineKind
from ..billing.money import VatRate, VatSplit
from .models import InvoiceLineView, InvoiceSummary


def domain_line(view: InvoiceLineView) -> InvoiceLine:
    amount = VatSplit(view.net_cents, view.vat_cents, view.gross_cents, VatRate(view.vat_rate))
    return InvoiceLine(
        LineKind(view.kind), view.description, amount, view.ref, view.quantity, view.unit
    )


def domain_invoice(
    doc: InvoiceSummary,
    lines: tuple[InvoiceLineView, ...],
    key: str = "",
    sessions: tuple[str, ...] = (),
) -> Invoice:
    draft = InvoiceDraft(
        DocumentKind(doc.kind),
        str(doc.account_id),
        Month.parse(doc.period),
        doc.issued_on,
        tuple(domain_line(v) for v in lines),
        doc.due_on,
        key=key,
        sessions=sessions,
    )
    return Invoice(doc.number, draft)
