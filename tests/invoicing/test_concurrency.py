"""Two runs of the same month at once (two connections): one issues, the other loses the race,
is retried on fresh data and issues nothing; numbers stay gapless."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from backend.billing.calendar import Month
from backend.invoicing import Invoicing
from backend.invoicing.load import load_month
from backend.invoicing.persist import load_numbers, persist_run
from backend.invoicing.run import compute
from backend.store import Conflict, Store
from tests.invoicing.test_run import snapshot
from tests.invoicing.world import build

pytestmark = pytest.mark.asyncio
NOW = datetime(2025, 2, 1, 3, 0, tzinfo=UTC)


async def test_concurrent_runs_issue_each_document_once(schema_url: str) -> None:
    first, second = await Store.open(schema_url), await Store.open(schema_url)
    try:
        await build(first)
        month = Month.parse("2025-01")
        a, b = await asyncio.gather(
            Invoicing(first.db).run_month(month, now=NOW),
            Invoicing(second.db).run_month(month, now=NOW),
        )
        assert sorted((a.issued, b.issued)) == [0, 3]
        numbers = [
            r["number"] for r in await first.db.fetch("SELECT number FROM invoices ORDER BY number")
        ]
        assert numbers == ["C-2025-000001", "F-2025-000001", "F-2025-000002"]
        series = {
            r["series"]: r["next_value"]
            for r in await first.db.fetch("SELECT series, next_value FROM invoice_numbers")
        }
        assert series == {"C-2025": 2, "F-2025": 3}
        linked = await first.db.fetchval("SELECT count(*) FROM invoice_sessions")
        # Ann's invoice accounts for her two roaming sessions and the bundled one, her overage
        # invoice for the bundled one again; the credit note lists none.
        assert linked == 4
    finally:
        await first.close()
        await second.close()


async def test_a_run_computed_on_stale_data_stores_nothing(store: Store) -> None:
    """The race made deterministic: a run computed before another one committed."""
    await build(store)
    month = Month.parse("2025-01")
    numbers = await load_numbers(store.db)
    loaded = await load_month(store.db, month)
    stale = compute(loaded, numbers, None)
    await Invoicing(store.db).run_month(month, now=NOW)
    before = await snapshot(store)
    with pytest.raises(Conflict, match="moved during the run"):
        async with store.db.transaction() as tx:
            await persist_run(tx, loaded, stale, numbers, now=NOW)
    assert await snapshot(store) == before
