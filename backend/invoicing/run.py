"""The monthly run over the store: load → backend.billing.run_month → persist, idempotently.

Running a month again issues nothing new (its run is recorded), takes no number and changes no
row: that is known from `invoice_runs` before anything is loaded, so a re-run costs a count of
the month's sessions. A session recorded after the run is billed (or reimbursed) late by the
next month's run. A run that lost a race with a concurrent one is retried on fresh data.

With `workers` > 1 and the database's URL the run is computed in partitions of the accounts by
worker processes (`partition`, `workers`) and merged into the same documents.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from ..billing.calendar import Month
from ..billing.errors import BillingError
from ..billing.invoicer import MonthRun, run_month
from ..billing.invoices import DocumentKind
from ..storage import Database
from ..store.errors import Conflict, Invalid
from . import history
from .counting import count_sessions
from .load import Loaded, load_month
from .models import RunSummary
from .partition import merge
from .persist import ToStore, load_numbers, persist_run
from .workers import run_parts

ATTEMPTS = 3


@dataclass
class Timings:
    """Where a run's time went, in seconds. `load` and `rules` are summed over a partitioned
    run's parts, which run at once: `parts` is the wall time of that phase, `merge` numbering
    and ordering their results."""

    load: float = 0.0
    rules: float = 0.0
    parts: float = 0.0
    merge: float = 0.0
    persist: float = 0.0
    wall: float = 0.0
    partitions: int = 1


def compute(loaded: Loaded, numbers: dict[str, int], issued_on: date | None) -> MonthRun:
    try:
        return run_month(loaded.month_input, numbers, issued_on)
    except BillingError as err:
        raise Invalid(str(err)) from err


def reported(loaded: Loaded, run: MonthRun) -> tuple[tuple[str, str], ...]:
    """The sessions not billed, less those of prepaid cards without a subscription (settled
    by the ledger, not reported)."""
    prepaid = {s.id for s in loaded.month_input.sessions if s.card_uid in loaded.prepaid_uids}
    return tuple((s.ref, s.reason) for s in run.skipped if s.ref not in prepaid)


def summarize(
    month: Month, sessions: int, run: MonthRun, skipped: Sequence[tuple[str, str]]
) -> RunSummary:
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
    return RunSummary(
        month=str(month),
        issued=len(run.invoices),
        invoices=kinds[DocumentKind.INVOICE],
        overage_invoices=kinds[DocumentKind.OVERAGE_INVOICE],
        credit_notes=kinds[DocumentKind.CREDIT_NOTE],
        invoiced_gross_cents=invoiced,
        credited_gross_cents=credited,
        sessions=sessions,
        skipped=tuple(skipped),
        numbers=tuple(f"{first[s]} .. {last[s]}" for s in sorted(first)),
    )


def _made_before(month: Month, sessions: int, run_at: datetime) -> RunSummary:
    return RunSummary(
        month=str(month),
        issued=0,
        invoices=0,
        overage_invoices=0,
        credit_notes=0,
        invoiced_gross_cents=0,
        credited_gross_cents=0,
        sessions=sessions,
        skipped=(),
        numbers=(),
        run_at=run_at,
    )


async def invoice_month(
    db: Database,
    month: Month,
    *,
    now: datetime,
    issued_on: date | None = None,
    workers: int = 1,
    url: str | None = None,
    timings: Timings | None = None,
) -> RunSummary:
    """Invoice `month` (dated the 1st of the next month unless `issued_on` is given)."""
    spent = timings if timings is not None else Timings()
    began = time.perf_counter()
    for attempt in range(1, ATTEMPTS + 1):
        made = (await history.runs_made(db, month)).get(month)
        if made is not None:  # issued before: nothing to load
            return _made_before(month, await count_sessions(db, month), made)
        numbers = await load_numbers(db)
        if workers > 1 and url is not None:
            clock = time.perf_counter()
            results = await run_parts(db, url, month, issued_on, workers)
            spent.parts = time.perf_counter() - clock
            spent.load = sum(r.load_seconds for r in results)
            spent.rules = sum(r.rules_seconds for r in results)
            spent.partitions = len(results)
            if any(r.run_at is not None for r in results):
                continue  # a concurrent run of the month committed meanwhile
            clock = time.perf_counter()
            merged = merge(month, results, numbers)
            spent.merge = time.perf_counter() - clock
            run, to_store, skipped = merged.run, merged.to_store, merged.reported
            sessions = await count_sessions(db, month)
        else:
            clock = time.perf_counter()
            loaded = await load_month(db, month)
            spent.load = time.perf_counter() - clock
            if loaded.run_at is not None:
                continue
            clock = time.perf_counter()
            run = compute(loaded, numbers, issued_on)
            spent.rules = time.perf_counter() - clock
            spent.parts = spent.load + spent.rules
            to_store, skipped = ToStore.of(loaded), reported(loaded, run)
            sessions = loaded.session_count
        clock = time.perf_counter()
        try:
            async with db.transaction() as tx:
                await persist_run(tx, to_store, run, numbers, now=now)
        except Conflict:
            if attempt == ATTEMPTS:
                raise
            continue
        spent.persist = time.perf_counter() - clock
        spent.wall = time.perf_counter() - began
        return summarize(month, sessions, run, skipped)
    raise Conflict(f"the run of {month} kept meeting concurrent runs")
