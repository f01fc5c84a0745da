"""A month computed in partitions of the accounts (backend/invoicing/partition.py) gives exactly
what one run of all accounts gives: the same numbered documents line by line, statements,
sessions not billed (in the same order), late sessions and prepaid deductions - on random
stores with card, bundle, charge-point (fixed and flexible) and prepaid plans, blocked cards,
cards without a subscription, sessions of no card, guest charge points with a setting change,
lease drivers and late sessions of a month already run; and a run through worker processes
stores the same rows as a plain run, on both engines."""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory

import asyncpg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backend.billing.calendar import AMSTERDAM, Month
from backend.billing.invoices import DocumentKind
from backend.invoicing.load import load_month
from backend.invoicing.partition import merge
from backend.invoicing.persist import ToStore, load_numbers
from backend.invoicing.run import compute, invoice_month, reported
from backend.invoicing.workers import account_parts, compute_here
from backend.storage import to_db
from backend.store import Store
from tests.billing.factories import CARD_BUNDLE, CARD_PPU, CP_FIXED, CP_FLEX, PREPAID
from tests.invoicing.test_run import snapshot

DEC, JAN = Month(2024, 12), Month(2025, 1)
T0 = datetime(2024, 9, 1, tzinfo=UTC)
PLANS = (CARD_PPU, CARD_BUNDLE, PREPAID)
TARIFFS = (("0", "39", "0"), ("25", "30", "1"), ("35", "59", "2"), ("12.5", "0", "0.5"))


async def seed(store: Store, rng: random.Random, accounts: int, sessions: int) -> None:
    """A random store, written the way the bench writes one (rows, not the door's checks)."""
    db, stamp = store.db, to_db(T0)
    for plan in (*PLANS, CP_FIXED, CP_FLEX):
        await store.plans.save_plan(plan, now=T0)
    operator = accounts + 1
    async with db.transaction() as tx:
        await tx.executemany(
            "INSERT INTO accounts (id, kind, name, created_at, vat_number) VALUES (?, ?, ?, ?, ?)",
            [
                (n, "consumer", f"A{n}", stamp, "NL001" if rng.random() < 0.3 else None)
                for n in range(1, operator + 1)
            ],
        )
        await tx.executemany(
            "INSERT INTO tariffs (id, name, start_cents, per_kwh_cents, per_minute_cents, basis,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (n + 1, f"t{n}", *t, rng.choice(("incl_vat", "excl_vat")), stamp)
                for n, t in enumerate(TARIFFS)
            ],
        )
        points = [(1, operator, "PUB1", 1, 0, 0), (2, operator, "PUB2", 2, 0, 1)]
        homes: dict[int, int] = {}  # account → its charge point
        for n in range(1, accounts + 1):
            if rng.random() < 0.6:
                homes[n] = len(points) + 1
                points.append(
                    (homes[n], n, f"HOME{n}", rng.randint(1, 4), int(rng.random() < 0.6), 0)
                )
        await tx.executemany(
            "INSERT INTO charge_points (id, account_id, ocpp_id, name, tariff_id, guest_usage,"
            " fast, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(i, a, o, o, t, g, f, stamp) for i, a, o, t, g, f in points],
        )
        history = [(i, t, g, stamp) for i, _, _, t, g, _ in points]
        for i, _, _, _, g, _ in points:  # some owners change tariff or open/close mid-window
            if rng.random() < 0.3:
                moved = to_db(datetime(2024, 12, rng.randint(1, 28), tzinfo=UTC))
                history.append((i, rng.randint(1, 4), 1 - g, moved))
        await tx.executemany(
            "INSERT INTO charge_point_tariffs (charge_point_id, tariff_id, guest_usage,"
            " valid_from) VALUES (?, ?, ?, ?)",
            history,
        )
        cards: list[tuple[int, str, int, str, str, str | None]] = []
        subs: list[tuple[int, str, int | None, int | None, str, str | None]] = []
        for n in range(1, accounts + 1):
            kind = "prepaid" if rng.random() < 0.15 else "subscription"
            status = rng.choice(("active", "active", "active", "blocked", "lost"))
            cards.append((n, f"CARD{n}", n, kind, status, stamp))
            start = date(2024, 10, 1) + timedelta(days=rng.randint(0, 110))
            if rng.random() < 0.85:
                code = PREPAID.code if kind == "prepaid" else rng.choice(PLANS[:2]).code
                subs.append((n, code, n, None, start.isoformat(), stamp))
            if n in homes and rng.random() < 0.7:
                code = rng.choice((CP_FIXED.code, CP_FLEX.code))
                subs.append((n, code, None, homes[n], start.isoformat(), stamp))
        cards.append((accounts + 1, "NOSUB", 1, "subscription", "active", stamp))  # no plan
        await tx.executemany(
            "INSERT INTO cards (id, uid, account_id, kind, status, version, created_at)"
            " VALUES (?, ?, ?, ?, ?, 0, ?)",
            cards,
        )
        await tx.executemany(
            "INSERT INTO audit_log (at, actor, account_id, action, subject, detail)"
            " VALUES (?, 'test', ?, 'card.blocked', ?, '{}')",
            [
                (to_db(datetime(2025, 1, rng.randint(1, 28), tzinfo=UTC)), a, f"card:{i}")
                for i, _, a, _, status, _ in cards
                if status != "active"
            ],
        )
        await tx.executemany(
            "INSERT INTO subscriptions (account_id, plan_code, card_id, charge_point_id, status,"
            " applied_on, starts_on, created_at) VALUES (?, ?, ?, ?, 'active', ?, ?, ?)",
            [(a, p, c, cp, s, s, st) for a, p, c, cp, s, st in subs],
        )
        await tx.executemany(
            "INSERT INTO lease_drivers (account_id, charge_point_id, rate_cents_per_kwh, iban,"
            " active_from, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
            [(a, cp, "22.5", None, None, stamp) for a, cp in homes.items() if rng.random() < 0.3],
        )
    await add_sessions(store, rng, accounts, sessions, points, "a", month_starts=(9, 10, 11, 12))


