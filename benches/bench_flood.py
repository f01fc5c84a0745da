"""Benchmark: a quiet charger's Heartbeat round trip while another charger floods.

    .venv/bin/python benches/bench_flood.py            # 10 s per run
    .venv/bin/python benches/bench_flood.py --quick    # 3 s per run

Each run starts a fresh server process; a quiet charger (its own process) sends a Heartbeat
every 20 ms and times each answer, while a flooding charger (another process) sends Heartbeats
back to back without waiting for answers. Runs, all in this one invocation:
- E-Flux, no flood (the baseline the others are compared with);
- E-Flux, flood, default rate limit (50 CALLs/s after a burst of 500, beyond: an error);
- E-Flux, flood, rate limit off (fairness from handling one message per turn alone);
- the bare `ocpp` library central, no flood and flood (what the library alone does).
Target: the quiet charger's p99 under 50 ms while the other floods.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_central import PROCESSES, ROOT, percentile, start_server


def run(kind: str, flood: bool, rate: float | None, seconds: float, workdir: Path) -> dict:
    server, port = start_server(
        kind, workdir, ["--rate-limit", str(rate)] if rate is not None else []
    )
    flooder = None
    try:
        if flood:
            flooder = subprocess.Popen(
                [sys.executable, str(PROCESSES), "--flood", "--port", str(port),
                 "--duration", str(seconds + 2.0)],
                cwd=ROOT, stdout=subprocess.PIPE, text=True,
            )  # fmt: skip
            assert flooder.stdout is not None
            assert flooder.stdout.readline().strip() == "flooding"
        quiet = subprocess.run(
            [sys.executable, str(PROCESSES), "--quiet", "--port", str(port),
             "--duration", str(seconds), "--settle", "0.5"],
            cwd=ROOT, capture_output=True, text=True, check=True, timeout=seconds + 120,
        )  # fmt: skip
        latencies = json.loads(quiet.stdout.strip().splitlines()[-1])["latencies"]
        counts = {"sent": 0, "answers": 0}
        if flooder is not None:
            assert flooder.stdout is not None
            counts = json.loads(flooder.stdout.readline())
            flooder.wait(timeout=60)
    finally:
        if flooder is not None and flooder.poll() is None:
            flooder.kill()
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    return {
        "p50": 1000 * percentile(latencies, 0.5),
        "p99": 1000 * percentile(latencies, 0.99),
        "max": 1000 * max(latencies),
        "n": len(latencies),
        "flood_rate": counts["sent"] / (seconds + 2.0),
        "flood_answered": counts["answers"] / (seconds + 2.0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    seconds = 3.0 if args.quick else args.seconds
    print(f"cores: {os.cpu_count()}, {seconds:g} s per run, quiet Heartbeat every 20 ms")
    runs = [
        ("eflux", False, None, "E-Flux, no flood"),
        ("eflux", True, None, "E-Flux, flood, default limit"),
        ("eflux", True, 0.0, "E-Flux, flood, limit off"),
        ("bare", False, None, "bare ocpp, no flood"),
        ("bare", True, None, "bare ocpp, flood"),
    ]
    rows = []
    with tempfile.TemporaryDirectory() as workdir:
        for kind, flood, rate, label in runs:
            result = run(kind, flood, rate, seconds, Path(workdir))
            rows.append((label, result))
            print(f"  {label}: quiet p99 {result['p99']:.2f} ms", flush=True)
            time.sleep(0.5)
    base = rows[0][1]["p99"]
    print(
        f"\n{'run':<30} {'quiet p50':>9} {'p99':>8} {'max':>8} {'n':>5} {'p99 ratio':>9} "
        f"{'flood sent/s':>12} {'answered/s':>10}"
    )
    for label, r in rows:
        ratio = f"x{r['p99'] / base:.1f}"
        print(
            f"{label:<30} {r['p50']:>9.2f} {r['p99']:>8.2f} {r['max']:>8.1f} {r['n']:>5} "
            f"{ratio:>9} {r['flood_rate']:>12.0f} {r['flood_answered']:>10.0f}"
        )
    flooded = rows[1][1]["p99"]
    verdict = "met" if flooded < 50 else "MISSED"
    print(
        f"\ntarget: quiet p99 < 50 ms under a flood (default limit): {verdict} ({flooded:.1f} ms)"
    )


if __name__ == "__main__":
    main()
