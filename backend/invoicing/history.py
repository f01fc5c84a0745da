# ruff: noqa: S608  (SQL text is built from placeholders only; values are bound)
"""What earlier runs left that this run must respect: the runs made, the documents issued
(so a re-run issues nothing again and no session is billed twice), the fees already billed in
advance, the guest sessions paid out and the home sessions reimbursed."""

from __future__ import annotations

from datetime import datetime

from ..billing.advance import billed_fees
from ..billing.calendar import Month
from ..billing.invoices import Invoice
from ..billing.money import VatRate, VatSplit
from ..storage import Queries, Row
from .convert import domain_invoice
from .load_sessions import LOOKBACK_MONTHS
from .queries import line, summary
from .stamps import moment


async def runs_made(db: Queries, month: Month) -> dict[Month, datetime]:
    """The runs made of `month` and the months it may take late items from."""
    rows = await db.fetch(
        "SELECT month, run_at FROM invoice_runs WHERE month >= ? AND month <= ?",
        str(month.plus(-LOOKBACK_MONTHS)),
        str(month),
    )
    return {Month.parse(r["month"]): moment(r["run_at"]) for r in rows}


async def previous_documents(db: Queries, month: Month, window: tuple[str, str]) -> list[Invoice]:
    """Documents of this month's run (so a re-run issues nothing again) and the documents that
    account for any session in the window (so no session is billed twice)."""
    rows = await db.fetch(
        "SELECT id, number, account_id, document_kind, month, issued_on, due_on, status,"
        " net_cents, vat_cents, gross_cents, paid_cents, doc_key FROM invoices"
        " WHERE run_month = ? OR id IN (SELECT i.invoice_id FROM invoice_sessions i"
        " JOIN sessions s ON s.id = i.session_id WHERE s.started_at >= ? AND s.started_at < ?)",
        str(month),
        *window,
    )
    if not rows:
        return []
    ids = [int(r["id"]) for r in rows]
    lines: dict[int, list[Row]] = {i: [] for i in ids}
    accounted: dict[int, list[str]] = {i: [] for i in ids}
    for chunk in range(0, len(ids), 500):
        part = ids[chunk : chunk + 500]
        marks = ", ".join("?" for _ in part)
        for r in await db.fetch(
            "SELECT invoice_id, position, kind, description, quantity, unit, vat_rate,"
            " net_cents, vat_cents, gross_cents, ref FROM invoice_lines"
            f" WHERE invoice_id IN ({marks}) ORDER BY invoice_id, position",
            *part,
        ):
            lines[int(r["invoice_id"])].append(r)
        for r in await db.fetch(
            f"SELECT invoice_id, session_id FROM invoice_sessions WHERE invoice_id IN ({marks})"
            " ORDER BY session_id",
            *part,
        ):
            accounted[int(r["invoice_id"])].append(str(r["session_id"]))
    return [
        domain_invoice(
            summary(r),
            tuple(line(x) for x in lines[int(r["id"])]),
            r["doc_key"],
            tuple(accounted[int(r["id"])]),
        )
        for r in rows
    ]


async def reimbursed(db: Queries, month: Month) -> frozenset[str]:
    """Sessions of the window a statement reimbursed already (statements before 0060 list
    theirs only as text)."""
    since = str(month.plus(-LOOKBACK_MONTHS))
    found = {
        str(r["session_id"])
        for r in await db.fetch(
            "SELECT session_id FROM reimbursed_sessions WHERE month >= ?", since
        )
    }
    for row in await db.fetch(
        "SELECT session_ids FROM lease_reimbursements WHERE month >= ?", since
    ):
        found.update(s for s in row["session_ids"].split(",") if s)
    return frozenset(found)


async def fees_billed(db: Queries, month: Month) -> dict[str, VatSplit]:
    """What earlier runs billed for the fees of `month` and the next (art. 22.1,
    billing.advance)."""
    rows = await db.fetch(
        "SELECT ref, net_cents, vat_cents, gross_cents, vat_rate FROM invoice_lines"
        " WHERE kind = 'subscription_fee' AND (ref LIKE ? OR ref LIKE ?)",
        f"%@{month}",
        f"%@{month.next()}",
    )
    return billed_fees(
        [
            (
                r["ref"],
                VatSplit(
                    int(r["net_cents"]),
                    int(r["vat_cents"]),
                    int(r["gross_cents"]),
                    VatRate(r["vat_rate"]),
                ),
            )
            for r in rows
        ]
    )


async def paid_out(db: Queries, month: Month) -> frozenset[str]:
    """Guest sessions of the window a credit note paid out already (its lines' refs)."""
    rows = await db.fetch(
        "SELECT l.ref FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id"
        " WHERE l.kind = 'guest_usage' AND i.month >= ?",
        str(month.plus(-LOOKBACK_MONTHS)),
    )
    return frozenset(r["ref"] for r in rows)
