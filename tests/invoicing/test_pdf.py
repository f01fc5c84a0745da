"""The PDF renderer takes any stored text: characters outside Windows-1252, very long lines."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from backend.invoicing.models import InvoiceDetail, InvoiceLineView, InvoiceSummary, VatBreakdown
from backend.invoicing.pdf import render_pdf
from tests.invoicing.test_api import pdf_text


def detail(name: str, description: str) -> InvoiceDetail:
    summary = InvoiceSummary(
        7,
        "F-2025-000007",
        3,
        "invoice",
        "2025-01",
        date(2025, 2, 1),
        date(2025, 2, 15),
        "open",
        620,
        130,
        750,
        0,
    )
    line = InvoiceLineView(
        1, "lost_card_fee", description, Decimal(1), "", "standard", 620, 130, 750, "card-order:1"
    )
    return InvoiceDetail(
        summary, name, None, None, (line,), (VatBreakdown("standard", 21, 620, 130),)
    )


def test_unprintable_and_long_text_still_renders() -> None:
    pdf = render_pdf(detail("Zoë 李 \u202e\x00 Ümit", "x" * 5000 + " \U0001f50c"))
    text = pdf_text(pdf)
    assert pdf.startswith(b"%PDF-")
    assert b"Zo\xeb ? ?? \xdcmit" in text  # ë and Ü are in Windows-1252; the rest become "?"
    assert b"xxxxxxxx~" in text  # the description is cut to its column
    assert b"\x80 7,50" in text
