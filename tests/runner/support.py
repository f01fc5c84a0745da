"""Serving a LocalSite's local HTTP API on a real loopback socket, and calling it."""

from __future__ import annotations

import errno
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
from aiohttp import web

from custom_components.eflux.core.clock import SYSTEM_CLOCK, Clock, Now
from custom_components.eflux.core.config import SiteConfig
from custom_components.eflux.core.runner.api import build_app
from custom_components.eflux.core.runtime import LocalSite

TOKEN = "0123456789abcdef-token"


class Api:
    def __init__(self, site: LocalSite, base: str, http: aiohttp.ClientSession) -> None:
        self.site, self.base, self.http = site, base, http

    async def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: bytes | None = None,
        token: str | None = TOKEN,
    ) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if method != "GET":  # what the API's cross-site guard asks of commands
            headers["Content-Type"] = "application/json"
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        async with self.http.request(method, self.base + path, data=data, headers=headers) as r:
            return r.status, await r.json()


@asynccontextmanager
async def serving(
    config: SiteConfig, port: int, *, clock: Clock | Now = SYSTEM_CLOCK
) -> AsyncIterator[Api]:
    """The site running, its API on 127.0.0.1:`port`, and a client for it."""
    site = LocalSite(config, clock=clock)
    await site.start()
    runner = web.AppRunner(build_app(site, config.api))
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", port).start()
    except OSError as err:  # another xdist worker took the free port first: any free one
        if err.errno != errno.EADDRINUSE:
            raise
        tcp = web.TCPSite(runner, "127.0.0.1", 0)
        await tcp.start()
        port = tcp._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        async with aiohttp.ClientSession() as http:
            yield Api(site, f"http://127.0.0.1:{port}", http)
    finally:
        await runner.cleanup()
        await site.stop()
