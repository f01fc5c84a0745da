"""An invoice or credit note as a PDF (fpdf2, built-in Helvetica in Windows-1252 so that € and
Dutch accents print without shipping a font file; other characters print as "?")."""

from __future__ import annotations

from fpdf import FPDF

from ..billing.money import format_eur
from .models import InvoiceDetail

_ENCODING = "windows-1252"
SELLER = "E-Flux Local B.V."
_TITLES = {
    "invoice": "Invoice",
    "overage_invoice": "Invoice (bundle overage)",
    "credit_note": "Credit note",
}
_WIDTHS = (10, 100, 25, 20, 25)  # position, description, net, VAT, gross (mm)


def _text(value: object) -> str:
    """What the core font can print: control characters and anything outside it become "?"."""
    printable = "".join(ch if ch.isprintable() else "?" for ch in str(value))
    return printable.encode(_ENCODING, errors="replace").decode(_ENCODING)


def render_pdf(detail: InvoiceDetail) -> bytes:
    doc = detail.invoice
    pdf = FPDF(format="A4")
    pdf.core_fonts_encoding = _ENCODING
    pdf.set_title(_text(f"{_TITLES[doc.kind]} {doc.number}"))
    pdf.set_author(SELLER)
    pdf.add_page()
    pdf.set_font("helvetica", "B", 16)
    pdf.cell(0, 10, _text(f"{_TITLES[doc.kind]} {doc.number}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", size=10)
    due = "Paid out on" if doc.kind == "credit_note" else "Due"
    for text in (
        SELLER,
        "",
        detail.customer_name,
        detail.customer_address or "",
        f"VAT number: {detail.customer_vat_number}" if detail.customer_vat_number else "",
        "",
        f"Period: {doc.period}    Date: {doc.issued_on}    {due}: {doc.due_on}",
    ):
        pdf.cell(0, 5, _text(text), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    _row(pdf, ("#", "Description", "Net", "VAT", "Total"), bold=True)
    for item in detail.lines:
        _row(
            pdf,
            (
                str(item.position),
                item.description,
                format_eur(item.net_cents),
                format_eur(item.vat_cents),
                format_eur(item.gross_cents),
            ),
        )
    _row(
        pdf,
        (
            "",
            "Total",
            format_eur(doc.net_cents),
            format_eur(doc.vat_cents),
            format_eur(doc.gross_cents),
        ),
        bold=True,
    )
    pdf.ln(4)
    for vat in detail.vat:
        label = f"VAT {vat.percent} %" if vat.percent else "Outside the scope of VAT"
        pdf.cell(
            0,
            5,
            _text(f"{label} over {format_eur(vat.net_cents)}: {format_eur(vat.vat_cents)}"),
            new_x="LMARGIN",
            new_y="NEXT",
        )
    return bytes(pdf.output())


def _row(pdf: FPDF, cells: tuple[str, str, str, str, str], *, bold: bool = False) -> None:
    pdf.set_font("helvetica", "B" if bold else "", 9)
    for index, (width, text) in enumerate(zip(_WIDTHS, cells, strict=True)):
        text = _text(text[:200])  # no column holds more; keeps the cutting loop short
        while width > 10 and pdf.get_string_width(text) > width - 2:
            text = text[:-2] + "~"  # a long description is cut, not wrapped into the next cell
        pdf.cell(width, 6, text, border="B", align="R" if index >= 2 else "L")
    pdf.ln(6)
