"""Sessions ingested per second through `POST /api/v1/sync/sessions` (issue 20.4: ≥ 5,000/s on
PostgreSQL), the batched ingest next to the old one measured in the same run.

1. In-process, per engine: a real back end on loopback and one sync client posting batches of
   100, first with the old ingest (`RowByRowSessions` below: per session a charge point, its
   setting history, its tariff and its card, then one INSERT; what `Sessions.ingest` did
   before issue 20.4), then with today's batched ingest (a few statements per batch,
   backend/store/batch.py). Ratio new/old.
2. PostgreSQL with 1 and 3 real `eflux-backend serve` processes: 12 sites post their batches at
   once (site i to process i mod N), the way many installations sync. Against the target.

The bodies are serialised before the clock starts (the client's JSON is not measured).
PostgreSQL is the machine's server or a throwaway cluster (tests/support/postgres.py); it is
skipped with the reason when neither is available.

    .venv/bin/python benches/bench_backend.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
from aiohttp import web

from backend.api import create_app
from backend.storage import to_db
from backend.store import AccountKind, CardKind, SessionIn, Site, Store
from backend.store import batch as batch_sql
from backend.store.cards import normalise_uid
from backend.store.door import bill_to
from backend.store.models import SessionSource
from backend.store.point_history import card_facts, point_at
from backend.store.sessions import IngestResult, Sessions, _Checked, _reasons, _row, _Where
from custom_components.eflux.core.cloud.client import session_to_json
from custom_components.eflux.core.domain import FinishedSession
from tests.support.ports import free_port, port_answers
from tests.support.postgres import postgres_database

T0 = datetime(2026, 11, 1, tzinfo=UTC)
NOW = datetime(2026, 12, 7, tzinfo=UTC)
BATCH = 100
TARGET = 5_000  # sessions/s on PostgreSQL (issue 20.4)
SITES = 12
ROOT = Path(__file__).resolve().parent.parent


class RowByRowSessions(Sessions):
    """The ingest before issue 20.4, kept here as the baseline: ~5 statements per session."""

    async def ingest(
        self, site: Site, batch: list[SessionIn], *, now: datetime
    ) -> list[IngestResult]:
        results = []
        engine = self._db.engine
        async with self._db.transaction() as tx:
            cards = {}
            for uid in {normalise_uid(s.id_tag) for s in batch if s.id_tag}:
                if (card := await card_facts(tx, uid)) is not None:
                    cards[uid] = card
            cps: dict[str, int] = {}
            for item in batch:
                if item.charge_point_id not in cps:
                    cps[item.charge_point_id] = await self._sites.site_charge_point(
                        tx, site, item.charge_point_id, now
                    )
                point, tariff = await point_at(tx, cps[item.charge_point_id], item.started_at)
                card = cards.get(normalise_uid(item.id_tag or ""))
                where = _Where(
                    f"site:{site.id}", site.id, point.id, SessionSource.OWN_NETWORK, None
                )
                checked = _Checked(bill_to(card, point), _reasons(item, point, now))
                row = _row(where, item, checked, tariff, str(to_db(now)))
                stored = await batch_sql.insert_rows(tx, engine, where.origin, [row])
                key = (item.charge_point_id, item.transaction_id)
                results.append(IngestResult(*key, *stored[key]))
        return results


def bodies(prefix: str, count: int) -> list[str]:
    """Batches of 100 finished sessions as the local outbox sends them."""
    work = [
        FinishedSession(
            charge_point_id=f"CP{n % 8}",
            transaction_id=f"{prefix}{n}",
            connector_id=1,
            id_tag=f"CARD{n % 50:02d}",
            started_at=T0 + timedelta(minutes=n % 40_000),
            stopped_at=T0 + timedelta(minutes=n % 40_000 + 90),
            meter_start_wh=0.0,
            meter_stop_wh=7400.5,
            energy_wh=7400.5,
        )
        for n in range(count)
    ]
    return [
        '{"sessions":[' + ",".join(session_to_json(s) for s in work[i : i + BATCH]) + "]}"
        for i in range(0, count, BATCH)
    ]


async def seed(store: Store, sites: int) -> list[str]:
    """An account with 50 cards and `sites` sites; → a site token per site."""
    account = await store.accounts.create_account(AccountKind.CONSUMER, "Bench", now=T0)
    for n in range(50):
        await store.cards.create_card(
            f"CARD{n:02d}", CardKind.SUBSCRIPTION, now=T0, account_id=account.id
        )
    tokens = []
    for n in range(sites):
        site = await store.sites.create_site(account.id, f"Bench {n}", now=T0)
        tokens.append((await store.accounts.create_site_token(site, "bench", now=T0)).secret)
    return tokens


async def post_all(urls: list[str], tokens: list[str], work: list[list[str]]) -> float:
    """Each site posts its batches in order, all sites at once; → seconds taken."""
    async with aiohttp.ClientSession() as http:

        async def site(n: int) -> None:
            headers = {"Authorization": f"Bearer {tokens[n]}", "Content-Type": "application/json"}
            for body in work[n]:
                async with http.post(
                    f"{urls[n % len(urls)]}/api/v1/sync/sessions", data=body, headers=headers
                ) as answer:
                    assert answer.status == 200, (answer.status, await answer.text())

        started = time.perf_counter()
        await asyncio.gather(*(site(n) for n in range(len(work))))
        return time.perf_counter() - started


async def in_process(url: str, count: int) -> tuple[float, float]:
    """(old, new) sessions/s through one in-process back end and one client."""
    store = await Store.open(url)
    tokens = await seed(store, 2)
    new_sessions = store.sessions
    runner = web.AppRunner(create_app(store, clock=lambda: NOW), access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    base = [f"http://127.0.0.1:{port}"]
    try:
        await post_all(base, tokens[:1], [bodies("warm", 200)])
        store.sessions = RowByRowSessions(store.db, store.sites)
        old = count / await post_all(base, tokens[:1], [bodies("old", count)])
        store.sessions = new_sessions
        new = count / await post_all(base, tokens[1:], [bodies("new", count)])
        stored = await store.db.fetchval("SELECT count(*) FROM sessions")
        assert stored == 2 * count + 200, stored
    finally:
        await runner.cleanup()
        await store.close()
    return old, new


@contextmanager
def serving(dsn: str, processes: int) -> Iterator[list[str]]:
    """`processes` real `eflux-backend serve` processes on one database; → their URLs."""
    ports = [free_port() for _ in range(processes)]
    env = {**os.environ, "EFLUX_BACKEND_DATABASE": dsn}
    procs = [
        subprocess.Popen(
            [str(ROOT / ".venv/bin/eflux-backend"), "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    try:
        deadline = time.monotonic() + 60
        while not all(port_answers(p) for p in ports):
            if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                raise RuntimeError("eflux-backend serve did not start")
            time.sleep(0.2)
        yield [f"http://127.0.0.1:{p}" for p in ports]
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)


async def prepare(dsn: str) -> list[str]:
    store = await Store.open(dsn)
    try:
        return await seed(store, SITES)
    finally:
        await store.close()


def processes_rate(dsn: str, processes: int, count: int, prefix: str) -> float:
    tokens = asyncio.run(prepare(dsn))
    per_site = count // SITES // BATCH * BATCH
    work = [bodies(f"{prefix}{n}-", per_site) for n in range(SITES)]
    with serving(dsn, processes) as urls:
        asyncio.run(post_all(urls, tokens, [bodies(f"w{prefix}{n}-", 100) for n in range(SITES)]))
        seconds = asyncio.run(post_all(urls, tokens, work))
    return per_site * SITES / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run (seconds)")
    args = parser.parse_args()
    count, many = (2_000, 6_000) if args.quick else (20_000, 60_000)
    rates: dict[str, tuple[float, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        rates["sqlite"] = asyncio.run(in_process(str(Path(tmp) / "bench.sqlite"), count))
    multi: dict[int, float] = {}
    try:
        with postgres_database() as dsn:
            rates["postgresql"] = asyncio.run(in_process(dsn, count))
        for n in (1, 3):
            with postgres_database() as dsn:
                multi[n] = processes_rate(dsn, n, many, f"p{n}-")
    except (RuntimeError, OSError) as err:
        print(f"postgresql: skipped ({err})")
    print(f"sessions ingested per second through POST /api/v1/sync/sessions, batches of {BATCH}")
    print(f"in process, one client, {count} sessions per path:")
    print(f"{'engine':<12}{'old row by row':>16}{'batched':>12}{'ratio':>8}")
    for engine, (old, new) in rates.items():
        print(f"{engine:<12}{old:>14.0f}/s{new:>10.0f}/s{new / old:>7.1f}x")
    for n, rate in multi.items():
        base = rates["postgresql"][0]
        print(
            f"postgresql, {n} serve process{'es' if n > 1 else ''}, {SITES} sites at once: "
            f"{rate:,.0f}/s (target {TARGET:,}/s: {rate / TARGET:.2f}x; "
            f"{rate / base:.1f}x the old path in process)"
        )


if __name__ == "__main__":
    main()
