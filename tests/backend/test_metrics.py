"""GET /metrics of the back end (issue 20.5), scraped and parsed with prometheus_client's own
parser on both engines: requests by route and status with their latencies, sync batches, the
review queue and the invoicing runs; two apps in one process keep their numbers apart; the
health route answers 503 while PostgreSQL is unreachable and /metrics says the database is down.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import pytest
import pytest_asyncio
from aiohttp.test_utils import TestServer
from prometheus_client.parser import text_string_to_metric_families

from backend.api import create_app
from backend.billing.calendar import Month
from backend.invoicing import Invoicing
from backend.store import AccountKind, Store

from .conftest import NOW
from .test_db_unavailable import Relay

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(http: aiohttp.ClientSession, server: TestServer) -> Samples:
    async with http.get(str(server.make_url("/metrics"))) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/plain; version=")
        text = await resp.text()
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def key(name: str, **labels: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    return name, tuple(sorted(labels.items()))


@pytest_asyncio.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def _session(tx: str, start: datetime, minutes: int, wh: int) -> dict[str, object]:
    return {
        "charge_point_id": "CP1",
        "transaction_id": tx,
        "connector_id": 1,
        "id_tag": None,
        "started_at": start.isoformat(),
        "stopped_at": (start + timedelta(minutes=minutes)).isoformat(),
        "meter_start_wh": 0,
        "meter_stop_wh": wh,
        "energy_wh": wh,
    }


async def test_requests_sync_review_and_invoicing_are_measured(
    store: Store, schema_url: str, http: aiohttp.ClientSession
) -> None:
    owner = await store.accounts.create_account(AccountKind.CONSUMER, "Ann", now=NOW)
    site = await store.sites.create_site(owner.id, "home", now=NOW - timedelta(days=60))
    await store.sites.create_charge_point(
        owner.id, "CP1", now=NOW - timedelta(days=60), site_id=site.id
    )
    token = (await store.accounts.create_site_token(site, "t", now=NOW)).secret
    server = TestServer(create_app(store, clock=lambda: NOW), host="127.0.0.1")
    other = TestServer(create_app(store, clock=lambda: NOW), host="127.0.0.1")
    await server.start_server()
    await other.start_server()
    try:
        url = str(server.make_url("/api/v1"))
        for _ in range(3):
            async with http.get(url + "/health") as resp:
                assert resp.status == 200
        async with http.get(url + "/accounts") as resp:
            assert resp.status == 401
        async with http.get(str(server.make_url("/no/such/page/123"))) as resp:
            assert resp.status == 404
        start = NOW - timedelta(days=30)
        batch = {
            "sessions": [_session("t1", start, 60, 7000), _session("t2", start, 10, 90_000)]
        }  # 90 kWh in 10 min: review
        headers = {"Authorization": f"Bearer {token}"}
        async with http.post(url + "/sync/sessions", json=batch, headers=headers) as resp:
            assert resp.status == 200, await resp.text()
        async with http.post(
            url + "/sync/sessions", json={"sessions": []}, headers=headers
        ) as resp:
            assert resp.status == 400
        month = Month(start.year, start.month)
        await Invoicing(store.db).run_month(month, now=NOW)

        got = await scrape(http, server)
        requests = "eflux_http_requests_total"
        health = {"route": "/api/v1/health", "method": "GET"}
        assert got[key(requests, **health, status="200")] == 3
        assert got[key("eflux_http_request_duration_seconds_count", **health)] == 3
        assert got[key(requests, method="GET", route="/api/v1/accounts", status="401")] == 1
        assert got[key(requests, method="GET", route="unmatched", status="404")] == 1
        assert got[key(requests, method="POST", route="/api/v1/sync/sessions", status="400")] == 1
        assert got[("eflux_sync_batches_total", (("outcome", "stored"),))] == 1
        assert got[("eflux_sync_batches_total", (("outcome", "refused"),))] == 1
        assert got[("eflux_review_queue_sessions", ())] == 1
        assert got[("eflux_invoicing_months_run", ())] == 1
        assert got[("eflux_invoicing_last_run_timestamp_seconds", ())] == NOW.timestamp()
        assert ("eflux_invoicing_last_run_documents", (("month", str(month)),)) in got
        assert got[("eflux_database_up", ())] == 1

        # The other app over the same store: the database's numbers, none of the requests.
        apart = await scrape(http, other)
        assert not any(
            name == "eflux_http_requests_total" and ("route", "/api/v1/health") in labels
            for name, labels in apart
        )
        assert apart[("eflux_review_queue_sessions", ())] == 1
    finally:
        await server.close()
        await other.close()


@pytest.mark.postgres
async def test_health_is_503_while_postgres_is_down(
    schema_url: str, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    if not schema_url.startswith("postgresql://"):
        pytest.skip("the PostgreSQL case (SELECT 1 on SQLite needs no file)")
    parts = urlsplit(schema_url)
    relay = Relay((parts.hostname or "127.0.0.1", parts.port or 5432))
    await relay.start()
    host = f"{parts.username + '@' if parts.username else ''}127.0.0.1:{relay.port}"
    store = await Store.open(urlunsplit(parts._replace(netloc=host)))
    server = TestServer(create_app(store, clock=lambda: NOW), host="127.0.0.1")
    await server.start_server()
    health = str(server.make_url("/api/v1/health"))
    try:
        async with http.get(health) as resp:
            assert resp.status == 200
        await relay.stop()
        async with http.get(health) as resp:
            assert (resp.status, resp.headers["Retry-After"]) == (503, "5")
            assert (await resp.json())["error"] == "unavailable"
        down = await scrape(http, server)
        assert down[("eflux_database_up", ())] == 0
        assert (
            down[
                key("eflux_http_requests_total", method="GET", route="/api/v1/health", status="503")
            ]
            == 1
        )
        await relay.start()
        async with http.get(health) as resp:
            assert resp.status == 200
        assert (await scrape(http, server))[("eflux_database_up", ())] == 1
    finally:
        await server.close()
        await store.close()
        with contextlib.suppress(AssertionError):
            await relay.stop()
