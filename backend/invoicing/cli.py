"""`eflux-backend invoice --month YYYY-MM [--issued-on YYYY-MM-DD] [--workers N]
[--database URL]`."""

from __future__ import annotations

import argparse
import sys
from datetime import date

from ..billing.calendar import Month
from ..billing.errors import BillingError
from ..billing.money import format_eur
from ..storage.timefmt import utc_now
from ..store import Store
from ..store.errors import Invalid
from .models import RunSummary
from .run import invoice_month


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("invoice", help="invoice a month (idempotent: a re-run issues nothing)")
    p.add_argument("--month", required=True, help="YYYY-MM (Amsterdam calendar month)")
    p.add_argument("--issued-on", help="invoice date YYYY-MM-DD (default: the 1st of next month)")
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        help="compute in this many processes, each a partition of the accounts (same documents)",
    )
    # Also accepted after the sub-command; without it the global --database applies.
    p.add_argument("--database", default=argparse.SUPPRESS, help="SQLite file or postgresql://")


def describe(summary: RunSummary) -> str:
    if not summary.issued:
        text = [f"{summary.month}: nothing new to issue ({summary.sessions} sessions loaded)"]
        if summary.run_at is not None:
            text.append(
                f"  run made at {summary.run_at.isoformat()}; what arrived since goes"
                " on the next month's run"
            )
    else:
        text = [
            f"{summary.month}: issued {summary.issued} documents ({summary.invoices} invoices,"
            f" {summary.overage_invoices} overage invoices, {summary.credit_notes} credit notes)"
            f" from {summary.sessions} sessions",
            f"  invoiced {format_eur(summary.invoiced_gross_cents)} incl. VAT,"
            f" credited {format_eur(summary.credited_gross_cents)}",
            *(f"  numbers {span}" for span in summary.numbers),
        ]
    text += [f"  not billed: {ref}: {reason}" for ref, reason in summary.skipped]
    return "\n".join(text)


async def cmd_invoice(args: argparse.Namespace) -> int:
    try:
        if not args.month.isascii():  # \d in Month.parse also takes non-ASCII digits
            raise ValueError(f"month must look like YYYY-MM, got {args.month!r}")
        month = Month.parse(args.month)
        issued_on = date.fromisoformat(args.issued_on) if args.issued_on else None
    except (BillingError, ValueError) as err:
        print(f"eflux-backend invoice: {err}", file=sys.stderr)
        return 2
    store = await Store.open(args.database)
    try:
        summary = await invoice_month(
            store.db,
            month,
            now=utc_now(),
            issued_on=issued_on,
            workers=max(1, args.workers),
            url=args.database,
        )
    except Invalid as err:
        print(f"eflux-backend invoice: {err}", file=sys.stderr)
        return 2
    finally:
        await store.close()
    print(describe(summary))
    return 0
