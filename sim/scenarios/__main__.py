"""`scripts/scenario NAME [--time-scale N] [--duration D]`: run a scenario, print its summary.

Exit status 0 when no fuse was over its limit longer than the reaction bound and no car
starved, 1 otherwise, 2 for a bad scenario or arguments.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from custom_components.eflux.core.clock import ScaledClock
from custom_components.eflux.core.meters.backoff import quiet_library_logs

from .record import Judgement, judge
from .report import summary, verdict
from .spec import Scenario, ScenarioError, duration, load
from .vtime import LoopClock, run_virtual
from .world import World, loop_lag


@dataclass(frozen=True, slots=True)
class Outcome:
    judgement: Judgement
    seen: dict[str, list[float]]
    wall_s: float
    text: str
    ok: bool


async def play(
    scenario: Scenario, time_scale: float | None, length: timedelta, workdir: Path
) -> Outcome:
    """Run `scenario` for `length` of simulated time and judge it: at `time_scale` times real
    time on a `ScaledClock`, or (None) on the loop's skipping time (run it with `run_virtual`).
    """
    wall_start = time.monotonic()
    loop = asyncio.get_running_loop()
    clock: ScaledClock | LoopClock = (
        LoopClock(scenario.start, loop)
        if time_scale is None
        else ScaledClock(time_scale, start=scenario.start)
    )
    world = World(scenario, clock, workdir)
    worst_lag = [0.0]
    lag = asyncio.ensure_future(loop_lag(1.0, worst_lag))
    try:
        await world.start()
        worst_lag[0] = 0.0  # from the scenario's start on
        await world.run(length)
        until_s = length.total_seconds()
        tracks = world.finish(until_s)
    finally:
        lag.cancel()
        await world.stop()
    wall_s = time.monotonic() - wall_start
    judgement = judge(scenario, tracks, until_s)
    text = summary(scenario, judgement, world.seen, wall_s, worst_lag[0] * (time_scale or 1.0))
    return Outcome(judgement, world.seen, wall_s, text, verdict(scenario, judgement).ok)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/scenario", description=__doc__)
    parser.add_argument("name", help="a scenario of sim/scenarios (building, house) or a path")
    parser.add_argument(
        "--time-scale",
        type=float,
        help="run on a ScaledClock, N simulated seconds per real second (default: skip idle"
        " time, as fast as the machine goes, at real-time latencies)",
    )
    parser.add_argument("--duration", help="simulated time to run, e.g. 2h (default: the file's)")
    parser.add_argument("--log-level", default="WARNING")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    quiet_library_logs()
    try:
        scenario = load(args.name)
        length = scenario.duration
        if args.duration is not None:
            length = duration(args.duration, "--duration")
    except (ScenarioError, OSError) as err:
        print(f"scenario: {err}", file=sys.stderr)
        return 2
    scale: float | None = args.time_scale
    if scale is not None and not scale > 0:
        print("scenario: --time-scale must be > 0", file=sys.stderr)
        return 2
    pace = "skipping idle time" if scale is None else f"x{scale:g}"
    print(f"scenario {scenario.name}: {length} of simulated time, {pace} ...", flush=True)
    with tempfile.TemporaryDirectory(prefix="eflux-scenario-", dir=_fast_tmp()) as tmp:
        work = play(scenario, scale, length, Path(tmp))
        outcome = run_virtual(work) if scale is None else asyncio.run(work)
    print(outcome.text, flush=True)
    return 0 if outcome.ok else 1


def _fast_tmp() -> str | None:
    """A RAM disk for the site's SQLite file when there is one (fsyncs cost nothing there)."""
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() else None


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
