"""GET /metrics of eflux-local (issue 20.5), scraped and parsed with prometheus_client's own
parser, on a real site with a sim charger: chargers online, OCPP events, limit changes,
overloads and meter staleness move as the site does; two sites in one process keep their
numbers apart (a registry per app)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from custom_components.eflux.core.config import SiteConfig, parse_site_config
from custom_components.eflux.core.meters.reading import MeterReading
from sim.chargepoint import Car, SimChargePoint
from tests.central.support import FakeClock, eventually
from tests.controller.support import last_limit
from tests.runner.support import TOKEN, Api, serving

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(api: Api, token: str | None = TOKEN) -> tuple[int, Samples]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with api.http.get(api.base + "/metrics", headers=headers) as resp:
        text = await resp.text()
        if resp.status != 200:
            return resp.status, {}
        assert resp.headers["Content-Type"].startswith("text/plain; version=")
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return 200, samples


def config(tmp_path: Path, cp: str) -> SiteConfig:
    tmp_path.mkdir()
    return parse_site_config(
        {
            "central": {"host": "127.0.0.1", "port": 0, "free_charging": True},
            "site": {"tuning": {"ramp_step_a": "none", "hysteresis_a": 0}},
            "circuits": [{"id": "grid", "limit_a": 25}],
            "meters": [{"name": "p1", "circuit": "grid", "kind": "external", "timeout": 5}],
            "chargers": [{"id": "garage", "circuit": "grid", "charge_point": cp}],
            "api": {"host": "127.0.0.1", "token": TOKEN},
        },
        base_dir=tmp_path,
    )


def grid(clock: FakeClock, amps: float) -> MeterReading:
    return MeterReading("p1", clock.now, current_a=(amps,) * 3, power_w=(amps * 230,) * 3)


async def test_site_metrics_follow_the_site(tmp_path: Path, unused_port: Callable[[], int]) -> None:
    clock = FakeClock()
    async with (
        serving(config(tmp_path / "a", "MET-CP"), unused_port(), clock=clock) as api,
        serving(config(tmp_path / "b", "OTHER-CP"), unused_port(), clock=clock) as other,
    ):
        assert (await scrape(api, token=None))[0] == 401  # the API's token guards it too
        _, before = await scrape(api)
        assert before[("eflux_local_chargers", ())] == 1
        assert before[("eflux_local_chargers_online", ())] == 0

        sim = SimChargePoint(
            f"ws://127.0.0.1:{api.site.central.port}",
            "MET-CP",
            clock=clock,
            reconnect_delay=0.05,
            meter_interval=3600,
            car=Car(soc=40.0),
        )
        await sim.start()
        try:
            meter = api.site.external_meter("p1")
            meter.push(grid(clock, 3.0))
            await sim.plug_in("CARD")
            await eventually(lambda: last_limit(sim) == 16.0)
            await sim.sample_now()
            meter.push(grid(clock, 30.0))  # 14 A household + 16 A car on a 25 A fuse
            await eventually(lambda: (last_limit(sim) or 99) < 16.0)
            _, now = await scrape(api)
            assert now[("eflux_local_chargers_online", ())] == 1
            assert now[("eflux_local_ocpp_events_total", (("event", "ChargerBooted"),))] >= 1
            assert now[("eflux_local_ocpp_events_total", (("event", "TransactionStarted"),))] == 1
            limits = now[("eflux_local_decisions_total", (("kind", "limit"),))]
            assert limits >= 2  # 0 → 16 A, then lowered
            assert now[("eflux_local_decisions_total", (("kind", "overload"),))] >= 1
            p1 = (("circuit", "grid"), ("meter", "p1"))
            assert now[("eflux_local_meter_ok", p1)] == 1
            assert now[("eflux_local_meter_age_seconds", p1)] < 5

            def lost() -> int:
                return [d.kind.value for d in api.site.recent_decisions()].count("meter_lost")

            before_silence = lost()
            clock.advance(seconds=30)  # the meter falls silent past its 5 s timeout
            api.site.recompute()
            await eventually(lambda: lost() == before_silence + 1)
            _, silent = await scrape(api)
            assert silent[("eflux_local_meter_age_seconds", p1)] >= 30
            assert silent[("eflux_local_meter_ok", p1)] == 0
            assert silent[("eflux_local_meters_lost", ())] == 1
            assert silent[("eflux_local_decisions_total", (("kind", "meter_lost"),))] >= 1
        finally:
            await sim.close()
        # The other site in the same process saw none of it.
        _, apart = await scrape(other)
        assert (
            apart.get(("eflux_local_ocpp_events_total", (("event", "TransactionStarted"),)), 0) == 0
        )
        assert apart[("eflux_local_decisions_total", (("kind", "overload"),))] == 0
