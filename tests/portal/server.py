"""The back end (API + portal) on loopback in its own thread and event loop, for browser tests.

Playwright's sync API runs in the test thread; the server, its SQLite store and every seed or
check on the store run in the server's loop (`server.run(coro)`).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web

from backend.api import create_app
from backend.payments import ProviderSettings
from backend.store import Store
from sim.payments import SimProvider

T = TypeVar("T")


class PortalServer:
    def __init__(self, database: Path, outbox: Path, clock: Callable[[], datetime]) -> None:
        self.database = database
        self.outbox = outbox
        self.clock = clock
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.store: Store | None = None
        self.runner: web.AppRunner | None = None
        self.port = 0
        self.payments = SimProvider("test_browser_key")  # the local payment provider
        self.payments_runner: web.AppRunner | None = None

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=60)

    def call(self, work: Callable[[Store], Awaitable[T]]) -> T:
        assert self.store is not None
        store = self.store

        async def go() -> T:
            return await work(store)

        return self.run(go())

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.thread.start()
        self.run(self._start())

    async def _start(self) -> None:
        self.payments_runner = web.AppRunner(self.payments.app())
        await self.payments_runner.setup()
        await web.TCPSite(self.payments_runner, "127.0.0.1", 0).start()
        self.payments.base_url = f"http://127.0.0.1:{self.payments_runner.addresses[0][1]}"
        self.store = await Store.open(str(self.database))
        app = create_app(
            self.store,
            clock=self.clock,
            portal_outbox=self.outbox,
            payments=ProviderSettings(self.payments.base_url, self.payments.api_key),
        )
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self.runner.addresses[0][1])

    def stop(self) -> None:
        self.run(self._stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()

    async def _stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
        if self.payments_runner is not None:
            await self.payments_runner.cleanup()
        if self.store is not None:
            await self.store.close()
