"""The ledger's batch insert (`prepaid.add_entries`, used by a month's run for every prepaid
deduction at once) keeps the one-by-one rules: a repeat with the same content - stored before
or earlier in the same batch - is skipped, the same id with other content refuses the whole
batch, entries of several accounts are kept apart, and each balance is its ledger's sum."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from backend.invoicing.prepaid import NewEntry, add_entries
from backend.store import AccountKind, Conflict, Store

pytestmark = pytest.mark.asyncio
AT = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


async def ledger(store: Store) -> list[tuple[int, str, str, str, int]]:
    rows = await store.db.fetch(
        "SELECT account_id, entry_id, kind, at, cents FROM prepaid_entries ORDER BY id"
    )
    return [(r["account_id"], r["entry_id"], r["kind"], r["at"], r["cents"]) for r in rows]


async def balances(store: Store, *ids: int) -> list[int]:
    return [(await store.accounts.get_account(i)).prepaid_balance_cents for i in ids]


async def test_a_batch_of_entries(store: Store) -> None:
    carl = (await store.accounts.create_account(AccountKind.CONSUMER, "Carl", now=AT)).id
    dora = (await store.accounts.create_account(AccountKind.CONSUMER, "Dora", now=AT)).id
    first: list[NewEntry] = [
        (carl, "top-1", "top_up", AT, 5000),
        (dora, "top-1", "top_up", AT, 2000),  # the same id in another account's ledger
        (carl, "session:7", "session", AT + timedelta(hours=1), -745),
        (carl, "session:7", "session", AT + timedelta(hours=1), -745),  # a repeat in the batch
    ]
    async with store.db.transaction() as tx:
        assert await add_entries(tx, first) == 3
    assert await balances(store, carl, dora) == [4255, 2000]
    async with store.db.transaction() as tx:  # a retried batch adds nothing
        assert await add_entries(tx, [*first, (dora, "session:8", "session", AT, -100)]) == 1
    assert await balances(store, carl, dora) == [4255, 1900]
    before = await ledger(store)
    for other in (
        [(carl, "session:9", "session", AT, -1), (carl, "session:7", "session", AT, -746)],
        [(carl, "session:9", "session", AT, -1), (carl, "session:9", "session", AT, -2)],
    ):
        with pytest.raises(Conflict, match="other content"):
            async with store.db.transaction() as tx:
                await add_entries(tx, other)
        assert await ledger(store) == before  # the whole batch refused
    assert await balances(store, carl, dora) == [4255, 1900]
    async with store.db.transaction() as tx:
        assert await add_entries(tx, []) == 0
