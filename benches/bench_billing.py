"""Invoicing a month through the store, on SQLite and on PostgreSQL.

Generates 10,000 accounts (pay-per-use cards, bundle cards, charge-point plans) and 1,000,000
sessions in January 2025 (own network and roaming), inserted in bulk (executemany), then times
`invoice_month` end to end (load, backend.billing.run_month, persist in one transaction) per
engine: in one process, then (its documents deleted) in worker processes each computing a
partition of the accounts, checking both stored the same documents; then the idempotent
re-run. Each run prints its split (load, rules, merge, persist). The baseline, measured in the
same run on the same inputs, is the pure `run_month` in one process without storage.

    .venv/bin/python benches/bench_billing.py [--quick] [--workers N] [--engines sqlite,postgresql]

Measured on the development machine (2 cores shared with other work), 1,000,000 sessions:
PostgreSQL at load average ~2: one process 89.1 s (load 17.8 s, rules 36.6 s, persist
34.0 s), 2 workers 79.0 s (parts 44.8 s, persist 33.7 s), re-run 0.35 s; the code before issue
20.4's invoicing work, same machine at load ~10: 734.0 s, re-run 298.8 s. Worker processes
only help with idle cores: a later run at load ~4 (after the partitions stopped making every
account's fee invoice) gave one process 91.4 s, 2 workers 132.5 s, re-run 0.56 s. Of the persist,
~26 s is PostgreSQL checking invoice_sessions' two foreign keys row by row: 200,000 links take
4.5 s with them, 0.35 s into the same table without them.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from backend.billing.calendar import AMSTERDAM, Month
from backend.billing.invoicer import run_month
from backend.billing.money import Price
from backend.billing.plans import Bundle, OverageRates, Plan, PlanForm, PlanKind
from backend.invoicing.load import load_month
from backend.invoicing.run import Timings, invoice_month
from backend.storage import to_db
from backend.store import Store
from tests.support.postgres import postgres_database

MONTH = Month(2025, 1)
TARGET = 60.0  # seconds for 1,000,000 sessions on PostgreSQL (issue 20.4)
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


RUN_TABLES = (  # what a run writes (the bench has no prepaid cards or lease drivers)
    "late_sessions",
    "invoice_sessions",
    "invoice_lines",
    "invoices",
    "invoice_runs",
    "invoice_numbers",
)


async def documents_of(store: Store) -> list[tuple[object, ...]]:
    """The stored documents, to check both ways of running made the same."""
    rows = await store.db.fetch(
        "SELECT i.number, i.account_id, i.document_kind, i.gross_cents, count(l.id) AS lines,"
        " sum(l.gross_cents) AS lines_gross FROM invoices i"
        " JOIN invoice_lines l ON l.invoice_id = i.id GROUP BY i.id ORDER BY i.number"
    )
    links = await store.db.fetchval("SELECT count(*) FROM invoice_sessions")
    return [tuple(r.values()) for r in rows] + [("links", links)]


async def timed_run(store: Store, url: str, workers: int) -> Timings:
    spent = Timings()
    summary = await invoice_month(
        store.db, MONTH, now=datetime.now(UTC), workers=workers, url=url, timings=spent
    )
    assert summary.issued > 0
    return spent


async def measure(url: str, accounts: int, sessions: int, workers: int) -> dict[str, Any]:
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
        one = await timed_run(store, url, 1)
        made_by_one = await documents_of(store)
        for table in RUN_TABLES:
            await store.db.execute(f"DELETE FROM {table}")
        await store.db.execute("DELETE FROM audit_log WHERE action = 'invoice.run'")
        gc.collect()
        parted = await timed_run(store, url, workers)
        assert await documents_of(store) == made_by_one, "partitioned run made other documents"
        started = time.perf_counter()
        again = await invoice_month(
            store.db, MONTH, now=datetime.now(UTC), workers=workers, url=url
        )
        rerun = time.perf_counter() - started
        assert again.issued == 0
        lines = await store.db.fetchval("SELECT count(*) FROM invoice_lines")
    finally:
        await store.close()
    return {
        "insert": insert,
        "load": load,
        "baseline": baseline,
        "one": one,
        "parted": parted,
        "rerun": rerun,
        "documents": documents,
        "lines": float(lines),
    }


def report(engine: str, r: dict[str, Any], sessions: int, workers: int) -> None:
    """One engine's rows, printed as soon as they are measured."""
    for label, t in ((f"{engine}/1", r["one"]), (f"{engine}/{workers}", r["parted"])):
        print(
            f"{label:<14}{t.wall:>8.1f}s{sessions / t.wall:>11.0f}{t.load:>8.1f}s"
            f"{t.rules:>8.1f}s{t.parts:>8.1f}s{t.merge:>7.1f}s{t.persist:>8.1f}s"
            f"{t.wall / r['baseline']:>7.2f}x{t.wall / TARGET:>8.2f}x",
            flush=True,
        )
    print(
        f"{engine:<14} seed {r['insert']:.1f}s, rules alone (baseline) {r['baseline']:.1f}s,"
        f" re-run {r['rerun']:.2f}s (target < 5 s), {r['documents']:.0f} documents,"
        f" {r['lines']:.0f} lines",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 accounts, 10,000 sessions")
    parser.add_argument("--accounts", type=int, help="accounts (default 10,000)")
    parser.add_argument("--sessions", type=int, help="sessions (default 1,000,000)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--engines", default="sqlite,postgresql")
    args = parser.parse_args()
    accounts, sessions = (200, 10_000) if args.quick else (10_000, 1_000_000)
    accounts, sessions = args.accounts or accounts, args.sessions or sessions
    engines = args.engines.split(",")
    print(
        f"invoicing {MONTH}: {accounts} accounts, {sessions} sessions; one process, then"
        f" {args.workers} worker processes (partitions of the accounts); target < {TARGET:.0f} s"
    )
    print(
        f"{'engine/procs':<14}{'run':>9}{'sess/s':>11}{'load':>9}{'rules':>9}{'parts':>9}"
        f"{'merge':>8}{'persist':>9}{'/rules':>8}{'/target':>9}",
        flush=True,
    )
    if "sqlite" in engines:
        with tempfile.TemporaryDirectory() as tmp:
            url = str(Path(tmp) / "bench.sqlite")
            report(
                "sqlite",
                asyncio.run(measure(url, accounts, sessions, args.workers)),
                sessions,
                args.workers,
            )
    if "postgresql" in engines:
        try:
            with postgres_database() as dsn:
                result = asyncio.run(measure(dsn, accounts, sessions, args.workers))
                report("postgresql", result, sessions, args.workers)
        except (RuntimeError, OSError) as err:
            print(f"postgresql: skipped ({err})")
    print(
        "run = invoice_month end to end; load and rules are summed over the partitions, parts"
        " is the wall time of load + rules; /rules = run / the pure run_month alone in one"
        " process (the baseline, same inputs, same run)"
    )


if __name__ == "__main__":
    main()
