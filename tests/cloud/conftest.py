"""A real back end on a loopback port that a test can take down and bring back."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest_asyncio
from aiohttp import web

from backend.api import create_app
from backend.store import AccountKind, CardKind, Role, Store

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@dataclass
class Cloud:
    store: Store
    port: int
    clock: Callable[[], datetime] = lambda: NOW
    runner: web.AppRunner | None = None
    tokens: dict[str, str] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def up(self) -> None:
        self.runner = web.AppRunner(create_app(self.store, clock=self.clock))
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def down(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None

    async def session_rows(self) -> list[tuple[str, str]]:
        rows = await self.store.db.fetch(
            "SELECT cp_ocpp_id, transaction_id FROM sessions ORDER BY id"
        )
        return [(r["cp_ocpp_id"], r["transaction_id"]) for r in rows]


@pytest_asyncio.fixture
async def cloud(tmp_path: Path, unused_port: Callable[[], int]) -> AsyncIterator[Cloud]:
    """The cloud with one home (site token), a driver user, and cards ANN01 and ANN02."""
    store = await Store.open(str(tmp_path / "cloud.sqlite"))
    world = Cloud(store, unused_port())
    home = await store.accounts.create_account(AccountKind.CONSUMER, "Ann", now=NOW)
    driver = await store.accounts.create_user(home.id, "ann@x.test", Role.CUSTOMER, now=NOW)
    world.tokens["driver"] = (
        await store.accounts.create_user_token(driver.id, "t", now=NOW)
    ).secret
    site = await store.sites.create_site(home.id, "Home", now=NOW)
    world.tokens["site"] = (await store.accounts.create_site_token(site, "t", now=NOW)).secret
    world.ids.update(account=home.id, site=site.id)
    for uid in ("ANN01", "ANN02"):
        card = await store.cards.create_card(
            uid, CardKind.SUBSCRIPTION, now=NOW, account_id=home.id
        )
        world.ids[uid] = card.id
    await world.up()
    try:
        yield world
    finally:
        await world.down()
        await store.close()
