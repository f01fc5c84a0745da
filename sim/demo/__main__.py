"""`python -m sim.demo [--headless --duration 60] [--no-hass] [--no-backend]` (scripts/demo)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from pathlib import Path
from typing import Any

from websockets.exceptions import ConnectionClosed

from .app import Options, run
from .lock import DemoRunning, hold
from .scenario import Scenario


def parse_args(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        prog="scripts/demo",
        description="E-Flux Local demo: chargers, a grid meter and the local site on loopback.",
    )
    parser.add_argument("--headless", action="store_true", help="no live table; a summary")
    parser.add_argument("--duration", type=float, help="seconds to run (default: until Ctrl-C)")
    parser.add_argument(
        "--speed",
        type=float,
        default=None,
        help="household time per real second (default 60 headless, 10 live)",
    )
    parser.add_argument(
        "--fuse", type=float, default=35.0, help="grid connection fuse per phase in A (35)"
    )
    parser.add_argument("--no-hass", action="store_true", help="do not start Home Assistant")
    parser.add_argument("--no-backend", action="store_true", help="do not start the back end")
    parser.add_argument(
        "--embedded-broker", action="store_true", help="use amqtt even when Mosquitto exists"
    )
    parser.add_argument("--workdir", type=Path, default=Path(".demo"))
    args = parser.parse_args(argv)
    if args.duration is not None and args.duration <= 0:
        parser.error("--duration must be > 0")
    speed = args.speed if args.speed is not None else (60.0 if args.headless else 10.0)
    if speed <= 0:
        parser.error("--speed must be > 0")
    if not 16 <= args.fuse <= 400:
        parser.error("--fuse must be between 16 and 400 A")
    return Options(
        workdir=args.workdir.resolve(),
        headless=args.headless,
        duration_s=args.duration,
        speed=speed,
        hass=not args.no_hass,
        backend=not args.no_backend,
        embedded_broker=args.embedded_broker,
        scenario=Scenario(fuse_a=args.fuse),
    )


def _quiet_disconnects(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """A charger's connection closed by the central system (Home Assistant reloads its entry
    when a new charger appears) ends the ocpp library's reader task with an exception nobody
    retrieves; the simulated charger reconnects by itself, so that is not worth a traceback."""
    if isinstance(context.get("exception"), ConnectionClosed):
        return
    loop.default_exception_handler(context)


async def main_async(options: Options) -> int:
    """Run the demo; SIGTERM, SIGINT and SIGHUP (its terminal closed) end it cleanly (every
    child is stopped). One demo per work dir: a second one stops at once."""
    try:
        lock = hold(options.workdir)
    except DemoRunning as err:
        print(f"demo: {err}", file=sys.stderr)
        return 1
    except OSError as err:
        print(f"\ndemo: failed: {err!r} (work dir {options.workdir})", file=sys.stderr)
        return 1
    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        loop.add_signal_handler(sig, task.cancel)
    loop.set_exception_handler(_quiet_disconnects)
    try:
        return await run(options)
    except asyncio.CancelledError:
        print("\ndemo: stopped", file=sys.stderr)
        return 130
    finally:
        lock.close()


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(main_async(options))
    return 130


if __name__ == "__main__":
    sys.exit(main())
