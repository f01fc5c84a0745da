"""A running back end (API + portal) per test module, and one headless Chromium per module."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

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


def clean(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


# The back-end suite's store on each engine (a SQLite file; a PostgreSQL schema per test).
from tests.backend.conftest import database_url, store  # noqa: E402, F401
