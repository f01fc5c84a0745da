"""A running back end (API + portal) per test module, and one headless Chromium per module."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer

from backend.api import create_app
from backend.store import Store

# The back-end suite's store on each engine (a SQLite file; a PostgreSQL schema per test).
from tests.backend.conftest import database_url, schema_url, store  # noqa: F401

from .client import Portal
from .seed import NOW, Seeded, seed
from .server import PortalServer

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PortalServer]:
    root = tmp_path_factory.mktemp("portal")
    running = PortalServer(root / "backend.sqlite", root / "outbox", lambda: NOW)
    running.start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def seeded(server: PortalServer) -> Seeded:
    return server.call(seed)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing (scripts/ensure-system-packages installs chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest_asyncio.fixture
async def env(
    store: Store,  # noqa: F811 (the fixture imported above)
    tmp_path: Path,
) -> AsyncIterator[tuple[Portal, Seeded, Path, Clock]]:
    seeded = await seed(store)
    clock = Clock()
    outbox = tmp_path / "outbox"
    app = create_app(store, clock=clock, portal_outbox=outbox)
    async with TestClient(TestServer(app)) as client:
        yield Portal(client), seeded, outbox, clock
