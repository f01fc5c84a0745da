"""GET /metrics: the site in the Prometheus text format (prometheus_client), read through
LocalSite only. Each app has its own registry (never the library's global one), so several
sites in one process (tests, the demo) keep their numbers apart.

- eflux_local_chargers, eflux_local_chargers_online: configured chargers and those connected;
- eflux_local_ocpp_events_total{event}: what the central system decoded from the chargers'
  OCPP messages (boots, status changes, transactions, meter samples, …) since the start;
- eflux_local_decisions_total{kind}: the controller's decisions since the start: `limit`
  (a limit change), `overload`, `overload_cleared`, `meter_lost`, `meter_recovered`, `rotation`;
- eflux_local_overloaded_circuits, eflux_local_meters_lost: now;
- eflux_local_meter_age_seconds{meter,circuit}: since each meter's last reading (staleness),
  eflux_local_meter_ok{meter,circuit}: 1 while its reading is usable.
"""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Callable, Iterator

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector

from ..central.events import CentralEvent
from ..runtime import LocalSite


class SiteCollector(Collector):
    """Read at each scrape: the snapshot, the decision counts and the events seen."""

    def __init__(self, site: LocalSite) -> None:
        self.site = site
        self.events: Tally[str] = Tally()

    def seen(self, event: CentralEvent) -> None:
        self.events[type(event).__name__] += 1

    def collect(self) -> Iterator[Metric]:
        snap = self.site.state()
        chargers = snap.chargers.values()
        yield GaugeMetricFamily(
            "eflux_local_chargers", "Chargers configured", value=len(snap.chargers)
        )
        yield GaugeMetricFamily(
            "eflux_local_chargers_online",
            "Chargers connected now",
            value=sum(1 for c in chargers if c.online),
        )
        events = CounterMetricFamily(
            "eflux_local_ocpp_events",
            "Events decoded from the chargers' OCPP messages",
            labels=["event"],
        )
        for name, count in sorted(self.events.items()):
            events.add_metric([name], count)
        yield events
        decisions = CounterMetricFamily(
            "eflux_local_decisions",
            "Controller decisions (limit changes, overloads, …)",
            labels=["kind"],
        )
        for kind, count in self.site.decision_counts().items():
            decisions.add_metric([kind], count)
        yield decisions
        yield GaugeMetricFamily(
            "eflux_local_overloaded_circuits",
            "Circuits over their fuse now",
            value=len(snap.overloaded),
        )
        yield GaugeMetricFamily(
            "eflux_local_meters_lost", "Meters not heard now", value=len(snap.meters_lost)
        )
        age = GaugeMetricFamily(
            "eflux_local_meter_age_seconds",
            "Seconds since the meter's last reading",
            labels=["meter", "circuit"],
        )
        usable = GaugeMetricFamily(
            "eflux_local_meter_ok",
            "1 while the meter's reading is usable",
            labels=["meter", "circuit"],
        )
        for meter in snap.meters:
            labels = [meter.name, meter.circuit]
            usable.add_metric(labels, 1 if meter.quality == "ok" else 0)
            if meter.last_reading_at is not None:
                age.add_metric(labels, max(0.0, (snap.at - meter.last_reading_at).total_seconds()))
        yield age
        yield usable


def add_routes(app: web.Application, site_key: web.AppKey[LocalSite]) -> None:
    registry = CollectorRegistry(auto_describe=False)
    collectors: list[SiteCollector] = []
    removers: list[Callable[[], None]] = []

    async def listen(app: web.Application) -> None:
        collector = SiteCollector(app[site_key])
        registry.register(collector)
        collectors.append(collector)
        removers.append(app[site_key].add_event_listener(collector.seen))

    async def stop(_: web.Application) -> None:
        for remove in removers:
            remove()

    async def get_metrics(_: web.Request) -> web.Response:
        return web.Response(
            body=generate_latest(registry), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    app.on_startup.append(listen)  # type: ignore[arg-type]  # aiosignal typing skew
    app.on_cleanup.append(stop)  # type: ignore[arg-type]
    app.router.add_get("/metrics", get_metrics)
