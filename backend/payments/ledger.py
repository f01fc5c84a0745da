"""Payments as stored: a row per provider payment, and the one place a balance is credited.

`record` takes a payment as FETCHED from the provider. It credits the account's prepaid ledger
only when that status is 'paid', the amount and currency are the ones asked for, and the row
was not credited before — claimed with a conditional UPDATE in the same transaction as the
ledger entry, so two webhooks racing each other credit once (PostgreSQL re-checks the WHERE
after the first commits; SQLite runs one write transaction at a time).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from ..invoicing.prepaid import add_entries
from ..storage import Database, Queries, Row, from_db, to_db
from ..store import NotFound
from ..store.audit import AuditLog
from .provider import FINAL, ProviderPayment

_LOGGER = logging.getLogger(__name__)
_COLS = (
    "id, account_id, provider_id, amount_cents, status, checkout_url, created_at,"
    " updated_at, credited_at"
)


@dataclass(frozen=True, slots=True)
class Payment:
    id: int
    account_id: int
    provider_id: str | None
    amount_cents: int
    status: str
    checkout_url: str | None
    created_at: datetime
    updated_at: datetime
    credited_at: datetime | None

    @property
    def final(self) -> bool:
        return self.status in FINAL


def _payment(row: Row) -> Payment:
    return Payment(
        int(row["id"]),
        int(row["account_id"]),
        row["provider_id"],
        int(row["amount_cents"]),
        str(row["status"]),
        row["checkout_url"],
        from_db(row["created_at"]) or datetime.min,
        from_db(row["updated_at"]) or datetime.min,
        from_db(row["credited_at"]),
    )


def entry_id(provider_id: str) -> str:
    return f"payment:{provider_id}"


async def begin(db: Database, account_id: int, cents: int, *, now: datetime, actor: str) -> Payment:
    """A row before the provider is asked, so the return link can name it."""
    async with db.transaction() as tx:
        if await tx.fetchval("SELECT id FROM accounts WHERE id = ?", account_id) is None:
            raise NotFound(f"account {account_id} not found")
        new_id = int(
            await tx.fetchval(
                "INSERT INTO payments (account_id, amount_cents, status, created_by, created_at,"
                " updated_at) VALUES (?, ?, 'creating', ?, ?, ?) RETURNING id",
                account_id,
                cents,
                actor,
                to_db(now),
                to_db(now),
            )
        )
    return await get(db, new_id)


async def created(
    db: Database, payment_id: int, made: ProviderPayment, *, now: datetime, actor: str
) -> Payment:
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE payments SET provider_id = ?, status = ?, checkout_url = ?, updated_at = ?"
            " WHERE id = ?",
            made.id,
            made.status,
            made.checkout_url,
            to_db(now),
            payment_id,
        )
        account_id = await tx.fetchval("SELECT account_id FROM payments WHERE id = ?", payment_id)
        await AuditLog.add(
            tx,
            at=now,
            actor=actor,
            account_id=int(account_id),
            action="payment.create",
            subject=f"payment:{payment_id}",
            detail={"provider_id": made.id, "cents": made.amount_cents},
        )
    return await get(db, payment_id)


async def abandon(db: Database, payment_id: int) -> None:
    """The provider never made the payment (it was down): no row is left to show."""
    await db.execute("DELETE FROM payments WHERE id = ? AND status = 'creating'", payment_id)


async def get(db: Queries, payment_id: int, scope: int | None = None) -> Payment:
    row = await db.fetchrow(f"SELECT {_COLS} FROM payments WHERE id = ?", payment_id)  # noqa: S608
    if row is None or (scope is not None and int(row["account_id"]) != scope):
        raise NotFound(f"payment {payment_id} not found")
    return _payment(row)


async def by_provider_id(db: Queries, provider_id: str) -> Payment | None:
    row = await db.fetchrow(f"SELECT {_COLS} FROM payments WHERE provider_id = ?", provider_id)  # noqa: S608
    return _payment(row) if row else None


async def list_for(
    db: Queries, account_id: int, *, limit: int = 20, after: int = 0
) -> list[Payment]:
    """The account's payments, newest first (`after`: ids below it; 0 = from the newest)."""
    rows = await db.fetch(
        f"SELECT {_COLS} FROM payments WHERE account_id = ? AND status <> 'creating'"  # noqa: S608
        " AND (? = 0 OR id < ?) ORDER BY id DESC LIMIT ?",
        account_id,
        after,
        after,
        limit,
    )
    return [_payment(r) for r in rows]


async def record(db: Database, fetched: ProviderPayment, *, now: datetime) -> Payment | None:
    """Store the provider's status for its payment; credit the balance once if it is paid.

    Returns the row, or None for a payment id we never made (a forged or stray webhook).
    """
    async with db.transaction() as tx:
        row = await tx.fetchrow(f"SELECT {_COLS} FROM payments WHERE provider_id = ?", fetched.id)  # noqa: S608
        if row is None:
            return None
        mine = _payment(row)
        if mine.credited_at is not None or (mine.final and fetched.status != "paid"):
            return mine  # a final status stays (a late 'expired' never undoes 'paid')
        if fetched.status != mine.status:
            await tx.execute(
                "UPDATE payments SET status = ?, updated_at = ? WHERE id = ?",
                fetched.status,
                to_db(now),
                mine.id,
            )
            await AuditLog.add(
                tx,
                at=now,
                actor="provider",
                account_id=mine.account_id,
                action=f"payment.{fetched.status}",
                subject=f"payment:{mine.id}",
                detail={"provider_id": fetched.id},
            )
        if fetched.status == "paid":
            await _credit(tx, mine, fetched, now)
    return await get(db, mine.id)


async def _credit(tx: Queries, mine: Payment, fetched: ProviderPayment, now: datetime) -> None:
    if (fetched.amount_cents, fetched.currency) != (mine.amount_cents, "EUR"):
        _LOGGER.error(
            "payment %s: the provider says %s %s were paid, we asked for EUR %s; not credited",
            fetched.id,
            fetched.currency,
            fetched.amount_cents,
            mine.amount_cents,
        )
        return
    claimed = await tx.fetchval(
        "UPDATE payments SET credited_at = ? WHERE id = ? AND credited_at IS NULL RETURNING id",
        to_db(now),
        mine.id,
    )
    if claimed is None:
        return  # another webhook credited it a moment ago
    await add_entries(
        tx,
        [
            (
                mine.account_id,
                entry_id(fetched.id),
                "top_up",
                fetched.paid_at or now,
                mine.amount_cents,
            )
        ],
    )
