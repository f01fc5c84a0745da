"""Serving the local API (and the building console on it) for a running `LocalSite`.

One code path for both hosts of a site: the standalone `eflux-local` runner (main.py) and Home
Assistant's integration when its option "serve the local API and building console" is on.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from ..config import ApiSettings
from ..runtime import LocalSite
from .api import build_app


@dataclass(slots=True)
class ApiServer:
    """The local API listening on `host`:`port` (the bound port, also when 0 was asked)."""

    runner: web.AppRunner
    host: str
    port: int

    async def stop(self) -> None:
        """Close the listening socket, the event streams and the console's sessions."""
        await self.runner.cleanup()


async def start_api(site: LocalSite, settings: ApiSettings) -> ApiServer:
    """Listen with the site's API on `settings.host`:`settings.port`; OSError (a port in use)
    leaves nothing open."""
    runner = web.AppRunner(build_app(site, settings), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, settings.host, settings.port).start()
    except BaseException:
        await runner.cleanup()
        raise
    return ApiServer(runner, settings.host, _bound_port(runner, settings.port))


def _bound_port(runner: web.AppRunner, configured: int) -> int:
    """The port the API listens on (`api.port: 0` takes a free one)."""
    for address in runner.addresses:
        if isinstance(address, tuple) and len(address) >= 2:
            return int(address[1])
    return configured


def console_url(host: str, port: int) -> str:
    """Where a browser on this machine finds the console (a wildcard address: loopback)."""
    shown = "127.0.0.1" if host in ("", "0.0.0.0", "::") else host  # noqa: S104 (compared)
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/console/"
