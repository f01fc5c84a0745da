"""`eflux-bridge --config bridge.yaml`: run the Modbus -> MQTT bridge until SIGINT/SIGTERM.

Exit codes: 0 after a clean stop, 2 for a configuration error (printed as file: key: reason).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Sequence

from .bridge import Bridge
from .config import BridgeConfig, BridgeConfigError, load_bridge_config

EXIT_CONFIG = 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="eflux-bridge", description="Poll Modbus meters and publish them to MQTT."
    )
    parser.add_argument("--config", required=True, help="path of bridge.yaml")
    parser.add_argument(
        "--log-level", default="INFO", type=str.upper,
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
    )  # fmt: skip
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        config = load_bridge_config(args.config)
    except BridgeConfigError as err:
        print(f"eflux-bridge: configuration error: {err}", file=sys.stderr)
        return EXIT_CONFIG
    asyncio.run(run(config))
    return 0


async def run(config: BridgeConfig) -> None:
    bridge = Bridge(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await bridge.start()
    try:
        await stop.wait()
    finally:
        await bridge.stop()


if __name__ == "__main__":
    sys.exit(main())
