"""The prepaid ledger as stored (art. 10.7-10.11; rules in backend.billing.prepaid).

Each entry has an id (the top-up's payment reference, "session:<id>" for a deduction): a
repeated entry changes nothing. `accounts.prepaid_balance_cents` (which the card list reads for
`may_start`) is kept equal to the ledger's sum in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from ..billing.plans import PREPAID_MINIMUM_START_CENTS
from ..storage import Database, Queries, from_db, to_db
from ..store.errors import Conflict, Invalid, NotFound
from .models import PrepaidEntryView, PrepaidLedgerView

type NewEntry = tuple[int, str, str, datetime, int]  # account, entry id, kind, at, cents


async def prepaid_ledger(db: Queries, account_id: int, scope: int | None) -> PrepaidLedgerView:
    if scope is not None and scope != account_id:
        raise NotFound(f"account {account_id} not found")
    if await db.fetchval("SELECT id FROM accounts WHERE id = ?", account_id) is None:
        raise NotFound(f"account {account_id} not found")
    rows = await db.fetch(
        "SELECT entry_id, kind, at, cents FROM prepaid_entries WHERE account_id = ?"
        " ORDER BY at, id",
        account_id,
    )
    entries = tuple(
        PrepaidEntryView(
            r["entry_id"], r["kind"], from_db(r["at"]) or datetime.min, int(r["cents"])
        )
        for r in rows
    )
    balance = sum(e.cents for e in entries)
    return PrepaidLedgerView(account_id, balance, balance >= PREPAID_MINIMUM_START_CENTS, entries)


async def add_entries(tx: Queries, entries: Iterable[NewEntry]) -> int:
    """Insert new entries (repeats with the same content are skipped); returns how many are new.

    The same id with other content is refused: a retried sync must not change history. The
    entries already stored are looked up in chunks and the new ones inserted in one
    `executemany` (a month's run deducts every prepaid session at once)."""
    wanted = [(a, e, k, to_db(at), c) for a, e, k, at, c in entries]
    known: dict[tuple[int, str], tuple[str, str | None, int]] = {}
    ids = sorted({e for _, e, _, _, _ in wanted})
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        marks = ", ".join("?" for _ in part)
        sql = f"SELECT account_id, entry_id, kind, at, cents FROM prepaid_entries WHERE entry_id IN ({marks})"  # noqa: S608, E501 (placeholders only)
        for row in await tx.fetch(sql, *part):
            key = (int(row["account_id"]), row["entry_id"])
            known[key] = (row["kind"], row["at"], int(row["cents"]))
    new: list[tuple[int, str, str, str | None, int]] = []
    for account_id, entry_id, kind, at, cents in wanted:
        found = known.get((account_id, entry_id))
        if found is not None:
            if found != (kind, at, cents):
                raise Conflict(f"prepaid entry {entry_id} exists already with other content")
            continue
        known[(account_id, entry_id)] = (kind, at, cents)  # a repeat later in `entries`
        new.append((account_id, entry_id, kind, at, cents))
    await tx.executemany(
        "INSERT INTO prepaid_entries (account_id, entry_id, kind, at, cents)"
        " VALUES (?, ?, ?, ?, ?)",
        new,
    )
    touched = sorted({account_id for account_id, *_ in new})
    await tx.executemany(
        "UPDATE accounts SET prepaid_balance_cents ="
        " (SELECT COALESCE(SUM(cents), 0) FROM prepaid_entries WHERE account_id = ?)"
        " WHERE id = ?",
        [(a, a) for a in touched],
    )
    return len(new)


async def top_up(
    db: Database, account_id: int, entry_id: str, cents: int, *, at: datetime
) -> PrepaidLedgerView:
    """Credit a top-up (the payment reference is its id, so a repeated callback is a no-op)."""
    if isinstance(cents, bool) or not isinstance(cents, int) or cents <= 0:
        raise Invalid("a top-up is a positive amount of integer cents")
    if not entry_id or len(entry_id) > 200:
        raise Invalid("a top-up needs a payment reference of 1-200 characters")
    async with db.transaction() as tx:
        if await tx.fetchval("SELECT id FROM accounts WHERE id = ?", account_id) is None:
            raise NotFound(f"account {account_id} not found")
        await add_entries(tx, [(account_id, entry_id, "top_up", at, cents)])
    return await prepaid_ledger(db, account_id, None)
