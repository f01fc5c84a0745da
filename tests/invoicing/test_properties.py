"""Properties of what the run stores, on both engines: every stored total is the sum of its
stored lines, every line is net + VAT = gross, the number series have no gaps, and a re-run
changes no row."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import asyncpg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backend.billing.calendar import AMSTERDAM, Month
from backend.invoicing import Invoicing
from backend.store import AccountKind, CardKind, SessionIn, Store
from tests.billing.factories import CARD_BUNDLE, CARD_PPU, CP_FIXED
from tests.invoicing.test_run import snapshot

NOW = datetime(2025, 1, 1, tzinfo=UTC)
PLANS = (CARD_BUNDLE, CARD_PPU, CP_FIXED)

cents = st.decimals(min_value=0, max_value=200, places=1)
session_st = st.tuples(
    st.integers(0, 2),  # which account's card
    st.integers(0, 27 * 24 * 60),  # start, minutes after 1 Feb 00:00 local (some end in March)
    st.integers(0, 900),  # minutes connected
    st.integers(0, 80_000),  # Wh
    st.tuples(cents, cents, cents),  # start fee, per kWh, per minute
    st.booleans(),  # roaming or our network
)
account_st = st.tuples(st.integers(0, 2), st.integers(-40, 27))  # plan, start day offset


async def scenario(
    url: str, accounts: list[tuple[int, int]], sessions: list[tuple[Any, ...]]
) -> None:
    store = await Store.open(url)
    try:
        for plan in PLANS:
            await store.plans.save_plan(plan, now=NOW)
        site_owner = await store.accounts.create_account(AccountKind.BUSINESS, "Site", now=NOW)
        site = await store.sites.create_site(site_owner.id, "Public", now=NOW)
        for n in range(3):  # public: open to guests, DC (a few implausible sessions wait)
            await store.sites.create_charge_point(
                site_owner.id, f"CP{n}", now=NOW, site_id=site.id, guest_usage=True, fast=True
            )
        for n, (plan_index, offset) in enumerate(accounts):
            account = await store.accounts.create_account(AccountKind.CONSUMER, f"A{n}", now=NOW)
            card = await store.cards.create_card(
                f"CARD{n}", CardKind.SUBSCRIPTION, now=NOW, account_id=account.id
            )
            start = date(2025, 2, 1) + timedelta(days=offset)
            await store.plans.subscribe(
                account.id,
                PLANS[plan_index].code,
                applied_on=start,
                now=NOW,
                status="active",
                starts_on=start,
                card_id=card.id,
            )
        for n, (who, start, minutes, wh, tariff, roaming) in enumerate(sessions):
            began = datetime(2025, 2, 1, tzinfo=AMSTERDAM) + timedelta(minutes=start)
            item = SessionIn(
                f"CP{n % 3}",
                f"T{n}",
                1,
                f"CARD{who % len(accounts)}",
                began,
                began + timedelta(minutes=minutes),
                0.0,
                float(wh),
                float(wh),
            )
            if roaming:
                await store.sessions.add_roaming(
                    "op",
                    item,
                    now=item.stopped_at,
                    start_cents=tariff[0],
                    per_kwh_cents=tariff[1],
                    per_minute_cents=tariff[2],
                )
            else:
                (stored,) = await store.sessions.ingest(site, [item], now=item.stopped_at)
                await store.db.execute(  # the public charge point's tariff at that moment
                    "UPDATE sessions SET start_cents = ?, per_kwh_cents = ?,"
                    " per_minute_cents = ? WHERE id = ?",
                    *(str(Decimal(t)) for t in tariff),
                    stored.session_id,
                )
        invoicing = Invoicing(store.db)
        await invoicing.run_month(Month(2025, 2), now=NOW)
        before = await snapshot(store)
        again = await invoicing.run_month(Month(2025, 2), now=NOW)
        assert again.issued == 0
        assert await snapshot(store) == before
        await check_stored(store)
    finally:
        await store.close()


async def check_stored(store: Store) -> None:
    invoices = await store.db.fetch("SELECT * FROM invoices ORDER BY id")
    for inv in invoices:
        lines = await store.db.fetch(
            "SELECT * FROM invoice_lines WHERE invoice_id = ? ORDER BY position", inv["id"]
        )
        assert [x["position"] for x in lines] == list(range(1, len(lines) + 1))
        for x in lines:
            assert x["net_cents"] + x["vat_cents"] == x["gross_cents"]
        for column in ("net_cents", "vat_cents", "gross_cents"):
            assert inv[column] == sum(x[column] for x in lines)
    series: dict[str, list[int]] = {}
    for inv in invoices:
        prefix, number = inv["number"].rsplit("-", 1)
        series.setdefault(prefix, []).append(int(number))
    for prefix, numbers in series.items():
        assert sorted(numbers) == list(range(1, len(numbers) + 1)), prefix
        stored = await store.db.fetchval(
            "SELECT next_value FROM invoice_numbers WHERE series = ?", prefix
        )
        assert stored == len(numbers) + 1
    # Nothing unchecked is billed: no session waiting for review (some generated ones are
    # implausible) is on a line or accounted by a document.
    unchecked = {
        str(r["id"])
        for r in await store.db.fetch(
            "SELECT id FROM sessions WHERE review IN ('pending', 'rejected') OR flag IS NOT NULL"
        )
    }
    on_documents = {
        r["ref"]
        for r in await store.db.fetch(  # lines whose ref is a session
            "SELECT ref FROM invoice_lines WHERE kind IN ('session', 'guest_usage')"
        )
    }
    on_documents |= {
        str(r["session_id"])
        for r in await store.db.fetch("SELECT session_id FROM invoice_sessions")
    }
    assert not unchecked & on_documents


async def in_fresh_database(
    database_url: str, accounts: list[tuple[int, int]], sessions: list[tuple[Any, ...]]
) -> None:
    if not database_url.startswith("postgresql://"):
        with TemporaryDirectory() as tmp:
            await scenario(str(Path(tmp) / "p.sqlite"), accounts, sessions)
        return
    schema = f"p_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(f'CREATE SCHEMA "{schema}"')
        await scenario(f"{database_url}?search_path={schema}", accounts, sessions)
    finally:
        await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await conn.close()


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(account_st, min_size=1, max_size=3), st.lists(session_st, max_size=12))
def test_stored_totals_are_sums_and_reruns_change_nothing(
    database_url: str, accounts: list[tuple[int, int]], sessions: list[tuple[Any, ...]]
) -> None:
    asyncio.run(in_fresh_database(database_url, accounts, sessions))
