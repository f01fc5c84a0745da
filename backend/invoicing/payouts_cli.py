"""`eflux-backend payouts --month YYYY-MM [--csv FILE|-] [--database URL]`: the lease drivers'
reimbursement statements of a month and what is due; `--csv` writes the payable pending ones
as a list a bank's SEPA batch import takes (name, IBAN, amount with a decimal point, EUR,
end-to-end reference, remittance text)."""

from __future__ import annotations

import argparse
import csv
import io
import sys
from pathlib import Path

from ..billing.money import format_eur
from ..store import Store
from ..store.errors import Invalid
from .payouts import Payout, payouts

HEADER = ("account_id", "name", "iban", "amount", "currency", "end_to_end_id", "remittance")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("payouts", help="lease-driver reimbursements of a month: what is due")
    p.add_argument("--month", required=True, help="YYYY-MM of the statements (the run month)")
    p.add_argument("--csv", metavar="FILE", help="write the payable ones as CSV ('-': stdout)")
    p.add_argument("--database", default=argparse.SUPPRESS, help="SQLite file or postgresql://")


def reference(item: Payout) -> str:
    """The end-to-end id to transfer with, and to record when marking the statement paid."""
    return f"EFLUX-R-{item.month}-{item.account_id}"


def _cell(text: str) -> str:
    # A name is customer text: a leading =, +, - or @ would be a formula in a spreadsheet.
    return f"'{text}" if text[:1] in ("=", "+", "-", "@") else text


def to_csv(items: list[Payout]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for item in items:
        if item.payable:
            assert item.iban is not None
            writer.writerow(
                (
                    item.account_id,
                    _cell(item.name),
                    item.iban,
                    f"{item.cents // 100}.{item.cents % 100:02d}",
                    "EUR",
                    reference(item),
                    f"E-Flux home charging reimbursement {item.month}",
                )
            )
    return out.getvalue()


def describe(month: str, items: list[Payout]) -> str:
    due = [i for i in items if i.payable]
    lines = [
        f"{month}: {len(items)} statements, {len(due)} payable now,"
        f" {format_eur(sum(i.cents for i in due))} due"
    ]
    for i in items:
        if i.status == "paid":
            state = f"paid {i.paid_on} ({i.payout_reference})"
        elif i.payable:
            state = f"due, reference {reference(i)}"
        else:
            state = "pending, not payable: no IBAN entered" if i.iban is None else "nothing due"
        to = i.iban or "-"
        lines.append(f"  {i.account_id} {i.name}: {format_eur(i.cents)} to {to}; {state}")
    return "\n".join(lines)


async def cmd_payouts(args: argparse.Namespace) -> int:
    store = await Store.open(args.database)
    try:
        items = await payouts(store.db, args.month)
    except Invalid as err:
        print(f"eflux-backend payouts: {err}", file=sys.stderr)
        return 2
    finally:
        await store.close()
    if args.csv == "-":
        sys.stdout.write(to_csv(items))
    else:
        if args.csv:  # a small file, written once the store is closed
            Path(args.csv).write_text(to_csv(items), encoding="utf-8")  # noqa: ASYNC240
        print(describe(args.month, items))
    return 0
