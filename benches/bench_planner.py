"""Planner time for 5, 20 and 50 cars over a day of quarter-hours, per circuit and phase.

A building: grid connection (3 x 63 A, household forecast varying per quarter) → two garages
(3 x 32 A and 3 x 40 A), two thirds three-phase 11 kW cars, one third one-phase 7.4 kW cars on
L1/L2/L3, departures 2-14 h ahead. Two loads: "easy" (every car can make it: one solve) and
"tight" (the garages cannot serve everyone: promises, then the rest, then the timing). Printed
next to the same cars planned on one budget for the whole site (the lowest phase x 3 x 230 V,
what the planner did before issue 16), timed in the same run, as the baseline for the cost of
planning per circuit and phase.

    .venv/bin/python benches/bench_planner.py [--quick]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from custom_components.eflux.core.planning import CarDemand, Limit, plan

NOW = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)
VOLT = 230.0


def cars(n: int, soc_range: tuple[int, int], rng: random.Random) -> list[CarDemand]:
    out = []
    for i in range(n):
        three = i % 3 != 0
        grid = (0, 1, 2) if three else (i % 3,)
        weight = 1000 / (VOLT * len(grid))
        garage = f"g{i % 2}"
        loads = tuple((f"{c} L{p + 1}", weight) for c in ("grid", garage) for p in grid)
        out.append(
            CarDemand(
                f"c{i}",
                NOW + timedelta(hours=rng.randint(2, 14)),
                60.0,
                float(rng.randint(*soc_range)),
                11.0 if three else 7.4,
                target_soc=90.0,
                loads=loads,
            )
        )
    return out


def limits(rng: random.Random) -> list[Limit]:
    household = [rng.uniform(15, 45) for _ in range(60)]
    found = [Limit(f"grid L{p}", tuple(63 - 2 - h for h in household)) for p in (1, 2, 3)]
    found += [Limit(f"g0 L{p}", (32.0,)) for p in (1, 2, 3)]
    found += [Limit(f"g1 L{p}", (40.0,)) for p in (1, 2, 3)]
    return found


def timed(run: object, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    sizes = (5, 20) if args.quick else (5, 20, 50)
    repeat = 3 if args.quick else 7
    rng = random.Random(16)
    print(f"{'cars':>5} {'load':>6} {'per phase ms':>13} {'one budget ms':>14} {'ratio':>7}")
    for n in sizes:
        for load, socs in (("easy", (70, 85)), ("tight", (10, 40))):
            demands = cars(n, socs, rng)
            circuits = limits(rng)
            lowest = min(min(lim.capacity) for lim in circuits if lim.key.startswith("grid"))
            budget = lowest * 3 * VOLT / 1000
            flat = [CarDemand(**{**_fields(c), "loads": ()}) for c in demands]
            full = timed(lambda d=demands, c=circuits: plan(d, NOW, float("inf"), limits=c), repeat)
            base = timed(lambda f=flat, b=budget: plan(f, NOW, b), repeat)
            print(f"{n:>5} {load:>6} {full:>13.1f} {base:>14.1f} {full / base:>6.1f}x")


def _fields(car: CarDemand) -> dict[str, object]:
    return {name: getattr(car, name) for name in CarDemand.__slots__}


if __name__ == "__main__":
    main()
