"""The two kinds of process `bench_central.py` starts besides the E-Flux central system: the
bare `ocpp`-library central it is compared with, and the load (raw OCPP 1.6 charge points).

    python benches/central_processes.py --serve-bare
    python benches/central_processes.py --load --port P --count N --duration S --burst S \
        --meter-interval S --heartbeat-interval S --settle S
    python benches/central_processes.py --flood --port P --duration S   # one flooding charger
    python benches/central_processes.py --quiet --port P --duration S   # a quiet one, timed
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
from datetime import UTC, datetime
from typing import Any


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


# ---- one charger flooding, one quiet charger timing its Heartbeats (bench_flood.py) --------
async def flood(args: argparse.Namespace) -> None:
    """Heartbeats back to back without waiting for answers (answers are read and dropped)."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    async with connect(
        f"ws://127.0.0.1:{args.port}/FLOODER",
        subprotocols=["ocpp1.6"],  # type: ignore[list-item]
        ping_interval=None,
        max_queue=None,
    ) as connection:

        async def drain() -> None:
            async for _ in connection:
                counts["answers"] += 1

        counts = {"sent": 0, "answers": 0}
        reader = asyncio.get_running_loop().create_task(drain())
        print("flooding", flush=True)
        end = time.perf_counter() + args.duration
        try:
            while time.perf_counter() < end:
                await connection.send(f'[2,"h{counts["sent"]}","Heartbeat",{{}}]')
                counts["sent"] += 1
                if counts["sent"] % 100 == 0:
                    await asyncio.sleep(0)  # let the reader drain answers
        except ConnectionClosed:
            pass
        reader.cancel()
        print(json.dumps(counts), flush=True)


async def quiet(args: argparse.Namespace) -> None:
    """One Heartbeat every 20 ms, each timed from send to answer."""
    from websockets.asyncio.client import connect

    async with connect(
        f"ws://127.0.0.1:{args.port}/QUIET",
        subprotocols=["ocpp1.6"],  # type: ignore[list-item]
        ping_interval=None,
    ) as connection:
        client = LoadClient(connection, "QUIET")
        await client.call("BootNotification", {"chargePointVendor": "B", "chargePointModel": "Q"})
        await asyncio.sleep(args.settle)
        end = time.perf_counter() + args.duration
        while time.perf_counter() < end:
            await client.call("Heartbeat", {}, client.latencies)
            await asyncio.sleep(0.02)
        client.reader.cancel()
        print(json.dumps({"latencies": client.latencies}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--serve-bare", action="store_true")
    parser.add_argument("--load", action="store_true")
    parser.add_argument("--flood", action="store_true")
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--count", type=int, default=0)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--burst", type=float, default=5.0)
    parser.add_argument("--meter-interval", type=float, default=10.0)
    parser.add_argument("--heartbeat-interval", type=float, default=30.0)
    parser.add_argument("--settle", type=float, default=3.0)
    args = parser.parse_args()
    if args.serve_bare:
        asyncio.run(serve_bare(args.port))
    elif args.load:
        asyncio.run(run_load(args))
    elif args.flood:
        asyncio.run(flood(args))
    elif args.quiet:
        asyncio.run(quiet(args))
    else:
        parser.error("--serve-bare, --load, --flood or --quiet")


if __name__ == "__main__":
    main()
