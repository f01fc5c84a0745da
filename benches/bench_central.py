"""Benchmark: the E-Flux central system against a bare `ocpp`-library central, same run.

    .venv/bin/python benches/bench_central.py            # 100, 500 and 1,000 charge points
    .venv/bin/python benches/bench_central.py --quick    # a smoke run, well under a minute

For every size and server, a fresh server process starts (its own event loop and CPU) and a
separate load process connects that many simulated OCPP 1.6 charge points. Each boots, starts
a transaction, then sends MeterValues (3-phase current, power, voltage, register, SoC) every
`--meter-interval` seconds and a Heartbeat every `--heartbeat-interval` seconds, spread evenly.
Printed per run: answers per second, p50/p99 answer latency (send -> answer at the charger),
and the server's CPU time per message; then a saturation phase where every charger sends
back-to-back shows capacity. Ratios are E-Flux / bare. Target: 1,000 charge points at 10-second
meter intervals with p99 < 50 ms on 2 cores.

The bare central is what the `ocpp` documentation shows: `@on` handlers returning fixed
`call_result`s, schema validation in its default thread, no storage. E-Flux commits every
answer to SQLite (WAL, synchronous=FULL) first and configures each charger after boot.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SERVERS = ("bare", "eflux")


# ---- the bare central system (documented minimal handlers) ----------------------------------
async def serve_bare(port: int) -> None:
    from ocpp.routing import on
    from ocpp.v16 import ChargePoint, call_result
    from websockets.asyncio.server import serve

    def now() -> str:
        return datetime.now(UTC).isoformat()

    class BareChargePoint(ChargePoint):  # type: ignore[misc]
        tx = 0

        @on("BootNotification")
        def on_boot(self, **_: Any) -> Any:
            return call_result.BootNotification(current_time=now(), interval=30, status="Accepted")

        @on("Heartbeat")
        def on_heartbeat(self) -> Any:
            return call_result.Heartbeat(current_time=now())

        @on("StatusNotification")
        def on_status(self, **_: Any) -> Any:
            return call_result.StatusNotification()

        @on("StartTransaction")
        def on_start(self, **_: Any) -> Any:
            BareChargePoint.tx += 1
            return call_result.StartTransaction(
                transaction_id=BareChargePoint.tx, id_tag_info={"status": "Accepted"}
            )

        @on("MeterValues")
        def on_meter_values(self, **_: Any) -> Any:
            return call_result.MeterValues()

    async def handler(connection: Any) -> None:
        charge_point = BareChargePoint(connection.request.path.strip("/"), connection)
        try:
            await charge_point.start()
        except Exception:  # a closed socket ends the charger's session
            return

    async with serve(handler, "127.0.0.1", port, subprotocols=["ocpp1.6"]) as server:  # type: ignore[list-item]
        print(f"ready port={next(iter(server.sockets)).getsockname()[1]}", flush=True)
        await asyncio.Event().wait()


# ---- the load: raw OCPP 1.6 clients, light enough to leave the server the measuring ---------
def meter_values(tx_id: int, register: float) -> dict[str, Any]:
    stamp = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    values = [
        {"value": f"{register:.1f}", "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
        {"value": "11040.0", "measurand": "Power.Active.Import", "unit": "W"},
        {"value": "80.0", "measurand": "SoC", "unit": "Percent", "location": "EV"},
    ]
    for phase in ("L1", "L2", "L3"):
        values.append({"value": "16.0", "measurand": "Current.Import", "phase": phase, "unit": "A"})
        values.append(
            {"value": "230.0", "measurand": "Voltage", "phase": f"{phase}-N", "unit": "V"}
        )
    return {
        "connectorId": 1,
        "transactionId": tx_id,
        "meterValue": [{"timestamp": stamp, "sampledValue": values}],
    }


# What a charger answers to the central system's configuration CALLs.
ANSWERS: dict[str, dict[str, Any]] = {
    "GetConfiguration": {"configurationKey": []},
    "ChangeConfiguration": {"status": "Accepted"},
    "GetLocalListVersion": {"listVersion": 0},
}


class LoadClient:
    """One charger's socket: answers the central system's CALLs at any time, times its own."""

    def __init__(self, connection: Any, name: str) -> None:
        self.connection = connection
        self.name = name
        self.counter = 0
        self.latencies: list[float] = []
        self.burst: list[float] = []
        self.pending: dict[str, asyncio.Future[Any]] = {}
        self.reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        async for raw in self.connection:
            frame = json.loads(raw)
            if frame[0] == 2:  # the central system configuring us
                answer = ANSWERS.get(frame[2])
                reply = (
                    [3, frame[1], answer]
                    if answer is not None
                    else [4, frame[1], "NotSupported", "", {}]
                )
                await self.connection.send(json.dumps(reply))
            elif (future := self.pending.pop(frame[1], None)) is not None:
                future.set_result(frame)

    async def call(
        self, action: str, payload: dict[str, Any], into: list[float] | None = None
    ) -> Any:
        self.counter += 1
        unique_id = f"{self.name}-{self.counter}"
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.pending[unique_id] = future
        sent = time.perf_counter()
        await self.connection.send(json.dumps([2, unique_id, action, payload]))
        frame = await future
        if into is not None:
            into.append(time.perf_counter() - sent)
        return frame[2] if frame[0] == 3 else None


async def run_load(args: argparse.Namespace) -> None:
    from websockets.asyncio.client import connect

    stop_paced = time.perf_counter() + 3600.0  # set for real once every charger is up
    clients: list[LoadClient] = []
    ready = asyncio.Event()
    phase: dict[str, float] = {"paced_end": stop_paced, "burst_end": stop_paced}
    finished: list[float] = []

    async def charger(index: int) -> None:
        name = f"BENCH{index:05}"
        async with connect(
            f"ws://127.0.0.1:{args.port}/{name}",
            subprotocols=["ocpp1.6"],  # type: ignore[list-item]
            ping_interval=None,
            open_timeout=60,
            max_queue=None,
        ) as connection:
            client = LoadClient(connection, name)
            await client.call(
                "BootNotification", {"chargePointVendor": "Bench", "chargePointModel": "Load"}
            )
            await client.call(
                "StatusNotification",
                {"connectorId": 1, "errorCode": "NoError", "status": "Preparing"},
            )
            started = await client.call(
                "StartTransaction",
                {
                    "connectorId": 1,
                    "idTag": "BENCHCARD",
                    "meterStart": 0,
                    "timestamp": datetime.now(UTC).isoformat(),
                },
            )
            tx_id = int(started["transactionId"])
            clients.append(client)
            await ready.wait()
            register, offset = 0.0, random.uniform(0, args.meter_interval)
            next_meter = time.perf_counter() + offset
            next_beat = time.perf_counter() + random.uniform(0, args.heartbeat_interval)
            while time.perf_counter() < phase["paced_end"]:
                due = min(next_meter, next_beat)
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
                if next_meter <= next_beat:
                    register += 30.0
                    await client.call(
                        "MeterValues", meter_values(tx_id, register), client.latencies
                    )
                    next_meter += args.meter_interval
                else:
                    await client.call("Heartbeat", {}, client.latencies)
                    next_beat += args.heartbeat_interval
            await asyncio.sleep(max(0.0, phase["burst_start"] - time.perf_counter()))
            while time.perf_counter() < phase["burst_end"]:
                register += 30.0
                await client.call("MeterValues", meter_values(tx_id, register), client.burst)
            finished.append(time.perf_counter())  # the last answer, after the phase ended
            client.reader.cancel()

    batch = 50  # do not flood the listen backlog
    tasks: list[asyncio.Task[None]] = []
    for start in range(0, args.count, batch):
        end = min(args.count, start + batch)
        tasks += [asyncio.create_task(charger(i)) for i in range(start, end)]
        while len(clients) < end and not any(t.done() for t in tasks):  # noqa: ASYNC110
            await asyncio.sleep(0.01)
    for task in tasks:
        if task.done() and task.exception():
            raise task.exception()  # type: ignore[misc]
    await asyncio.sleep(args.settle)  # let the central system finish configuring every charger
    begin = time.perf_counter()
    phase["paced_end"] = begin + args.duration
    phase["burst_start"] = phase["paced_end"] + args.meter_interval + 1.0  # paced ones finish
    phase["burst_end"] = phase["burst_start"] + args.burst
    print("connected", flush=True)
    ready.set()
    await asyncio.gather(*tasks)
    paced = [x for c in clients for x in c.latencies]
    burst = [x for c in clients for x in c.burst]
    burst_seconds = max(finished) - phase["burst_start"]  # in-flight answers count too
    print(
        json.dumps(
            {
                "paced": paced,
                "paced_seconds": args.duration,
                "burst": burst,
                "burst_seconds": burst_seconds,
            }
        ),
        flush=True,
    )


# ---- orchestration -------------------------------------------------------------------------
@dataclass
class Result:
    server: str
    count: int
    rate: float
    p50_ms: float
    p99_ms: float
    burst_rate: float
    burst_p99_ms: float
    cpu_ms_per_message: float


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def start_server(kind: str, workdir: Path) -> tuple[subprocess.Popen[str], int]:
    if kind == "bare":
        command = [sys.executable, __file__, "--serve-bare"]
    else:
        db = workdir / f"central-{time.monotonic_ns()}.sqlite"
        command = [
            sys.executable,
            "-m",
            "custom_components.eflux.core.central",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--db",
            str(db),
            "--accept-new",
            "--free-charging",
        ]
        if kind == "eflux-thread":
            command.append("--validate-in-thread")
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.startswith("ready port="):
        process.kill()
        raise RuntimeError(f"{kind} server did not start: {line!r}")
    return process, int(line.strip().split("=")[1])


def measure(kind: str, count: int, args: argparse.Namespace, workdir: Path) -> Result:
    server, port = start_server(kind, workdir)
    try:
        load = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--load",
                "--port",
                str(port),
                "--count",
                str(count),
                "--duration",
                str(args.duration),
                "--burst",
                str(args.burst),
                "--meter-interval",
                str(args.meter_interval),
                "--heartbeat-interval",
                str(args.heartbeat_interval),
                "--settle",
                str(args.settle),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert load.stdout is not None
        assert load.stdout.readline().strip() == "connected"
        cpu_before = cpu_seconds(server.pid)
        report = json.loads(load.stdout.readline())
        cpu_used = cpu_seconds(server.pid) - cpu_before
        load.wait(timeout=60)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    paced, burst = report["paced"], report["burst"]
    return Result(
        server=kind,
        count=count,
        rate=len(paced) / report["paced_seconds"],
        p50_ms=1000 * statistics.median(paced) if paced else float("nan"),
        p99_ms=1000 * percentile(paced, 0.99),
        burst_rate=len(burst) / report["burst_seconds"],
        burst_p99_ms=1000 * percentile(burst, 0.99),
        cpu_ms_per_message=1000 * cpu_used / max(1, len(paced) + len(burst)),
    )


def print_table(results: list[Result]) -> None:
    print(
        f"\n{'CPs':>5} {'server':<13} {'msg/s':>7} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'sat msg/s':>9} {'sat p99':>8} {'CPU ms/msg':>10}"
    )
    for r in results:
        print(
            f"{r.count:>5} {r.server:<13} {r.rate:>7.1f} {r.p50_ms:>7.2f} {r.p99_ms:>7.2f} "
            f"{r.burst_rate:>9.0f} {r.burst_p99_ms:>8.1f} {r.cpu_ms_per_message:>10.3f}"
        )
    print("\nratios E-Flux / bare (same size, same run):")
    for r in results:
        if r.server == "bare":
            continue
        bare = next((b for b in results if b.server == "bare" and b.count == r.count), None)
        if bare is None:
            continue
        print(
            f"{r.count:>5} {r.server:<13} p99 x{r.p99_ms / bare.p99_ms:.2f}  "
            f"capacity x{r.burst_rate / bare.burst_rate:.2f}  "
            f"CPU/msg x{r.cpu_ms_per_message / bare.cpu_ms_per_message:.2f}"
        )
    target = [r for r in results if r.server == "eflux" and r.count >= 1000]
    for r in target:
        verdict = "met" if r.p99_ms < 50 else "MISSED"
        print(f"\ntarget 1,000 CPs at 10 s, p99 < 50 ms: {verdict} (p99 {r.p99_ms:.1f} ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run (50 CPs, short phases)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 500, 1000])
    parser.add_argument(
        "--servers", nargs="+", default=list(SERVERS), choices=[*SERVERS, "eflux-thread"]
    )
    parser.add_argument("--duration", type=float, default=30.0, help="paced phase (s)")
    parser.add_argument("--burst", type=float, default=5.0, help="saturation phase (s)")
    parser.add_argument("--meter-interval", type=float, default=10.0)
    parser.add_argument("--heartbeat-interval", type=float, default=30.0)
    parser.add_argument("--settle", type=float, default=3.0, help="pause after connecting (s)")
    parser.add_argument("--serve-bare", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--load", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare:
        asyncio.run(serve_bare(args.port))
        return
    if args.load:
        asyncio.run(run_load(args))
        return
    if args.quick:
        args.sizes, args.duration, args.burst = [50], 4.0, 2.0
        args.meter_interval, args.heartbeat_interval, args.settle = 2.0, 5.0, 1.0
    print(
        f"cores: {os.cpu_count()}, meter interval {args.meter_interval:g} s, heartbeat "
        f"{args.heartbeat_interval:g} s, paced {args.duration:g} s, saturation {args.burst:g} s"
    )
    results = []
    with tempfile.TemporaryDirectory() as workdir:
        for count in args.sizes:
            for kind in args.servers:
                result = measure(kind, count, args, Path(workdir))
                results.append(result)
                print(
                    f"  {count} CPs on {kind}: {result.rate:.1f} msg/s, p99 {result.p99_ms:.2f} ms",
                    flush=True,
                )
    print_table(results)


if __name__ == "__main__":
    main()
