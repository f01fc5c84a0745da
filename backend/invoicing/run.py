"""The monthly run over the store: load → backend.billing.run_month → persist, idempotently.

Running a month again issues nothing new (its run is recorded), takes no number and changes no
row; a session recorded after the run is billed (or reimbursed) late by the next month's run.
A run that lost a race with a concurrent one is retried on fresh data.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime

from ..billing.calendar import Month
from ..billing.errors import BillingError
from ..billing.invoicer import MonthRun, run_month
from ..billing.invoices import DocumentKind
from ..storage import Database
from ..store.errors import Conflict, Invalid
from .load import Loaded, load_month
from .models import RunSummary
from .persist import load_numbers, persist_run

ATTEMPTS = 3


def compute(loaded: Loaded, numbers: dict[str, int], issued_on: date | None) -> MonthRun:
    try:
        return run_month(loaded.month_input, numbers, issued_on)
    except BillingError as err:
        raise Invalid(str(err)) from err


def summarize(loaded: Loaded, run: MonthRun) -> RunSummary:
    kinds = Counter(i.draft.kind for i in run.invoices)
    invoiced = sum(
        i.totals.gross for i in run.invoices if i.draft.kind is not DocumentKind.CREDIT_NOTE
    )
    credited = sum(i.totals.gross for i in run.invoices if i.draft.kind is DocumentKind.CREDIT_NOTE)
    first: dict[str, str] = {}
    last: dict[str, str] = {}
    for inv in sorted(run.invoices, key=lambda i: i.number):
        series = inv.number.rsplit("-", 1)[0]
        first.setdefault(series, inv.number)
        last[series] = inv.number
    # Sessions of prepaid cards without a subscription are settled by the ledger, not reported.
    prepaid = {s.id for s in loaded.month_input.sessions if s.card_uid in loaded.prepaid_uids}
    skipped = tuple((s.ref, s.reason) for s in run.skipped if s.ref not in prepaid)
    return RunSummary(
        month=str(loaded.month_input.month),
        issued=len(run.invoices),
        invoices=kinds[DocumentKind.INVOICE],
        overage_invoices=kinds[DocumentKind.OVERAGE_INVOICE],
        credit_notes=kinds[DocumentKind.CREDIT_NOTE],
        invoiced_gross_cents=invoiced,
        credited_gross_cents=credited,
        sessions=loaded.session_count,
        skipped=skipped,
        numbers=tuple(f"{first[s]} .. {last[s]}" for s in sorted(first)),
    )


async def invoice_month(
    db: Database, month: Month, *, now: datetime, issued_on: date | None = None
) -> RunSummary:
    """Invoice `month` (dated the 1st of the next month unless `issued_on` is given)."""
    for attempt in range(1, ATTEMPTS + 1):
        numbers = await load_numbers(db)
        loaded = await load_month(db, month)
        if loaded.run_at is not None:
            return RunSummary(
                month=str(month),
                issued=0,
                invoices=0,
                overage_invoices=0,
                credit_notes=0,
                invoiced_gross_cents=0,
                credited_gross_cents=0,
                sessions=loaded.session_count,
                skipped=(),
                numbers=(),
                run_at=loaded.run_at,
            )
        run = compute(loaded, numbers, issued_on)
        try:
            async with db.transaction() as tx:
                await persist_run(tx, loaded, run, numbers, now=now)
        except Conflict:
            if attempt == ATTEMPTS:
                raise
            continue
        return summarize(loaded, run)
    raise AssertionError("unreachable")  # pragma: no cover
