"""The monthly statement as a PDF (fpdf2, built-in Helvetica in Windows-1252 so that € and
Dutch accents print without shipping a font; other characters print as "?"). One section per
resident's card with their sessions, then the month's totals."""

from __future__ import annotations

from datetime import datetime, tzinfo

from fpdf import FPDF

from .credit import CreditNote
from .ledger import CardMonth, kwh, money, totals

_ENCODING = "windows-1252"
_WIDTHS = (45, 45, 35, 25, 30)  # start, stop, charger, kWh, cost (mm)


def _text(value: object) -> str:
    printable = "".join(ch if ch.isprintable() else "?" for ch in str(value))
    return printable.encode(_ENCODING, errors="replace").decode(_ENCODING)


def report_pdf(
    month: str,
    rows: list[CardMonth],
    zone: tzinfo,
    made: datetime,
    note: CreditNote | None = None,
) -> bytes:
    pdf = FPDF(format="A4")
    pdf.core_fonts_encoding = _ENCODING
    pdf.set_title(_text(f"Charging statement {month}"))
    pdf.add_page()
    pdf.set_font("helvetica", "B", 16)
    pdf.cell(0, 10, _text(f"Charging statement {month}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", size=9)
    pdf.cell(0, 5, _text(f"Made {made:%Y-%m-%d %H:%M}"), new_x="LMARGIN", new_y="NEXT")
    for row in rows:
        pdf.ln(4)
        pdf.set_font("helvetica", "B", 11)
        who = " - ".join(x for x in (row.apartment, row.resident, row.card or "(no card)") if x)
        pdf.cell(0, 7, _text(who[:120]), new_x="LMARGIN", new_y="NEXT")
        if row.cloud_card:
            pdf.set_font("helvetica", "I", 9)
            line = (
                f"Own E-Flux card: {row.guest_sessions} session(s) billed by E-Flux as guest"
                f" usage, EUR {money(row.guest_amount)} credited to the association"
            )
            pdf.cell(0, 5, _text(line), new_x="LMARGIN", new_y="NEXT")
        _row(pdf, ("Start", "Stop", "Charger", "kWh", "Cost"), bold=True)
        for s in row.sessions:
            _row(
                pdf,
                (
                    f"{s.started_at.astimezone(zone):%Y-%m-%d %H:%M}",
                    f"{s.stopped_at.astimezone(zone):%Y-%m-%d %H:%M}",
                    s.charger_id or s.charge_point_id,
                    kwh(s.energy_kwh),
                    money(s.cost) or "-",
                ),
            )
        t = row.totals
        _row(
            pdf,
            (f"{t.sessions} sessions", "", "", kwh(t.energy_kwh), money(t.cost) or "-"),
            bold=True,
        )
    everything = totals(s for row in rows for s in row.sessions)
    pdf.ln(6)
    pdf.set_font("helvetica", "B", 11)
    pdf.cell(
        0,
        7,
        _text(
            f"Total: {everything.sessions} sessions, {kwh(everything.energy_kwh)} kWh, "
            f"EUR {money(everything.cost) or '-'}"
        ),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    if note is not None:
        pdf.set_font("helvetica", size=10)
        pdf.multi_cell(
            0,
            5,
            _text(
                f"Expected E-Flux credit note for {note.month}: EUR {money(note.amount)} for"
                f" {note.sessions} guest session(s), {kwh(note.energy_kwh)} kWh, at the guest"
                f" tariff; paid out from {note.payout_from:%Y-%m-%d}. The credit note itself"
                " comes from E-Flux."
            ),
            new_x="LMARGIN",
            new_y="NEXT",
        )
    return bytes(pdf.output())


def _row(pdf: FPDF, cells: tuple[str, str, str, str, str], *, bold: bool = False) -> None:
    pdf.set_font("helvetica", "B" if bold else "", 9)
    for index, (width, text) in enumerate(zip(_WIDTHS, cells, strict=True)):
        text = _text(text[:80])
        while width > 10 and pdf.get_string_width(text) > width - 2:
            text = text[:-2] + "~"
        pdf.cell(width, 6, text, border="B", align="R" if index >= 3 else "L")
    pdf.ln(6)
