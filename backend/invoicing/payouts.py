# ruff: noqa: S608  (SQL text is built from constant fragments only; values are bound)
"""Paying out lease drivers' reimbursement statements (seed 002): what is due, and recording a
transfer. A statement is `pending` until an admin records its bank transfer (date and
reference); then it is `paid` and never changes again - later runs put late sessions on a new
statement, and a second mark with other data is refused.

Paid to the driver's current checked IBAN: the one they entered in the portal
(`accounts.iban`), else the one in their lease terms (`lease_drivers.iban`), else the one on the
statement - each mod-97 checked when entered. A statement without one (or of 0 cents) is listed
as not payable and cannot be marked paid.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from ..billing.calendar import Month, local_date
from ..storage import Database, Queries, to_db
from ..store.audit import AuditLog
from ..store.errors import Conflict, Invalid, NotFound
from .lease import statements
from .models import ReimbursementView

STATUSES = ("pending", "paid")
MAX_REFERENCE = 35  # a SEPA end-to-end identification holds 35 characters


@dataclass(frozen=True, slots=True)
class Payout:
    """One statement as the payout list shows it."""

    account_id: int
    name: str
    month: str  # of the statement
    cents: int
    iban: str | None  # where it is paid: the driver's current IBAN
    status: str
    paid_on: date | None
    payout_reference: str | None

    @property
    def payable(self) -> bool:
        return self.status == "pending" and self.iban is not None and self.cents > 0


def _month(text: str) -> str:
    if not isinstance(text, str) or not text.isascii():
        raise Invalid("month must look like YYYY-MM")
    try:
        return str(Month.parse(text))
    except ValueError as err:  # BillingError is a ValueError
        raise Invalid("month must look like YYYY-MM") from err


async def list_statements(
    db: Queries, scope: int | None, *, month: str | None = None, status: str | None = None
) -> list[ReimbursementView]:
    """Statements in the caller's scope (an admin: all), optionally of one month or status."""
    where, args = "1 = 1", list[object]()
    if scope is not None:
        where += " AND account_id = ?"
        args.append(scope)
    if month is not None:
        where += " AND month = ?"
        args.append(_month(month))
    if status is not None:
        if status not in STATUSES:
            raise Invalid(f"status must be one of {', '.join(STATUSES)}")
        where += " AND status = ?"
        args.append(status)
    return await statements(db, where, *args)


async def payouts(db: Queries, month: str, account_id: int | None = None) -> list[Payout]:
    """Every statement of `month` (or one account's) with the name and current IBAN."""
    args: list[object] = [_month(month)]
    if account_id is not None:
        args.append(account_id)
    rows = await db.fetch(
        "SELECT r.account_id, a.name, r.month, r.cents, COALESCE(a.iban, d.iban, r.iban) AS iban,"
        " r.status, r.paid_on, r.payout_reference FROM lease_reimbursements r"
        " JOIN accounts a ON a.id = r.account_id"
        " LEFT JOIN lease_drivers d ON d.account_id = r.account_id"
        " WHERE r.month = ?"
        + (" AND r.account_id = ?" if account_id is not None else "")
        + " ORDER BY r.account_id",
        *args,
    )
    return [
        Payout(
            int(r["account_id"]),
            r["name"],
            r["month"],
            int(r["cents"]),
            r["iban"],
            r["status"],
            date.fromisoformat(r["paid_on"]) if r["paid_on"] else None,
            r["payout_reference"],
        )
        for r in rows
    ]


def _reference(text: object) -> str:
    if not isinstance(text, str) or not 1 <= len(text) <= MAX_REFERENCE:
        raise Invalid(f"a payout reference is 1-{MAX_REFERENCE} characters")
    if not text.isascii() or not text.isprintable():
        raise Invalid("a payout reference is printable ASCII (the SEPA character set)")
    return text


async def mark_paid(
    db: Database,
    account_id: int,
    month: str,
    paid_on: date,
    reference: str,
    *,
    now: datetime,
    actor: str = "system",
) -> ReimbursementView:
    """Record the transfer of a statement. Repeating the same mark is a no-op; another date or
    reference for a paid statement is refused (a paid statement never changes)."""
    month = _month(month)
    if not isinstance(paid_on, date) or isinstance(paid_on, datetime):
        raise Invalid("paid_on must be a date")
    reference = _reference(reference)
    if paid_on < Month.parse(month).end:
        raise Invalid(f"the statement of {month} cannot be paid before {Month.parse(month).end}")
    if paid_on > local_date(now):
        raise Invalid("paid_on must not be in the future")
    async with db.transaction() as tx:
        found = await _payout(tx, account_id, month)
        if found.status == "paid":
            if (found.paid_on, found.payout_reference) != (paid_on, reference):
                raise Conflict(
                    f"the statement of {month} was paid on {found.paid_on}"
                    f" ({found.payout_reference}); a paid statement never changes"
                )
        else:
            if not found.payable:
                raise Conflict(f"the statement of {month} is not payable (no IBAN or no amount)")
            moved = await tx.fetchval(
                "UPDATE lease_reimbursements SET status = 'paid', paid_on = ?,"
                " payout_reference = ?, paid_at = ? WHERE account_id = ? AND month = ?"
                " AND status = 'pending' RETURNING account_id",
                paid_on.isoformat(),
                reference,
                to_db(now),
                account_id,
                month,
            )
            if moved is None:  # a concurrent mark won (the row lock made this one wait)
                raise Conflict(f"the statement of {month} was marked paid meanwhile")
            await AuditLog.add(
                tx,
                at=now,
                actor=actor,
                account_id=account_id,
                action="reimbursement.paid",
                subject=f"reimbursement:{month}",
                detail={
                    "cents": found.cents,
                    "paid_on": paid_on.isoformat(),
                    "reference": reference,
                },
            )
    (view,) = await statements(db, "account_id = ? AND month = ?", account_id, month)
    return view


async def _payout(tx: Queries, account_id: int, month: str) -> Payout:
    for item in await payouts(tx, month, account_id):
        return item
    raise NotFound(f"no reimbursement statement of {month} for account {account_id}")
