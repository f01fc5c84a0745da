"""Benchmark: the E-Flux central system against a bare `ocpp`-library central, same run.

    .venv/bin/python benches/bench_central.py            # 100, 500 and 1,000 charge points
    .venv/bin/python benches/bench_central.py --quick    # a smoke run, well under a minute
    .venv/bin/python benches/bench_central.py --baseline-tree /tmp/old --rounds 3
        # also E-Flux from another checkout (e.g. `git archive OLD custom_components sim`),
        # alternated with this tree's and the bare one in every round: before/after in one run

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
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVERS = ("bare", "eflux")
PROCESSES = Path(__file__).resolve().parent / "central_processes.py"  # bare server and load


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


def start_server(
    kind: str, workdir: Path, extra: list[str] | None = None, baseline: Path | None = None
) -> tuple[subprocess.Popen[str], int]:
    if kind == "bare":
        command = [sys.executable, str(PROCESSES), "--serve-bare"]
    else:
        db = workdir / f"central-{time.monotonic_ns()}.sqlite"
        command = [
            sys.executable,
            "-m",
            "sim.central_process",
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
        command += extra or []
    cwd = baseline if kind == "eflux-base" and baseline is not None else ROOT
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.startswith("ready port="):
        process.kill()
        raise RuntimeError(f"{kind} server did not start: {line!r}")
    return process, int(line.strip().split("=")[1])


def measure(kind: str, count: int, args: argparse.Namespace, workdir: Path) -> Result:
    server, port = start_server(kind, workdir, baseline=args.baseline_tree)
    try:
        load = subprocess.Popen(
            [
                sys.executable,
                str(PROCESSES),
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


def medians(results: list[Result]) -> list[Result]:
    """One row per (size, server): the median of each figure over the rounds."""
    keys = list(dict.fromkeys((r.count, r.server) for r in results))
    rows = []
    for count, server in keys:
        runs = [r for r in results if (r.count, r.server) == (count, server)]
        figures = {
            name: statistics.median(getattr(r, name) for r in runs)
            for name in ("rate", "p50_ms", "p99_ms", "burst_rate", "burst_p99_ms")
        }
        cpu = statistics.median(r.cpu_ms_per_message for r in runs)
        rows.append(Result(server, count, cpu_ms_per_message=cpu, **figures))
    return rows


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
        "--servers",
        nargs="+",
        default=list(SERVERS),
        choices=[*SERVERS, "eflux-thread", "eflux-base"],
    )
    parser.add_argument("--duration", type=float, default=30.0, help="paced phase (s)")
    parser.add_argument("--burst", type=float, default=5.0, help="saturation phase (s)")
    parser.add_argument("--meter-interval", type=float, default=10.0)
    parser.add_argument("--heartbeat-interval", type=float, default=30.0)
    parser.add_argument("--settle", type=float, default=3.0, help="pause after connecting (s)")
    parser.add_argument(
        "--rounds", type=int, default=1, help="repeat every size/server; medians are printed"
    )
    parser.add_argument(
        "--baseline-tree",
        type=Path,
        help="a checkout holding custom_components/ and sim/ of an older E-Flux: adds the "
        "server eflux-base from it to every round",
    )
    args = parser.parse_args()
    if args.baseline_tree is not None and "eflux-base" not in args.servers:
        args.servers.append("eflux-base")
    if args.quick:
        args.sizes, args.duration, args.burst = [50], 4.0, 2.0
        args.meter_interval, args.heartbeat_interval, args.settle = 2.0, 5.0, 1.0
    print(
        f"cores: {os.cpu_count()}, meter interval {args.meter_interval:g} s, heartbeat "
        f"{args.heartbeat_interval:g} s, paced {args.duration:g} s, saturation {args.burst:g} s"
    )
    results = []
    with tempfile.TemporaryDirectory() as workdir:
        for round_ in range(args.rounds):
            for count in args.sizes:
                # Alternate the order each round: neither server always runs first.
                kinds = args.servers if round_ % 2 == 0 else args.servers[::-1]
                for kind in kinds:
                    result = measure(kind, count, args, Path(workdir))
                    results.append(result)
                    print(
                        f"  round {round_ + 1}: {count} CPs on {kind}: {result.rate:.1f} msg/s,"
                        f" p99 {result.p99_ms:.2f} ms, saturation {result.burst_rate:.0f} msg/s",
                        flush=True,
                    )
    if args.rounds > 1:
        print(f"\nmedians of {args.rounds} rounds:")
    print_table(medians(results))


if __name__ == "__main__":
    main()
