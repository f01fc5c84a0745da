"""One scenario run in one process, on the same code paths as `eflux-local --time-scale N`:
the local site (`LocalSite`, real OCPP websockets, SQLite, the controller), the simulated
charge points and their cars, and the grid meter as an SDM630 over Modbus TCP, all on one
`ScaledClock`. A script plugs cars in and out and injects the faults at their times.

Every part runs in real time scaled by N: what takes the machine real milliseconds (a websocket
round trip, a database write) takes N times as long in simulated time, so a run on a busy machine
is judged as the site would be on a slower one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from custom_components.eflux.core.central import ChargerConnected, ChargerDisconnected
from custom_components.eflux.core.clock import Clock
from custom_components.eflux.core.config import parse_site_config
from custom_components.eflux.core.domain import DepartureRequest
from custom_components.eflux.core.meters import MeterReading, Quality
from custom_components.eflux.core.runtime import LocalSite
from sim.chargepoint import Car, SimChargePoint
from sim.demo.cars import holds_plug_in_default
from sim.demo.procs import free_port
from sim.modbus_meter import ModbusMeterSim

from .record import CarTrack, household_a
from .spec import ChargerSpec, Fault, Scenario

_LOGGER = logging.getLogger(__name__)
LOOPBACK = "127.0.0.1"
VOLTAGE_V = 230.0


class World:
    def __init__(self, scenario: Scenario, clock: Clock, workdir: Path) -> None:
        self.scenario = scenario
        self.clock = clock
        self.workdir = workdir
        self.meter = ModbusMeterSim(scenario.meter.profile)
        self.meter.on_request = self._measure
        self.site: LocalSite | None = None
        self.sims: dict[str, SimChargePoint] = {}
        self.tracks: dict[str, CarTrack] = {}
        self.start_wh: dict[str, float] = {}
        self.t0: datetime | None = None
        self.import_kwh = 0.0
        self._last_measure: float | None = None
        names = ("meter stale", "meter back", "charger offline", "charger back")
        self.seen: dict[str, list[float]] = {name: [] for name in names}
        self._tasks: list[asyncio.Task[Any]] = []

    # ---- time ---------------------------------------------------------------------------------
    def t(self) -> float:
        """Seconds of simulated time since the scenario started (negative while setting up)."""
        if self.t0 is None:
            return 0.0
        return (self.clock.now() - self.t0).total_seconds()

    async def until(self, offset: timedelta) -> None:
        await self.clock.sleep(offset.total_seconds() - self.t())

    # ---- setup --------------------------------------------------------------------------------
    async def start(self) -> None:
        central_port, modbus_port = free_port(), free_port()
        await self.meter.start_tcp(LOOPBACK, modbus_port)
        config = parse_site_config(
            self._site_yaml(central_port, modbus_port), base_dir=self.workdir
        )
        self.site = LocalSite(config, clock=self.clock)
        await self.site.start()
        _, source = self.site.meters["grid"]
        source.add_listener(self._on_meter)
        self.site.central.add_listener(self._on_central)
        url = f"ws://{LOOPBACK}:{central_port}"
        for spec in self.scenario.chargers:
            self.sims[spec.id] = self._sim(spec, url)
            self.tracks[spec.id] = CarTrack(spec.id, spec.circuit, spec.grid_phases())
        await asyncio.gather(*(sim.start(wait_s=120) for sim in self.sims.values()))
        await asyncio.gather(*(holds_plug_in_default(sim, 60) for sim in self.sims.values()))
        self.t0 = self.clock.now()
        for ident, sim in self.sims.items():
            self.start_wh[ident] = sim.register_wh
            sim.draw_listeners.append(self._on_draw)

    def _site_yaml(self, central_port: int, modbus_port: int) -> dict[str, Any]:
        s, m = self.scenario, self.scenario.meter
        return {
            "central": {"host": LOOPBACK, "port": central_port, "db_path": "central.sqlite",
                        "cards": [_card(c) for c in s.chargers], **s.site.get("central", {})},
            "site": s.site.get("site", {}),
            "controller": s.site.get("controller", {}),
            "circuits": s.site["circuits"],
            "meters": [{"name": "grid", "circuit": m.circuit, "kind": "modbus_tcp",
                        "host": LOOPBACK, "port": modbus_port, "profile": m.profile,
                        "poll_interval": m.poll_interval_s, "timeout": m.timeout_s,
                        "request_timeout": m.request_timeout_s}],
            "chargers": [{"id": c.id, "circuit": c.circuit, "charge_point": c.id,
                          "wiring": list(c.wiring), "max_current_a": c.max_current_a,
                          "battery_kwh": c.car.battery_kwh} for c in s.chargers],
            "api": {"enabled": False},
        }  # fmt: skip

    def _sim(self, spec: ChargerSpec, url: str) -> SimChargePoint:
        car = Car(battery_kwh=spec.car.battery_kwh, soc=spec.car.soc,
                  max_current_a=spec.car.max_current_a, phases=spec.phases)  # fmt: skip
        return SimChargePoint(
            url,
            spec.id,
            spec.ocpp,
            car,
            vendor="E-Flux",
            model=f"Scenario {spec.phases}-phase",
            max_current_a=spec.max_current_a,
            clock=self.clock,
            reconnect_delay=2.0,
            meter_interval=self._sample_interval(),
        )

    def _sample_interval(self) -> float | None:
        """The interval the site configures (a fixed one spares the sims' 1 s naps)."""
        raw = self.scenario.site.get("central", {}).get("meter_sample_interval_s")
        return None if raw is None else float(raw)

    # ---- the script ---------------------------------------------------------------------------
    async def run(self, duration: timedelta) -> None:
        """Play the scenario for `duration` of simulated time."""
        for spec in self.scenario.chargers:
            if spec.arrive < duration:
                self._spawn(self._car(spec))
        for fault in self.scenario.faults:
            if fault.at < duration:
                self._spawn(self._fault(fault))
        await self.until(duration)
        for task in self._tasks:
            if task.done() and task.exception() is not None:
                raise RuntimeError("a scenario step failed") from task.exception()

    def _spawn(self, work: Awaitable[None]) -> None:
        self._tasks.append(asyncio.ensure_future(work))

    async def _car(self, spec: ChargerSpec) -> None:
        sim, track = self.sims[spec.id], self.tracks[spec.id]
        await self.until(spec.arrive)
        arrived = self.t()
        track.plugged.append((arrived, float("inf")))
        await sim.plug_in(_card(spec))
        if spec.depart is None:
            return
        assert self.site is not None
        assert self.t0 is not None
        await self.site.set_departure(
            DepartureRequest(spec.id, self.t0 + spec.depart, soc_now=sim.car.soc,
                             target_soc=spec.car.target_soc, battery_kwh=spec.car.battery_kwh)
        )  # fmt: skip
        await self.until(spec.depart)
        sim.advance()
        track.ready = sim.car.soc >= spec.car.target_soc
        track.soc_at_end = sim.car.soc
        await sim.unplug()
        track.plugged[-1] = (arrived, self.t())

    async def _fault(self, fault: Fault) -> None:
        await self.until(fault.at)
        seconds = fault.length.total_seconds()
        if fault.kind == "meter_silent":
            self.meter.fault = "silent"
            await self.clock.sleep(seconds)
            self.meter.fault = None
            return
        assert fault.charger is not None
        sim = self.sims[fault.charger]
        if fault.kind == "charger_offline":
            normal, sim.reconnect_delay = sim.reconnect_delay, seconds
            await sim.drop_connection()
            await self.clock.sleep(seconds)
            sim.reconnect_delay = normal
            return
        sim.car.overdraw_a = fault.add_a
        sim.advance()
        await self.clock.sleep(seconds)
        sim.car.overdraw_a = 0.0
        sim.advance()

    # ---- the physics --------------------------------------------------------------------------
    def _on_draw(self, sim: SimChargePoint) -> None:
        track = self.tracks[sim.id]
        track.draws.append((self.t(), sim.amps))
        if sim.car.full and track.full_at is None:
            track.full_at = self.t()

    def _measure(self) -> None:
        """Before each Modbus request: what the grid meter measures at this very moment."""
        t = self.t()
        amps = list(household_a(self.scenario.household, t))
        for ident, sim in self.sims.items():
            sim.advance()  # the car charges up to now and follows its limit
            for phase in self.tracks[ident].grid_phases:
                amps[phase] += sim.amps
        power = [a * VOLTAGE_V for a in amps]
        if self._last_measure is not None and t > self._last_measure:
            self.import_kwh += sum(power) * (t - self._last_measure) / 3_600_000
        self._last_measure = t
        self.meter.set_values({
            "voltage_l1": VOLTAGE_V, "voltage_l2": VOLTAGE_V, "voltage_l3": VOLTAGE_V,
            "current_l1": amps[0], "current_l2": amps[1], "current_l3": amps[2],
            "power_l1": power[0], "power_l2": power[1], "power_l3": power[2],
            "total_power": sum(power), "import_energy": self.import_kwh, "export_energy": 0.0,
        })  # fmt: skip

    def _on_meter(self, reading: MeterReading) -> None:
        stale = reading.quality is Quality.STALE
        seen = self.seen["meter stale" if stale else "meter back"]
        if stale or (self.seen["meter stale"] and len(seen) < len(self.seen["meter stale"])):
            seen.append(self.t())

    def _on_central(self, event: object) -> None:
        if isinstance(event, ChargerDisconnected):
            self.seen["charger offline"].append(self.t())
        elif isinstance(event, ChargerConnected) and self.t0 is not None:
            self.seen["charger back"].append(self.t())

    # ---- the end ------------------------------------------------------------------------------
    def finish(self, until_s: float) -> list[CarTrack]:
        for ident, sim in self.sims.items():
            sim.advance()
            track = self.tracks[ident]
            track.energy_kwh = (sim.register_wh - self.start_wh[ident]) / 1000
            if track.ready is None:
                track.soc_at_end = sim.car.soc
            track.plugged = [(a, min(b, until_s)) for a, b in track.plugged]
        return list(self.tracks.values())

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for sim in self.sims.values():
            with contextlib.suppress(Exception):
                await sim.close()
        if self.site is not None:
            await self.site.stop()
        await self.meter.stop()


def _card(spec: ChargerSpec) -> str:
    return f"CARD-{spec.id.upper()}"


async def loop_lag(every_s: float, worst: list[float]) -> None:
    """Record the worst lateness of the event loop in real seconds (how busy the run was)."""
    loop = asyncio.get_running_loop()
    while True:
        before = loop.time()
        await asyncio.sleep(every_s)
        worst[0] = max(worst[0], loop.time() - before - every_s)
