"""The decision log (issue 15 item 6): every limit change with its reason, overloads, meter
losses and recoveries, at INFO and from `GET /api/decisions`, on a real site with a sim charger.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import pytest_asyncio

from custom_components.eflux.core.config import parse_site_config
from custom_components.eflux.core.meters.reading import MeterReading
from sim.chargepoint import Car, SimChargePoint
from tests.central.support import FakeClock, eventually
from tests.controller.support import last_limit
from tests.runner.support import TOKEN, Api, serving

LOGGER = "custom_components.eflux.core.decisions"


@pytest_asyncio.fixture
async def api(
    tmp_path: Path, unused_port: Callable[[], int]
) -> AsyncIterator[tuple[Api, FakeClock]]:
    clock = FakeClock()
    config = parse_site_config(
        {
            "central": {"host": "127.0.0.1", "port": 0, "free_charging": True},
            "site": {"tuning": {"ramp_step_a": "none", "hysteresis_a": 0}},
            "circuits": [{"id": "grid", "limit_a": 25}],
            "meters": [{"name": "p1", "circuit": "grid", "kind": "external", "timeout": 5}],
            "chargers": [{"id": "garage", "circuit": "grid", "charge_point": "DEC-CP"}],
            "api": {"host": "127.0.0.1", "token": TOKEN},
        },
        base_dir=tmp_path,
    )
    async with serving(config, unused_port(), clock=clock) as served:
        yield served, clock


def grid(clock: FakeClock, amps: float) -> MeterReading:
    return MeterReading("p1", clock.now, current_a=(amps,) * 3, power_w=(amps * 230,) * 3)


async def decisions(api: Api, query: str = "") -> list[dict[str, object]]:
    status, body = await api.call("GET", f"/api/decisions{query}")
    assert status == 200
    return list(body["decisions"])


async def test_limits_overloads_and_meter_loss_are_logged_with_their_reasons(
    api: tuple[Api, FakeClock], caplog: pytest.LogCaptureFixture
) -> None:
    client, clock = api
    caplog.set_level(logging.INFO, logger=LOGGER)
    sim = SimChargePoint(
        f"ws://127.0.0.1:{client.site.central.port}",
        "DEC-CP",
        clock=clock,
        reconnect_delay=0.05,
        meter_interval=3600,
        car=Car(soc=40.0),
    )
    await sim.start()
    try:
        meter = client.site.external_meter("p1")
        meter.push(grid(clock, 3.0))
        await sim.plug_in("CARD")
        await eventually(lambda: last_limit(sim) == 16.0)

        first = [d for d in await decisions(client) if d["kind"] == "limit"]
        assert first, "the car's first limit is a decision"
        assert (first[-1]["charger"], first[-1]["from_a"], first[-1]["to_a"]) == (
            "garage",
            0.0,
            16.0,
        )
        assert first[-1]["reason"] == "max_current"
        assert "garage: 0.0 → 16.0 A" in str(first[-1]["text"])
        # The controller's listeners run again after the limit is sent: still one decision.
        assert [(d["from_a"], d["to_a"]) for d in first].count((0.0, 16.0)) == 1

        # The household jumps: 14 A of household + 16 A of car on a 25 A fuse.
        await sim.sample_now()
        meter.push(grid(clock, 30.0))
        await eventually(lambda: (last_limit(sim) or 99) < 16.0)
        kinds = [d["kind"] for d in await decisions(client)]
        assert "overload" in kinds
        lowered = [d for d in await decisions(client) if d["kind"] == "limit"][-1]
        assert lowered["from_a"] == 16.0
        assert float(str(lowered["to_a"])) < 16.0
        assert lowered["reason"] in {"limited_by_circuit", "paused_no_capacity"}
        assert "grid" in str(lowered["text"])

        # The meter falls silent past its 5 s timeout, then answers again (the site starts
        # with no reading yet: that was the first loss and recovery).
        def count(kind: str) -> int:
            return [d.kind.value for d in client.site.recent_decisions()].count(kind)

        lost, recovered = count("meter_lost"), count("meter_recovered")
        clock.advance(seconds=30)
        client.site.recompute()
        await eventually(lambda: count("meter_lost") == lost + 1)
        meter.push(grid(clock, 10.0))
        await eventually(lambda: count("meter_recovered") == recovered + 1)
    finally:
        await sim.close()

    logged = [r.getMessage() for r in caplog.records if r.name == LOGGER]
    assert any(m.startswith("decision limit: garage: 0.0 → 16.0 A") for m in logged)
    assert any(m.startswith("decision meter_lost") for m in logged)
    assert all(r.levelno == logging.INFO for r in caplog.records if r.name == LOGGER)
    # Newest last; a limit keeps the newest.
    everything = await decisions(client)
    assert await decisions(client, "?limit=2") == everything[-2:]


@pytest.mark.parametrize("bad", ["-1", "²", "1e3", "x", "9999999"])
async def test_a_bad_limit_is_a_400(api: tuple[Api, FakeClock], bad: str) -> None:
    client, _ = api
    status, body = await client.call("GET", f"/api/decisions?limit={bad}")
    assert status == 400
    assert body["error"] == "bad_request"
