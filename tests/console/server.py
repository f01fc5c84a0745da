"""A LocalSite with its API and console on loopback in its own thread and loop, two sim
chargers connected over real websockets, for the console's browser tests.

Playwright's sync API runs in the test thread; the site, the sims and every check on them run
in the server's loop (`server.run(coro)`).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web

from custom_components.eflux.core.config import parse_site_config
from custom_components.eflux.core.runner.api import build_app
from custom_components.eflux.core.runner.console.hashing import hash_password
from custom_components.eflux.core.runtime import LocalSite
from sim.chargepoint import Car, SimChargePoint

T = TypeVar("T")
MANAGER_PASSWORD = "manager-secret-1"
ANN_PASSWORD = "ann-secret-123"
BOB_PASSWORD = "bob-secret-456"
XSS = "<script>alert(1)</script>"
# The visitor box speaks 2.0.1: its idToken takes 36 characters (1.6 idTag only 20), so the
# card named like a script can charge there.
CHARGERS = {"garage": ("CON-A", "1.6"), "visitor": ("CON-B", "2.0.1")}
PRICE = "0.30"


def site_yaml(root: Path) -> dict[str, Any]:
    return {
        "central": {
            "host": "127.0.0.1",
            "port": 0,
            "db_path": str(root / "central.sqlite"),
            "cards": [
                {"id": "CARD-ANN", "resident": "Ann de Vries", "apartment": "1A",
                 "console_password": hash_password(ANN_PASSWORD)},
                {"id": "CARD-BOB", "resident": "Bob Jansen", "apartment": "2B",
                 "console_password": hash_password(BOB_PASSWORD)},
                {"id": XSS, "resident": XSS, "apartment": "<b>3C</b>"},
            ],
        },
        "timezone": "Europe/Amsterdam",
        "tariff": {"price": PRICE},
        "site": {"tuning": {"ramp_step_a": "none", "hysteresis_a": 0}},
        "circuits": [
            {"id": "grid", "limit_a": 25},
            {"id": "garage-row", "limit_a": 20, "parent": "grid"},
        ],
        "meters": [{"name": "p1", "circuit": "grid", "kind": "external", "timeout": 3600}],
        "chargers": [
            {"id": "garage", "circuit": "garage-row", "charge_point": "CON-A"},
            {"id": "visitor", "circuit": "grid", "charge_point": "CON-B"},
        ],
        "api": {"host": "127.0.0.1", "port": 0},
        "console": {"password": hash_password(MANAGER_PASSWORD)},
    }  # fmt: skip


class ConsoleServer:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.site: LocalSite | None = None
        self.runner: web.AppRunner | None = None
        self.sims: dict[str, SimChargePoint] = {}
        self.port = 0

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=60)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.thread.start()
        self.run(self._start())

    async def _start(self) -> None:
        config = parse_site_config(site_yaml(self.root), base_dir=self.root)
        self.site = LocalSite(config)
        await self.site.start()
        self.runner = web.AppRunner(build_app(self.site, config.api))
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", 0).start()
        self.port = int(self.runner.addresses[0][1])
        self.site.external_meter("p1").push(grid_reading(5.0))
        for charger, (cp_id, version) in CHARGERS.items():
            sim = SimChargePoint(
                f"ws://127.0.0.1:{self.site.central.port}",
                cp_id,
                version,
                reconnect_delay=0.05,
                meter_interval=3600,
                car=Car(soc=40.0),
            )
            await sim.start()
            self.sims[charger] = sim

    def stop(self) -> None:
        self.run(self._stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()

    async def _stop(self) -> None:
        for sim in self.sims.values():
            await sim.close()
        if self.runner is not None:
            await self.runner.cleanup()
        if self.site is not None:
            await self.site.stop()


def local_month(moment: str) -> str:
    """The site's calendar month (Europe/Amsterdam) of an ISO time."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.fromisoformat(moment).astimezone(ZoneInfo("Europe/Amsterdam")).strftime("%Y-%m")


def grid_reading(amps: float) -> Any:
    from datetime import UTC, datetime

    from custom_components.eflux.core.meters.reading import MeterReading

    return MeterReading("p1", datetime.now(UTC), current_a=(amps,) * 3, power_w=(amps * 230,) * 3)
