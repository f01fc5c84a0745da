"""The stored prepaid ledger: €9.99 cannot start a session, repeats are no-ops, hostile amounts
and other accounts are refused, and the account's balance follows the ledger."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from backend.invoicing import Invoicing
from backend.store import AccountKind, Conflict, Invalid, NotFound, Store

pytestmark = pytest.mark.asyncio
AT = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


async def test_ledger(store: Store) -> None:
    inv = Invoicing(store.db)
    carl = await store.accounts.create_account(AccountKind.CONSUMER, "Carl", now=AT)
    dora = await store.accounts.create_account(AccountKind.CONSUMER, "Dora", now=AT)
    ledger = await inv.top_up(carl.id, "ideal-1", 999, at=AT)
    assert (ledger.balance_cents, ledger.may_start_session) == (999, False)
    assert (await inv.top_up(carl.id, "ideal-1", 999, at=AT)).balance_cents == 999  # a repeat
    with pytest.raises(Conflict):
        await inv.top_up(carl.id, "ideal-1", 1000, at=AT)
    ledger = await inv.top_up(carl.id, "ideal-2", 1, at=AT)
    assert (ledger.balance_cents, ledger.may_start_session) == (1000, True)
    assert (await store.accounts.get_account(carl.id)).prepaid_balance_cents == 1000
    with pytest.raises(NotFound):
        await inv.prepaid_ledger(carl.id, dora.id)
    with pytest.raises(NotFound):
        await inv.top_up(999_999, "x", 100, at=AT)


@pytest.mark.parametrize("cents", [0, -500, 9.99, True, "1000", None])
async def test_hostile_top_ups_are_refused(store: Store, cents: Any) -> None:
    inv = Invoicing(store.db)
    carl = await store.accounts.create_account(AccountKind.CONSUMER, "Carl", now=AT)
    with pytest.raises(Invalid):
        await inv.top_up(carl.id, "ideal-1", cents, at=AT)
    with pytest.raises(Invalid):
        await inv.top_up(carl.id, "x" * 201, 100, at=AT)
    assert (await inv.prepaid_ledger(carl.id, carl.id)).entries == ()
