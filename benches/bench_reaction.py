"""Reaction time: a grid-meter message on a real MQTT broker → SetChargingProfile received by
each of 100 simulated chargers (target p99 < 250 ms).

Everything is real: Mosquitto, the meter's MQTT source (a Shelly Pro 3EM profile), the
controller, the OCPP central system and 100 simulated chargers on their own websockets, each
with a car charging. Every step moves the household load so that every charger's share changes;
the time from publishing the message to each charger receiving its new profile is one sample.

The same pipeline is then driven the way interval-based controllers work: the meter's latest
value is read by a fixed 1-second polling cycle (instead of each message waking the controller).
Both are measured in the same run, on the same broker, central system and chargers.

    .venv/bin/python benches/bench_reaction.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import math
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import paho.mqtt.client as mqtt

from custom_components.eflux.core.balancing import Charger, Circuit, Site, Tuning, per_phase
from custom_components.eflux.core.central import (
    AuthorizationSettings,
    CentralConfig,
    CentralSystem,
)
from custom_components.eflux.core.config import ControllerSettings
from custom_components.eflux.core.loadcontrol.controller import Controller
from custom_components.eflux.core.loadcontrol.meter_feed import reading_amps
from custom_components.eflux.core.meters.build import build_source
from custom_components.eflux.core.meters.config import parse_meter_config
from custom_components.eflux.core.meters.reading import MeterReading
from sim.chargepoint import Car, SimChargePoint
from tests.support.mosquitto import MosquittoBroker, broker_or_reason

TOPIC = "bench/grid"
# Increases are allowed at once here: the bench measures reaction, not calm.
SNAPPY = Tuning(hysteresis_a=0.0, min_change_interval=Tuning().min_change_interval * 0,
                ramp_step_a=None)  # fmt: skip


class Arrivals(list[tuple[str, dict[str, Any]]]):
    """A sim's `received` list that also notes when each SetChargingProfile arrived."""

    def __init__(self, on_profile: Callable[[float], None]) -> None:
        super().__init__()
        self._on_profile = on_profile

    def append(self, item: tuple[str, dict[str, Any]]) -> None:
        super().append(item)
        if item[0] == "SetChargingProfile":
            self._on_profile(time.perf_counter())


class Rig:
    def __init__(self, n: int, broker: MosquittoBroker, workdir: Path) -> None:
        self.n = n
        self.broker = broker
        fuse = 10.0 * n + 400.0
        self.site = Site(
            # The meter measures the household only (a sub-meter): every step then moves every
            # charger's share by the same, known amount.
            circuits=(
                Circuit("grid", per_phase(fuse), metered=True, meter_includes_chargers=False),
            ),
            chargers=tuple(Charger(f"B{i:03d}", "grid", max_current_a=32.0) for i in range(n)),
            tuning=SNAPPY,
        )
        self.central = CentralSystem(
            CentralConfig(
                host="127.0.0.1", port=0, accept_new_chargers=True,
                db_path=workdir / "central.sqlite", call_timeout=10.0,
                authorization=AuthorizationSettings(free_charging=True),
            )
        )  # fmt: skip
        meter_config = parse_meter_config(
            {
                "name": "grid", "kind": "mqtt", "profile": "shelly_pro_3em", "topic": TOPIC,
                "timeout": 30, "broker": {"host": broker.host, "port": broker.port},
            },
            where="bench",
        )  # fmt: skip
        self.meter = build_source(meter_config, fuse_a=fuse)
        self.controller = Controller(
            self.central, self.site, settings=ControllerSettings(), meter_timeouts={"grid": 30}
        )
        self.sims: list[SimChargePoint] = []
        self.arrived: dict[str, float] = {}
        self.all_arrived = asyncio.Event()
        self.steps = 0
        self.publisher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)

    async def start(self) -> None:
        await self.central.start()
        await self.controller.start()
        await self.meter.start()
        url = f"ws://127.0.0.1:{self.central.port}"
        for i in range(self.n):
            sim = SimChargePoint(url, f"B{i:03d}", car=Car(max_current_a=32.0), meter_interval=3600)
            sim.received = Arrivals(lambda at, ident=sim.id: self._arrived(ident, at))
            self.sims.append(sim)
        await asyncio.gather(*(sim.start(30) for sim in self.sims))
        await asyncio.gather(*(sim.plug_in("BENCH") for sim in self.sims))
        self.publisher.connect(self.broker.host, self.broker.port)
        self.publisher.loop_start()
        for _ in range(100):  # until the meter's subscription is up
            self.publish(200.0)
            await asyncio.sleep(0.1)
            if self.meter.latest is not None:
                break
        await asyncio.sleep(1.0)  # every session has its first limits

    def _arrived(self, ident: str, at: float) -> None:
        self.arrived.setdefault(ident, at)
        if len(self.arrived) == self.n:
            self.all_arrived.set()

    async def stop(self) -> None:
        self.publisher.loop_stop()
        self.publisher.disconnect()
        await asyncio.gather(*(sim.close() for sim in self.sims))
        await self.meter.stop()
        await self.controller.stop()
        await self.central.stop()

    def publish(self, household: float) -> None:
        amps = household
        status = {f"{p}_{k}": v for p in "abc" for k, v in
                  (("current", amps), ("act_power", amps * 230), ("voltage", 230.0))}  # fmt: skip
        status["total_act_power"] = 3 * amps * 230
        self.publisher.publish(f"{TOPIC}/status/em:0", json.dumps(status), qos=0)

    async def step(self, household: float, wait_s: float) -> list[float]:
        """Publish a reading that changes every charger's share; the latency of each."""
        self.arrived.clear()
        self.all_arrived.clear()
        sent_at = time.perf_counter()
        self.publish(household)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.all_arrived.wait(), wait_s)
        if len(self.arrived) < self.n:
            raise RuntimeError(f"only {len(self.arrived)} of {self.n} chargers got a profile")
        for sim in self.sims:
            sim.advance()  # the cars follow their new limits before the next reading
        return [(at - sent_at) * 1000.0 for at in self.arrived.values()]


