"""The standalone runner: read site.yaml, run the site and its API until SIGINT/SIGTERM.

Exit codes: 0 after a clean stop, 2 for an invalid configuration (the message names the file,
the key and the reason), 1 when the site cannot start (a port in use, a database that cannot
be opened).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Sequence

from ..clock import SYSTEM_CLOCK, Clock
from ..config import SiteConfig, load_site_config
from ..config.checks import circuit_warnings
from ..errors import ConfigError
from ..meters.backoff import quiet_library_logs
from ..runtime import CloudClient, CloudLink, LocalSite
from .console.setpassword import run_hash_password, run_set_password
from .logjson import LOG_FORMATS, configure_logging
from .passwords import password_entry
from .serve import ApiServer, console_url, start_api
from .timebase import add_time_options, clock_from_args

_LOGGER = logging.getLogger(__name__)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="eflux-local", description="Run an E-Flux Local site without Home Assistant."
    )
    parser.add_argument("--config", help="path to site.yaml (required to run or check)")
    parser.add_argument(
        "--generate-password",
        metavar="CHARGE_POINT_ID",
        help="print a strong password for that charge point (site.yaml central.passwords) and exit",
    )
    parser.add_argument(
        "--set-password",
        action="store_true",
        help="store the console's manager password (hashed) next to --config and exit",
    )
    parser.add_argument(
        "--hash-password",
        action="store_true",
        help="print a hash for a resident's card entry (console_password:) and exit",
    )
    parser.add_argument("--check", action="store_true", help="validate the file and exit")
    parser.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING, ERROR")
    parser.add_argument(
        "--log-format",
        choices=LOG_FORMATS,
        default="text",
        help="log lines as text or as one JSON object each (default: text)",
    )
    add_time_options(parser)
    args = parser.parse_args(argv)
    if args.generate_password is not None:
        print(password_entry(args.generate_password))
        return 0
    if args.set_password:
        return run_set_password(args.config)
    if args.hash_password:
        return run_hash_password()
    if args.config is None:
        parser.error("--config is required")
    configure_logging(args.log_format, args.log_level.upper())
    quiet_library_logs()
    try:
        config = load_site_config(args.config)
    except ConfigError as err:
        print(f"eflux-local: invalid configuration: {err}", file=sys.stderr)
        return 2
    for warning in circuit_warnings(config.site.circuits):
        if args.check:
            print(f"{args.config}: warning: {warning}")
        else:
            _LOGGER.warning("%s: %s", args.config, warning)
    if args.check:
        print(f"{args.config}: OK ({len(config.site.chargers)} chargers)")
        if config.api.enabled and config.console.enabled:
            print(f"{args.config}: console: {console_url(config.api.host, config.api.port)}")
        return 0
    try:
        clock = clock_from_args(args)
        if args.time_scale != 1:
            _LOGGER.info("simulated time x%g from %s", args.time_scale, clock.now().isoformat())
        asyncio.run(run(config, clock=clock))
    except OSError as err:
        print(f"eflux-local: cannot start: {err}", file=sys.stderr)
        return 1
    return 0


async def run(
    config: SiteConfig, stop: asyncio.Event | None = None, *, clock: Clock | None = None
) -> None:
    """Run until `stop` is set (or SIGINT/SIGTERM when none is given); `clock`: the site's
    time (a `ScaledClock` for --time-scale), the real clock by default."""
    stop = stop or _stop_on_signals()
    # With a cloud account (site.yaml `cloud:`) the cloud answers for unlisted cards, and the
    # site syncs as Home Assistant's integration does.
    client = CloudClient(config.cloud.url, config.cloud.token) if config.cloud else None
    site = LocalSite(
        config,
        clock=clock or SYSTEM_CLOCK,
        remote_authorizer=client.authorize if client is not None else None,
    )
    try:
        await site.start()
    except BaseException:
        if client is not None:
            await client.close()
        raise
    link: CloudLink | None = None
    server: ApiServer | None = None
    try:
        if client is not None:
            link = await site.connect_cloud(client)
            _LOGGER.info("cloud sync with %s", client.base)
        if config.api.enabled:
            server = await start_api(site, config.api)
            _LOGGER.info("local API on http://%s:%d", config.api.host, server.port)
            if config.console.enabled:
                _announce_console(config, server.port)
        await stop.wait()
    finally:
        if server is not None:
            await server.stop()
        if link is not None:
            await link.stop()  # unsent sessions stay queued in the site's file
        elif client is not None:
            await client.close()
        await site.stop()


def _announce_console(config: SiteConfig, port: int) -> None:
    """The console's address on standard output (and in the log), so that whoever started the
    runner finds it; without a manager password, how to set one."""
    url = console_url(config.api.host, port)
    _LOGGER.info("console on %s", url)
    print(f"eflux-local: building console: {url}", flush=True)
    if config.console.password_hash is None:
        print(
            "eflux-local: the console has no manager password yet: "
            "eflux-local --config site.yaml --set-password",
            flush=True,
        )


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # not on Windows
            loop.add_signal_handler(sig, stop.set)
    return stop
