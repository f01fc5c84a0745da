"""The central system alone in a process of its own, for tests and benches (a site runs it
inside `eflux-local` or Home Assistant):

    python -m sim.central_process --port 9000 --db central.sqlite --accept-new

Prints `ready port=<port>` once it listens (port 0 picks a free one), stops on SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from pathlib import Path

from custom_components.eflux.core.central import CentralSystem
from custom_components.eflux.core.central.config import AuthorizationSettings, CentralConfig
from custom_components.eflux.core.central.ratelimit import RateLimit


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="E-Flux Local OCPP central system")
    parser.add_argument("--host", default="0.0.0.0")  # chargers are on the LAN
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--db", type=Path, default=Path("eflux_central.sqlite"))
    parser.add_argument("--accept-new", action="store_true", help="accept unknown charge points")
    parser.add_argument("--free-charging", action="store_true", help="accept unknown cards")
    parser.add_argument("--card", action="append", default=[], help="an accepted id tag")
    parser.add_argument("--heartbeat", type=int, default=300, help="heartbeat interval (s)")
    parser.add_argument("--meter-interval", type=int, default=10, help="meter sample interval (s)")
    parser.add_argument("--call-timeout", type=float, default=30.0)
    parser.add_argument("--validate-in-thread", action="store_true")
    parser.add_argument(
        "--rate-limit", type=float, default=RateLimit().rate, help="CALLs/s per charger (0: off)"
    )
    parser.add_argument("--log-level", default="WARNING")
    return parser.parse_args(argv)


def config_from(args: argparse.Namespace) -> CentralConfig:
    return CentralConfig(
        host=args.host,
        port=args.port,
        db_path=args.db,
        accept_new_chargers=args.accept_new,
        heartbeat_interval=args.heartbeat,
        meter_sample_interval=args.meter_interval,
        call_timeout=args.call_timeout,
        validate_in_thread=args.validate_in_thread,
        rate_limit=RateLimit(rate=args.rate_limit),
        authorization=AuthorizationSettings(
            free_charging=args.free_charging, cards=frozenset(args.card)
        ),
    )


async def serve(config: CentralConfig) -> None:
    central = CentralSystem(config)
    await central.start()
    print(f"ready port={central.port}", flush=True)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    try:
        await stopping.wait()
    finally:
        await central.stop()


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(message)s")
    asyncio.run(serve(config_from(args)))


if __name__ == "__main__":
    main()
