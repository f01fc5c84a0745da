"""`GET /metrics`: the back end in the Prometheus text format (prometheus_client).

Each app has its own `CollectorRegistry` (never the library's global default one), so several
apps in one process (tests, an embedded back end) do not clash or mix their numbers.

- requests by route (the route's pattern, not the path: ids do not explode the label set),
  method and status, and their latency (histogram);
- sync batches (`POST /api/v1/sync/sessions`) by outcome;
- what the OCPI rounds did (docs/roaming.md);
- read from the database at each scrape: the review queue (sessions pending), and the
  invoicing runs (months run, when the last one was made, its documents).

The route is public like /api/v1/health (Prometheus scrapes without a token): expose it to
the monitoring network only (see docs/backend.md).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import datetime

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import generate_latest

from ..storage import Unavailable
from .app_keys import STORE
from .errors import Handler

SYNC_PATH = "/api/v1/sync/sessions"


class BackendMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "eflux_http_requests",
            "HTTP requests answered",
            ["route", "method", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "eflux_http_request_duration_seconds",
            "Time to answer a request",
            ["route", "method"],
            registry=r,
        )
        self.sync_batches = Counter(
            "eflux_sync_batches", "Session batches sites sent", ["outcome"], registry=r
        )
        self.review_pending = Gauge(
            "eflux_review_queue_sessions", "Sessions waiting in the review queue", registry=r
        )
        self.months_run = Gauge(
            "eflux_invoicing_months_run", "Months with an invoicing run", registry=r
        )
        self.last_run = Gauge(
            "eflux_invoicing_last_run_timestamp_seconds",
            "When the newest invoicing run was made (Unix time)",
            registry=r,
        )
        self.last_run_documents = Gauge(
            "eflux_invoicing_last_run_documents",
            "Documents issued by the run of the newest month run",
            ["month"],
            registry=r,
        )
        self.ocpi_round = Counter(
            "eflux_ocpi_round_items",
            "What the OCPI rounds did: tokens pushed, CDRs sent, locations"
            " and tariffs pulled, parties failed",
            ["what"],
            registry=r,
        )
        self.database_up = Gauge(
            "eflux_database_up", "1 when the database answered this scrape", registry=r
        )

    def ocpi_done(self, done: Mapping[str, int]) -> None:
        for what, count in done.items():
            self.ocpi_round.labels(what).inc(count)


METRICS = web.AppKey("metrics", BackendMetrics)


def _route(request: web.Request) -> str:
    info = request.match_info
    resource = info.route.resource if info.http_exception is None else None
    return resource.canonical if resource is not None else "unmatched"


@web.middleware
async def metrics_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Outermost: sees the final status of every request, errors included."""
    metrics = request.app[METRICS]
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as err:
        status = err.status
        raise
    finally:
        route = _route(request)
        metrics.requests.labels(route, request.method, str(status)).inc()
        metrics.latency.labels(route, request.method).observe(time.perf_counter() - started)
        if request.path == SYNC_PATH and request.method == "POST":
            outcome = "stored" if status < 300 else ("refused" if status < 500 else "failed")
            metrics.sync_batches.labels(outcome).inc()


async def _read_database(request: web.Request, metrics: BackendMetrics) -> None:
    db = request.app[STORE].db
    metrics.review_pending.set(
        await db.fetchval("SELECT count(*) FROM sessions WHERE review = 'pending'")
    )
    row = await db.fetchrow(
        "SELECT count(*) AS n, max(month) AS month, max(run_at) AS at FROM invoice_runs"
    )
    metrics.months_run.set(row["n"] if row else 0)
    metrics.last_run_documents.clear()
    if row is not None and row["month"] is not None:
        metrics.last_run.set(datetime.fromisoformat(row["at"]).timestamp())
        documents = await db.fetchval(
            "SELECT count(*) FROM invoices WHERE run_month = ?", row["month"]
        )
        metrics.last_run_documents.labels(row["month"]).set(documents)


async def get_metrics(request: web.Request) -> web.Response:
    metrics = request.app[METRICS]
    try:
        await _read_database(request, metrics)
        metrics.database_up.set(1)
    except Unavailable:  # a scrape still answers: the counters matter most when the db is down
        metrics.database_up.set(0)
    return web.Response(
        body=generate_latest(metrics.registry), headers={"Content-Type": CONTENT_TYPE_LATEST}
    )


def setup(app: web.Application) -> None:
    """Register /metrics and its middleware (first, so it wraps every other one)."""
    app[METRICS] = BackendMetrics()
    app.middlewares.insert(0, metrics_middleware)
    app.router.add_get("/metrics", get_metrics)
