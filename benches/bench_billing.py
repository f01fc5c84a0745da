"""Invoicing a month through the store, on SQLite and on PostgreSQL.

Generates 10,000 accounts (pay-per-use cards, bundle cards, charge-point plans, a few guest
charge points) and 1,000,000 sessions in January 2025 (own network and roaming), inserted in
bulk (executemany), then times `invoice_month` end to end (load, backend.billing.run_month,
persist in one transaction) per engine, and its idempotent re-run. The baseline, measured in
the same run on the same inputs, is the pure `run_month` without storage: the ratio is what
the storage costs on top of the rules.

    .venv/bin/python benches/bench_billing.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from backend.billing.calendar import AMSTERDAM, Month
from backend.billing.invoicer import run_month
from backend.billing.money import Price
from backend.billing.plans import Bundle, OverageRates, Plan, PlanForm, PlanKind
from backend.invoicing.load import load_month
from backend.invoicing.run import invoice_month
from backend.storage import to_db
from backend.store import Store
from tests.support.postgres import postgres_database

MONTH = Month(2025, 1)
T0 = datetime(2024, 12, 1, tzinfo=UTC)
PUBLIC_POINTS = 300
PLANS = (
    Plan("ppu", "Card pay per use", PlanKind.CARD, PlanForm.FLEXIBLE),
    Plan(
        "b100",
        "Card 100 kWh",
        PlanKind.CARD,
        PlanForm.FIXED,
        Price.gross(1995),
        bundle=Bundle(100_000, 600, 20_000),
        overage=OverageRates(Decimal(35), Decimal(120), Decimal(59)),
    ),
    Plan("cp", "Charge point fixed", PlanKind.CHARGE_POINT, PlanForm.FIXED, Price.gross(1250)),
)


async def seed(store: Store, accounts: int, sessions: int) -> float:
    """Bulk-insert the month; returns the seconds the session insert took."""
    rng = random.Random(7)
    db, stamp = store.db, to_db(T0)
    for plan in PLANS:
        await store.plans.save_plan(plan, now=T0)
    async with db.transaction() as tx:
        await tx.executemany(
            "INSERT INTO accounts (id, kind, name, created_at) VALUES (?, 'consumer', ?, ?)",
            [(n, f"Customer {n}", stamp) for n in range(1, accounts + 2)],
        )
        await tx.executemany(
            "INSERT INTO tariffs (id, name, start_cents, per_kwh_cents, per_minute_cents, basis,"
            " created_at) VALUES (?, ?, ?, ?, ?, 'incl_vat', ?)",
            [(1, "public", "0", "39", "0", stamp), (2, "guest", "25", "30", "1", stamp)],
        )
        # The operator (account accounts+1) owns the public points; every 100th customer
        # opens a charge point to guests.
        points = [(n, accounts + 1, f"PUB{n}", 1, 0, stamp) for n in range(1, PUBLIC_POINTS + 1)]
        points += [
            (PUBLIC_POINTS + n, n, f"HOME{n}", 2, 1, stamp)
            for n in range(1, accounts + 1)
            if n % 100 == 0
        ]
        await tx.executemany(
            "INSERT INTO charge_points (id, account_id, ocpp_id, name, tariff_id, guest_usage,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(i, a, o, o, t, g, s) for i, a, o, t, g, s in points],
        )
        await tx.executemany(
            "INSERT INTO cards (id, uid, account_id, kind, status, version, created_at)"
            " VALUES (?, ?, ?, 'subscription', 'active', 0, ?)",
            [(n, f"CARD{n:06d}", n, stamp) for n in range(1, accounts + 1)],
        )
        subs: list[tuple[int, str, int | None, int | None, str, str | None]] = []
        for n in range(1, accounts + 1):
            start = date(2024, 12, 1) if n % 3 else date(2025, 1, 1 + n % 28)
            code = "b100" if n % 4 == 0 else "ppu"
            subs.append((n, code, n, None, start.isoformat(), stamp))
            if n % 100 == 0:
                subs.append((n, "cp", None, PUBLIC_POINTS + n, start.isoformat(), stamp))
        await tx.executemany(
            "INSERT INTO subscriptions (account_id, plan_code, card_id, charge_point_id, status,"
            " applied_on, starts_on, created_at) VALUES (?, ?, ?, ?, 'active', ?, ?, ?)",
            [(a, p, c, cp, s, s, st) for a, p, c, cp, s, st in subs],
        )
    guest_points = [p for p in points if p[5]]
    month_start = datetime(2025, 1, 1, tzinfo=AMSTERDAM)
    rows = []
    for n in range(sessions):
        card = rng.randrange(1, accounts + 1)
        began = month_start + timedelta(seconds=rng.randrange(31 * 86_400))
        minutes = rng.randrange(10, 600)
        wh = rng.randrange(0, 60_000)
        roaming = rng.random() < 0.3
        if roaming:
            cp_id, ocpp, origin, source, tariff = (
                None,
                f"EVB-{n % 5000}",
                "roaming:op",
                "roaming",
                ("35", "59", "2"),
            )
        else:
            point = (
                guest_points[n % len(guest_points)]
                if n % 50 == 0
                else points[rng.randrange(PUBLIC_POINTS)]
            )
            cp_id, ocpp, origin, source = point[0], point[2], "site:0", "own_network"
            tariff = ("25", "30", "1") if point[5] else ("0", "39", "0")
        rows.append(
            (
                origin,
                cp_id,
                ocpp,
                f"T{n}",
                card,
                card,
                source,
                to_db(began),
                to_db(began + timedelta(minutes=minutes)),
                wh,
                float(wh),
                *tariff,
                stamp,
            )
        )
    started = time.perf_counter()
    async with db.transaction() as tx:
        await tx.executemany(
            "INSERT INTO sessions (origin, charge_point_id, cp_ocpp_id, transaction_id,"
            " connector_id, card_id, account_id, source, started_at, stopped_at, energy_wh,"
            " meter_start_wh, meter_stop_wh, start_cents, per_kwh_cents, per_minute_cents,"
            " tariff_basis, received_at) VALUES"
            " (?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, 'incl_vat', ?)",
            rows,
        )
    return time.perf_counter() - started


async def measure(url: str, accounts: int, sessions: int) -> dict[str, float]:
    store = await Store.open(url)
    try:
        insert = await seed(store, accounts, sessions)
        started = time.perf_counter()
        loaded = await load_month(store.db, MONTH)
        load = time.perf_counter() - started
        started = time.perf_counter()
        pure = run_month(loaded.month_input, {})
        baseline = time.perf_counter() - started
        documents = len(pure.invoices)
        del loaded, pure
        gc.collect()
        started = time.perf_counter()
        summary = await invoice_month(store.db, MONTH, now=datetime.now(UTC))
        total = time.perf_counter() - started
        assert summary.issued == documents, (summary.issued, documents)
        started = time.perf_counter()
        again = await invoice_month(store.db, MONTH, now=datetime.now(UTC))
        rerun = time.perf_counter() - started
        assert again.issued == 0
        lines = await store.db.fetchval("SELECT count(*) FROM invoice_lines")
    finally:
        await store.close()
    return {
        "insert": insert,
        "load": load,
        "baseline": baseline,
        "total": total,
        "rerun": rerun,
        "documents": documents,
        "lines": float(lines),
    }


def report(engine: str, r: dict[str, float], sessions: int) -> None:
    """One engine's row, printed as soon as it is measured."""
    print(
        f"{engine:<12}{r['insert']:>9.1f}s{r['total']:>12.1f}s"
        f"{sessions / r['total']:>12.0f}{r['baseline']:>9.1f}s"
        f"{r['total'] / r['baseline']:>7.1f}x{r['rerun']:>8.1f}s{r['documents']:>11.0f}"
        f"{r['lines']:>10.0f}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 accounts, 10,000 sessions")
    args = parser.parse_args()
    accounts, sessions = (200, 10_000) if args.quick else (10_000, 1_000_000)
    print(
        f"invoicing {MONTH}: {accounts} accounts, {sessions} sessions"
        f" (baseline: the pure run_month on the same inputs, no storage)"
    )
    print(
        f"{'engine':<12}{'insert':>10}{'invoice run':>13}{'sessions/s':>12}{'baseline':>10}"
        f"{'ratio':>8}{'re-run':>9}{'documents':>11}{'lines':>10}",
        flush=True,
    )
    with tempfile.TemporaryDirectory() as tmp:
        report(
            "sqlite",
            asyncio.run(measure(str(Path(tmp) / "bench.sqlite"), accounts, sessions)),
            sessions,
        )
    try:
        with postgres_database() as dsn:
            report("postgresql", asyncio.run(measure(dsn, accounts, sessions)), sessions)
    except (RuntimeError, OSError) as err:
        print(f"postgresql: skipped ({err})")
    print("ratio = invoice run (load + rules + persist) / baseline (rules only)")


if __name__ == "__main__":
    main()
