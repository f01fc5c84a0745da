"""Sessions ingested per second through the sync API, on SQLite and on PostgreSQL.

A real back end on loopback, a real sync client: finished sessions are posted to
`POST /api/v1/sync/sessions` in batches of 100 (what the local sync does), then one session
per request as the baseline (what a naive client would do), on each engine. Printed side by
side with the batch/single ratio per engine and the PostgreSQL/SQLite ratio.
PostgreSQL is the machine's server or a throwaway cluster (tests/support/postgres.py); it is
skipped with the reason when neither is available.

    .venv/bin/python benches/bench_backend.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiohttp import web

from backend.api import create_app
from backend.store import AccountKind, CardKind, Store
from custom_components.eflux.core.cloud import CloudClient
from custom_components.eflux.core.domain import FinishedSession
from tests.support.ports import free_port
from tests.support.postgres import postgres_database

T0 = datetime(2026, 11, 1, tzinfo=UTC)
BATCH = 100


def sessions(prefix: str, count: int) -> list[FinishedSession]:
    return [
        FinishedSession(
            charge_point_id=f"CP{n % 8}", transaction_id=f"{prefix}{n}", connector_id=1,
            id_tag=f"CARD{n % 50:02d}", started_at=T0 + timedelta(minutes=n),
            stopped_at=T0 + timedelta(minutes=n + 90), meter_start_wh=0.0,
            meter_stop_wh=7400.5, energy_wh=7400.5,
        )
        for n in range(count)
    ]


async def measure(url: str, batched: int, single: int) -> tuple[float, float]:
    store = await Store.open(url)
    account = await store.accounts.create_account(AccountKind.CONSUMER, "Bench", now=T0)
    site = await store.sites.create_site(account.id, "Bench", now=T0)
    for n in range(50):
        await store.cards.create_card(f"CARD{n:02d}", CardKind.SUBSCRIPTION, now=T0,
                                      account_id=account.id)
    token = (await store.accounts.create_site_token(site, "bench", now=T0)).secret
    runner = web.AppRunner(create_app(store), access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    client = CloudClient(f"http://127.0.0.1:{port}", token)
    try:
        await client.post_sessions(sessions("warm", 10))
        work = sessions("b", batched)
        started = time.perf_counter()
        for i in range(0, len(work), BATCH):
            await client.post_sessions(work[i : i + BATCH])
        batch_rate = batched / (time.perf_counter() - started)
        work = sessions("s", single)
        started = time.perf_counter()
        for one in work:
            await client.post_sessions([one])
        single_rate = single / (time.perf_counter() - started)
        stored = await store.db.fetchval("SELECT count(*) FROM sessions")
        assert stored == batched + single + 10, stored
    finally:
        await client.close()
        await runner.cleanup()
        await store.close()
    return batch_rate, single_rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run (seconds)")
    args = parser.parse_args()
    batched, single = (1_000, 200) if args.quick else (20_000, 2_000)
    results: dict[str, tuple[float, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["sqlite"] = asyncio.run(measure(str(Path(tmp) / "bench.sqlite"), batched,
                                                single))
    try:
        with postgres_database() as dsn:
            results["postgresql"] = asyncio.run(measure(dsn, batched, single))
    except (RuntimeError, OSError) as err:
        print(f"postgresql: skipped ({err})")
    print(f"sessions ingested per second through POST /api/v1/sync/sessions "
          f"({batched} in batches of {BATCH}; {single} one per request)")
    print(f"{'engine':<12}{'batches of 100':>16}{'one per request':>18}{'ratio':>8}")
    for engine, (batch_rate, single_rate) in results.items():
        print(f"{engine:<12}{batch_rate:>14.0f}/s{single_rate:>16.0f}/s"
              f"{batch_rate / single_rate:>7.1f}x")
    if len(results) == 2:
        ratio = results["postgresql"][0] / results["sqlite"][0]
        print(f"postgresql / sqlite (batches): ratio {ratio:.2f}x")


if __name__ == "__main__":
    main()
