"""Storing a month's run in one transaction: documents, lines, the sessions each accounts for,
the number series, the prepaid deductions and the lease reimbursements.

Numbers stay gapless under concurrency: the series are advanced by compare-and-set (from the
state the run was computed on), and a document's identity is UNIQUE, so of two runs of the same
month one commits and the other changes nothing and is retried on fresh data. The run itself is
recorded (`invoice_runs`, one row per month): a later re-run finds it and issues nothing. A
late session is recorded in `late_sessions` (one row per session), and a guest session can be
on one credit-note line only (a partial UNIQUE index), so two runs of different months cannot
both bill or pay out one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from ..billing.calendar import Month
from ..billing.invoicer import MonthRun
from ..billing.invoices import DocumentKind, Invoice
from ..billing.lease import LeaseDriver
from ..billing.sessions import ChargingSession
from ..storage import Queries, UniqueViolation, to_db
from ..store.audit import AuditLog
from ..store.errors import Conflict
from .lease import store_reimbursements
from .load import Loaded
from .prepaid import NewEntry, add_entries


@dataclass(frozen=True, slots=True)
class ToStore:
    """What storing a run needs besides its documents (from one load, or merged from a
    partitioned run's parts)."""

    month: Month
    earlier: frozenset[str]  # ids of loaded sessions of earlier months (late if invoiced)
    prepaid_sessions: tuple[ChargingSession, ...]
    prepaid_accounts: Mapping[str, int]  # session id → account id of prepaid sessions
    lease_drivers: Sequence[LeaseDriver]

    @classmethod
    def of(cls, loaded: Loaded) -> ToStore:
        month = loaded.month_input.month
        return cls(
            month=month,
            earlier=frozenset(s.id for s in loaded.month_input.sessions if s.month < month),
            prepaid_sessions=loaded.prepaid_sessions,
            prepaid_accounts=loaded.prepaid_accounts,
            lease_drivers=loaded.month_input.lease_drivers,
        )


_INVOICE_SQL = (
    "INSERT INTO invoices (account_id, number, kind, document_kind, doc_key, month, run_month,"
    " issued_on, due_on, status, net_cents, vat_cents, gross_cents, customer_name,"
    " customer_address, customer_vat_number, created_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?, ?, ?, ?)"
)
_LINE_SQL = (
    "INSERT INTO invoice_lines (invoice_id, position, kind, description, quantity, unit, ref,"
    " vat_rate, net_cents, vat_cents, gross_cents) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


async def load_numbers(db: Queries) -> dict[str, int]:
    """Series ("F-2025") → last number issued."""
    rows = await db.fetch("SELECT series, next_value FROM invoice_numbers")
    return {r["series"]: int(r["next_value"]) - 1 for r in rows}


async def _advance(tx: Queries, before: Mapping[str, int], after: Mapping[str, int]) -> None:
    for series, last in sorted(after.items()):
        old = before.get(series)
        if old == last:
            continue
        if old is None:
            moved = await tx.fetchval(
                "INSERT INTO invoice_numbers (series, next_value) VALUES (?, ?)"
                " ON CONFLICT (series) DO NOTHING RETURNING series",
                series,
                last + 1,
            )
        else:
            moved = await tx.fetchval(
                "UPDATE invoice_numbers SET next_value = ? WHERE series = ? AND next_value = ?"
                " RETURNING series",
                last + 1,
                series,
                old + 1,
            )
        if moved is None:
            raise Conflict(f"invoice series {series} moved during the run")


async def _customers(
    tx: Queries, accounts: set[int]
) -> dict[int, tuple[str, str | None, str | None]]:
    rows = await tx.fetch("SELECT id, name, address, vat_number FROM accounts")
    return {
        int(r["id"]): (r["name"], r["address"], r["vat_number"])
        for r in rows
        if int(r["id"]) in accounts
    }


def _kind(invoice: Invoice) -> str:
    # 0002's `kind` knows only invoice / credit note; `document_kind` keeps the overage apart.
    return "credit_note" if invoice.draft.kind is DocumentKind.CREDIT_NOTE else "invoice"


async def _late(tx: Queries, what: ToStore, run: MonthRun, ids: Mapping[str, int]) -> None:
    """Record the late sessions the month's invoices bill (once each, across all runs)."""
    month, earlier = what.month, what.earlier
    rows = [
        (int(sid), ids[inv.number], str(month))
        for inv in run.invoices
        if inv.draft.kind is DocumentKind.INVOICE
        for sid in dict.fromkeys(inv.draft.sessions)
        if sid in earlier
    ]
    try:
        await tx.executemany(
            "INSERT INTO late_sessions (session_id, invoice_id, run_month) VALUES (?, ?, ?)", rows
        )
    except UniqueViolation as err:
        raise Conflict("a late session was billed by a concurrent run") from err


async def persist_run(
    tx: Queries,
    loaded: Loaded | ToStore,
    run: MonthRun,
    numbers_before: Mapping[str, int],
    *,
    now: datetime,
) -> None:
    what = loaded if isinstance(loaded, ToStore) else ToStore.of(loaded)
    month = str(what.month)
    await _advance(tx, numbers_before, run.numbers)
    made = await tx.fetchval(
        "INSERT INTO invoice_runs (month, run_at) VALUES (?, ?) ON CONFLICT (month) DO NOTHING"
        " RETURNING month",
        month,
        to_db(now),
    )
    if made is None:
        raise Conflict(f"the run of {month} was made by a concurrent run")
    customers = await _customers(tx, {int(i.draft.account_id) for i in run.invoices})
    stamp = to_db(now)
    rows = []
    for inv in run.invoices:
        d, t = inv.draft, inv.totals
        name, address, vat_number = customers[int(d.account_id)]
        rows.append(
            (
                int(d.account_id),
                inv.number,
                _kind(inv),
                d.kind.value,
                d.key,
                str(d.period),
                month,
                d.issued_on.isoformat(),
                d.due_on.isoformat(),
                t.net,
                t.vat,
                t.gross,
                name,
                address,
                vat_number,
                stamp,
            )
        )
    try:
        await tx.executemany(_INVOICE_SQL, rows)
    except UniqueViolation as err:
        raise Conflict(f"documents of {month} were stored by a concurrent run") from err
    ids = {
        r["number"]: int(r["id"])
        for r in await tx.fetch("SELECT id, number FROM invoices WHERE run_month = ?", month)
    }
    lines, accounted = [], []
    for inv in run.invoices:
        invoice_id = ids[inv.number]
        for position, item in enumerate(inv.lines, 1):
            a = item.amount
            lines.append(
                (
                    invoice_id,
                    position,
                    item.kind.value,
                    item.description,
                    str(item.quantity),
                    item.unit,
                    item.ref,
                    a.rate.value,
                    a.net,
                    a.vat,
                    a.gross,
                )
            )
        accounted += [(invoice_id, int(sid)) for sid in dict.fromkeys(inv.draft.sessions)]
    try:
        await tx.executemany(_LINE_SQL, lines)
    except UniqueViolation as err:  # invoice_lines_guest_once (0060)
        raise Conflict("a guest session was paid out by a concurrent run") from err
    await _late(tx, what, run, ids)
    await tx.executemany(
        "INSERT INTO invoice_sessions (invoice_id, session_id) VALUES (?, ?)", accounted
    )
    deductions: list[NewEntry] = [
        (
            what.prepaid_accounts[s.id],
            f"session:{s.id}",
            "session",
            s.stopped_at,
            -s.cost().split().gross,
        )
        for s in what.prepaid_sessions
    ]
    await add_entries(tx, deductions)
    await store_reimbursements(tx, run, what.lease_drivers, now=now)
    if run.invoices:
        await AuditLog.add(
            tx,
            at=now,
            actor="invoice-run",
            account_id=None,
            action="invoice.run",
            subject=f"month:{month}",
            detail={"documents": len(run.invoices), "numbers": dict(run.numbers)},
        )