async def add_sessions(
    store: Store,
    rng: random.Random,
    accounts: int,
    count: int,
    points: list[tuple[int, int, str, int, int, int]],
    tag: str,
    month_starts: tuple[int, ...],
) -> None:
    rows = []
    for n in range(count):
        card: int | None = rng.choice([*range(1, accounts + 2), None])  # + NOSUB, + no card
        m = rng.choice(month_starts)
        year = 2024 if m >= 9 else 2025
        began = datetime(year, m, 1, tzinfo=AMSTERDAM) + timedelta(minutes=rng.randrange(44_000))
        wh, minutes = rng.choice((0, rng.randrange(60_000))), rng.randrange(1, 700)
        tariff = rng.choice(TARIFFS)
        if rng.random() < 0.25:
            cp, ocpp, origin, source, operator = None, f"EVB-{n % 7}", "roaming:op", "roaming", "op"
        else:
            point = rng.choice(points)
            cp, ocpp, origin, source, operator = point[0], point[2], "site:0", "own_network", None
        review = rng.choice(("none",) * 8 + ("pending", "accepted"))
        rows.append(
            (
                origin,
                cp,
                ocpp,
                f"{tag}{n}",
                card,
                card,
                None if card else f"TAG{n % 3}",
                source,
                operator,
                to_db(began),
                to_db(began + timedelta(minutes=minutes)),
                wh,
                float(wh),
                *tariff,
                "incl_vat",
                to_db(began),
                review,
            )
        )
    async with store.db.transaction() as tx:
        await tx.executemany(
            "INSERT INTO sessions (origin, charge_point_id, cp_ocpp_id, transaction_id,"
            " connector_id, card_id, account_id, id_tag, source, operator, started_at,"
            " stopped_at, energy_wh, meter_start_wh, meter_stop_wh, start_cents, per_kwh_cents,"
            " per_minute_cents, tariff_basis, received_at, review) VALUES"
            " (?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )


async def points_of(store: Store) -> list[tuple[int, int, str, int, int, int]]:
    rows = await store.db.fetch(
        "SELECT id, account_id, ocpp_id, tariff_id, guest_usage, fast FROM charge_points"
    )
    return [
        (r["id"], r["account_id"], r["ocpp_id"], r["tariff_id"], r["guest_usage"], r["fast"])
        for r in rows
    ]


async def world(store: Store, seed_value: int, accounts: int, sessions: int) -> None:
    """December run, then late December sessions and January's own arrive."""
    rng = random.Random(seed_value)
    await seed(store, rng, accounts, sessions)
    await invoice_month(store.db, DEC, now=datetime(2025, 1, 1, 6, tzinfo=UTC))
    points = await points_of(store)
    await add_sessions(store, rng, accounts, sessions, points, "b", month_starts=(12, 1, 1))


async def compare(url: str, seed_value: int, accounts: int, sessions: int) -> None:
    store = await Store.open(url)
    try:
        await world(store, seed_value, accounts, sessions)
        numbers = await load_numbers(store.db)
        loaded = await load_month(store.db, JAN)
        plain = compute(loaded, numbers, None)
        plain_store = ToStore.of(loaded)
        for count in (1, 2, 3, accounts + 1):
            parts = await account_parts(store.db, count)
            results = [await compute_here(store.db, JAN, None, p) for p in parts]
            merged = merge(JAN, results, numbers)
            assert merged.run.invoices == plain.invoices  # numbers, drafts, lines, sessions
            assert merged.run.numbers == plain.numbers
            assert merged.run.reimbursements == plain.reimbursements
            assert merged.run.skipped == plain.skipped
            assert merged.reported == reported(loaded, plain)
            billed = {
                sid
                for inv in plain.invoices
                if inv.draft.kind is DocumentKind.INVOICE
                for sid in inv.draft.sessions
            }
            assert merged.to_store.earlier == plain_store.earlier & billed
            assert {s.id for s in merged.to_store.prepaid_sessions} == {
                s.id for s in plain_store.prepaid_sessions
            }
            assert len(merged.to_store.prepaid_sessions) == len(plain_store.prepaid_sessions)
            assert merged.to_store.prepaid_accounts == plain_store.prepaid_accounts
            assert tuple(merged.to_store.lease_drivers) == tuple(plain_store.lease_drivers)
    finally:
        await store.close()


async def in_fresh_database(database_url: str, job: object, *args: object) -> None:
    assert callable(job)
    if not database_url.startswith("postgresql://"):
        with TemporaryDirectory() as tmp:
            await job(str(Path(tmp) / "p.sqlite"), *args)
        return
    schema = f"p_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(f'CREATE SCHEMA "{schema}"')
        await job(f"{database_url}?search_path={schema}", *args)
    finally:
        await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await conn.close()


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.integers(0, 2**32), st.integers(2, 9), st.integers(10, 120))
def test_partitions_give_the_documents_of_one_run(
    database_url: str, seed_value: int, accounts: int, sessions: int
) -> None:
    asyncio.run(in_fresh_database(database_url, compare, seed_value, accounts, sessions))


async def run_with(url: str, workers: int) -> dict[str, object]:
    store = await Store.open(url)
    try:
        await world(store, 20, 12, 300)
        url_if = url if workers > 1 else None
        summary = await invoice_month(
            store.db, JAN, now=datetime(2025, 2, 1, 6, tzinfo=UTC), workers=workers, url=url_if
        )
        again = await invoice_month(
            store.db, JAN, now=datetime(2025, 2, 2, tzinfo=UTC), workers=workers, url=url_if
        )
        assert (again.issued, again.sessions) == (0, summary.sessions)
        return {"summary": summary, "rows": await snapshot(store)}
    finally:
        await store.close()


def test_worker_processes_store_what_a_plain_run_stores(database_url: str) -> None:
    found: list[dict[str, object]] = []

    async def keep(url: str, workers: int) -> None:
        found.append(await run_with(url, workers))

    asyncio.run(in_fresh_database(database_url, keep, 1))
    asyncio.run(in_fresh_database(database_url, keep, 3))
    plain, parted = found
    assert parted == plain
