"""End to end: simulated chargers (real OCPP over websockets) and a real MQTT grid meter.

A Shelly Pro 3EM is played by publishing its status JSON to a real Mosquitto broker; the site
runs exactly as `eflux-local` runs it (LocalSite from a parsed site.yaml). Time is a fake clock
shared by every part, so "silent for longer than the timeout" needs no waiting.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import paho.mqtt.publish as mqtt_publish
import pytest
import pytest_asyncio

from custom_components.eflux.core.config import parse_site_config
from custom_components.eflux.core.runtime import LocalSite
from sim.chargepoint import Car, SimChargePoint
from tests.central.support import FakeClock, eventually
from tests.controller.support import last_limit
from tests.support.mosquitto import MosquittoBroker

pytestmark = pytest.mark.mosquitto
TOPIC = "e2e/shelly-grid"


class Grid:
    """The house's meter (the chargers have their own supply behind it: the site says
    `meter_includes_chargers: false`), signed amps per phase."""

    def __init__(self, broker: MosquittoBroker, site: LocalSite) -> None:
        self.broker, self.site = broker, site
        self.sims: list[SimChargePoint] = []

    async def publish(self, amps: tuple[float, float, float]) -> None:
        status: dict[str, Any] = {"total_act_power": sum(a * 230 for a in amps)}
        for phase, value in zip("abc", amps, strict=True):
            status[f"{phase}_current"] = abs(value)
            status[f"{phase}_act_power"] = value * 230
            status[f"{phase}_voltage"] = 230.0
        await asyncio.to_thread(
            mqtt_publish.single,
            f"{TOPIC}/status/em:0",
            json.dumps(status),
            hostname=self.broker.host,
            port=self.broker.port,
        )

    async def publish_until_seen(self, household: tuple[float, float, float]) -> None:
        """Publish until the site has this reading (the subscription may still be coming up)."""
        target = household
        for _ in range(50):
            await self.publish(household)
            try:
                await eventually(lambda: self._grid() == target, 0.2)
                return
            except AssertionError:
                continue
        raise AssertionError(f"the site never saw {target}, only {self._grid()}")

    async def wait(self, clock: FakeClock, seconds: int, amps: tuple[float, float, float]) -> None:
        """Let `seconds` pass on the fake clock with a reading every second (a live meter)."""
        _, source = self.site.meters["shelly"]
        for _ in range(seconds):
            clock.advance(seconds=1)
            await self.publish(amps)
            await eventually(lambda: (r := source.latest) is not None and r.timestamp >= clock.now)

    def _grid(self) -> tuple[float | None, ...]:
        return tuple(
            round(v, 3) if v is not None else None for v in self.site.state().grid_current_a
        )


@pytest_asyncio.fixture
async def site(
    tmp_path: Path, mqtt_broker: MosquittoBroker
) -> AsyncIterator[tuple[LocalSite, FakeClock]]:
    clock = FakeClock()
    config = parse_site_config(
        {
            "central": {"host": "127.0.0.1", "port": 0, "free_charging": True},
            "site": {"tuning": {"ramp_step_a": "none", "hysteresis_a": 0, "start_delay_s": 10}},
            "circuits": [{"id": "grid", "limit_a": 25, "meter_includes_chargers": False}],
            "meters": [
                {
                    "name": "shelly",
                    "circuit": "grid",
                    "kind": "mqtt",
                    "profile": "shelly_pro_3em",
                    "topic": TOPIC,
                    "timeout": 2,
                    "broker": {"host": mqtt_broker.host, "port": mqtt_broker.port},
                }
            ],
            "chargers": [
                {"id": "E2E-A", "circuit": "grid"},
                {"id": "E2E-B", "circuit": "grid"},
                {"id": "E2E-PV", "circuit": "grid", "mode": "pv"},
            ],
            "api": {"enabled": False},
        },
        base_dir=tmp_path,
    )
    local = LocalSite(config, clock=clock)
    await local.start()
    try:
        yield local, clock
    finally:
        await local.stop()


@pytest_asyncio.fixture
async def grid(
    site: tuple[LocalSite, FakeClock], mqtt_broker: MosquittoBroker
) -> AsyncIterator[Grid]:
    local, clock = site
    meter = Grid(mqtt_broker, local)
    for ident in ("E2E-A", "E2E-B", "E2E-PV"):
        sim = SimChargePoint(
            f"ws://127.0.0.1:{local.central.port}",
            ident,
            clock=clock,
            reconnect_delay=0.05,
            meter_interval=3600,
            car=Car(max_current_a=32.0),
        )
        await sim.start()
        meter.sims.append(sim)
    yield meter
    for sim in meter.sims:
        await sim.close()


def accepted(site: LocalSite, ident: str) -> float | None:
    return site.state().chargers[ident].limit_sent_a


async def charging(grid: Grid, sims: list[SimChargePoint], amps: float) -> None:
    """Wait until every sim accepted `amps`, then let the cars draw it (their MeterValues)."""
    for sim in sims:
        await eventually(lambda s=sim: accepted(grid.site, s.id) == amps)
    for sim in sims:
        await sim.sample_now()
        assert sim.amps == amps


async def test_overload_then_silent_meter_then_recovery(
    site: tuple[LocalSite, FakeClock], grid: Grid
) -> None:
    local, clock = site
    a, b, _ = grid.sims
    await grid.publish_until_seen((2.0, 2.0, 2.0))
    await a.plug_in("CARD")
    await b.plug_in("CARD")
    await charging(grid, [a, b], 11.5)  # (25 - 2) / 2
    # The household load jumps to 12 A: with both cars that is 35 A on a 25 A fuse.
    await grid.publish((12.0, 12.0, 12.0))
    await eventually(lambda: accepted(local, "E2E-A") == accepted(local, "E2E-B") == 6.5)
    assert last_limit(a) == last_limit(b) == 6.5
    await charging(grid, [a, b], 6.5)
    # The load goes away; after the minimum interval the chargers go back up.
    await grid.wait(clock, 31, (2.0, 2.0, 2.0))
    await charging(grid, [a, b], 11.5)
    # The meter goes silent: after its 2 s timeout every charger falls back to its safe 6 A
    # (the budget is also capped by the highest household of the last 15 min, 12 A: 25 - 12
    # leaves 6.5 A each, so the safe 6 A holds). The pass that lowers them finds the limits in
    # force (2 x 11.5 A + 12 A) above the fuse, so it reports the overload it corrected.
    clock.advance(seconds=2.5)
    await eventually(lambda: accepted(local, "E2E-A") == accepted(local, "E2E-B") == 6.0)
    snapshot = local.state()
    assert snapshot.balancer_status in {"meter_lost", "overload"}
    assert snapshot.meters[0].quality == "stale"
    assert "meter_lost" in [d.kind.value for d in local.recent_decisions()]
    # It speaks again: the chargers recover by themselves (after the minimum interval).
    clock.advance(seconds=31)
    await grid.publish_until_seen((2.0, 2.0, 2.0))
    await eventually(lambda: accepted(local, "E2E-A") == accepted(local, "E2E-B") == 11.5)
    assert local.state().balancer_status == "ok"


async def test_pv_export_starts_the_pv_car(site: tuple[LocalSite, FakeClock], grid: Grid) -> None:
    local, clock = site
    pv = grid.sims[2]
    await grid.publish_until_seen((1.0, 1.0, 1.0))
    await pv.plug_in("CARD")
    await eventually(lambda: accepted(local, "E2E-PV") == 0.0)  # no surplus: paused
    assert local.state().chargers["E2E-PV"].balancer_status == "paused"
    # The sun comes out: 10 A exported per phase (30 A, 6.9 kW) for longer than the start delay.
    await grid.publish_until_seen((-10.0, -10.0, -10.0))
    await grid.wait(clock, 11, (-10.0, -10.0, -10.0))
    await eventually(lambda: (accepted(local, "E2E-PV") or 0.0) >= 6.0)
    state = local.state().chargers["E2E-PV"]
    assert state.balancer_status == "charging"
    assert state.limit_a == 10.0  # the export, summed over the phases, shared by its 3 phases
