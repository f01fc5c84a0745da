"""One running site with its console per module, sessions seeded through the sims, and one
headless Chromium (Debian's, as tests/portal launch it)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from .server import ConsoleServer

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
# (charger, card, Wh): what the seeded sessions charge.
SESSIONS = (
    ("garage", "CARD-ANN", 5000),
    ("visitor", "CARD-BOB", 7000),
    ("garage", "CARD-ANN", 3000),
    ("visitor", "<script>alert(1)</script>", 1000),
)


async def charge(server: ConsoleServer, charger: str, card: str, wh: int) -> None:
    sim = server.sims[charger]
    site = server.site
    assert site is not None
    await sim.plug_in(card)
    await until(lambda: site.state().chargers[charger].transaction_id is not None)
    sim.register_wh += wh
    await sim.sample_now()
    await sim.unplug()
    await until(lambda: site.state().chargers[charger].transaction_id is None)


async def until(predicate: object, wait_s: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_s
    while not predicate():  # type: ignore[operator]
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {wait_s} s")
        await asyncio.sleep(0.02)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleServer]:
    running = ConsoleServer(tmp_path_factory.mktemp("console"))
    running.start()
    try:
        running.run(until(lambda: all(s.connected.is_set() for s in running.sims.values())))
        for charger, card, wh in SESSIONS:
            running.run(charge(running, charger, card, wh))
        yield running
    finally:
        running.stop()


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