async def measure(rig: Rig, steps: int, poll: bool) -> list[float]:
    samples: list[float] = []
    loads = [100.0, 300.0]
    remove: Callable[[], None] | None = None
    poller: asyncio.Task[None] | None = None
    if poll:
        poller = asyncio.create_task(poll_every_second(rig))
    else:
        remove = rig.meter.add_listener(
            lambda r: rig.controller.meter_reading("grid", reading_amps(r))
        )
    try:
        for k in range(steps):
            rig.steps += 1
            samples += await rig.step(loads[rig.steps % 2], wait_s=30.0)
            # Let the pipeline go quiet, and vary where a message falls in the polling cycle.
            await asyncio.sleep(0.3 + 0.37 * (k % 3))
    finally:
        if remove is not None:
            remove()
        if poller is not None:
            poller.cancel()
            await asyncio.gather(poller, return_exceptions=True)
    return samples


async def poll_every_second(rig: Rig) -> None:
    """The interval-based way: read the meter's latest value once a second, then balance."""
    while True:
        await asyncio.sleep(1.0)
        latest: MeterReading | None = rig.meter.latest
        if latest is not None:
            rig.controller.meter_reading("grid", reading_amps(latest))


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[
        min(len(ordered) - 1, math.ceil(0.99 * len(ordered)) - 1)
    ]


async def bench(n: int, steps: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        broker = broker_or_reason(Path(tmp))
        if isinstance(broker, str):
            raise SystemExit(f"no MQTT broker: {broker}")
        rig = Rig(n, broker, Path(tmp))
        try:
            await rig.start()
            events = await measure(rig, 1, poll=False)  # warm-up: every session's first limits
            events = await measure(rig, steps, poll=False)
            polled = await measure(rig, steps, poll=True)
        finally:
            await rig.stop()
            broker.stop()
    e50, e99 = percentiles(events)
    p50, p99 = percentiles(polled)
    print(f"{n} chargers, {steps} meter messages per pipeline, {len(events)} samples each")
    print(f"{'pipeline':<22} {'p50 ms':>9} {'p99 ms':>9}")
    print(f"{'event-driven (ours)':<22} {e50:>9.1f} {e99:>9.1f}")
    print(f"{'1 s polling cycle':<22} {p50:>9.1f} {p99:>9.1f}")
    print(f"ratio (polling / ours): p50 {p50 / e50:.1f}x, p99 {p99 / e99:.1f}x")
    print(f"target: p99 < 250 ms -> {'met' if e99 < 250 else 'NOT met'}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 20 chargers, 3 steps")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    asyncio.run(bench(20, 3) if args.quick else bench(100, 20))


if __name__ == "__main__":
    main()
