"""Two back ends on loopback, each on its own database (SQLite files or PostgreSQL schemas),
that speak OCPI 2.2.1 to each other as real aiohttp servers."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio
from aiohttp.test_utils import TestServer, unused_port

from backend.api import create_app
from backend.ocpi import OcpiClient, OcpiSettings, sync_round
from backend.ocpi.parties import Parties, Party
from backend.store import Store

NOW = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)


@dataclass
class Platform:
    """One back end: its store, its OCPI identity, its server and an OCPI client of its own."""

    store: Store
    settings: OcpiSettings
    server: TestServer
    client: OcpiClient

    @property
    def parties(self) -> Parties:
        return Parties(self.store.db)

    async def sync(self) -> dict[str, int]:
        return dict(await sync_round(self.store, self.settings, self.client, now=NOW))

    async def only_party(self) -> Party:
        (party,) = await self.parties.registered()
        return party


Start = Callable[..., Awaitable[Platform]]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine_dsn(request: pytest.FixtureRequest) -> str:
    """'' for SQLite, else the session's PostgreSQL database (fetched here: its fixture may
    not be set up from inside a running event loop)."""
    if request.param == "sqlite":
        return ""
    return str(request.getfixturevalue("postgres_dsn"))


@pytest_asyncio.fixture
async def start_platform(engine_dsn: str, tmp_path: Path) -> AsyncIterator[Start]:
    """`await start_platform("NL-CPO")`: a back end on a database of its own, serving OCPI
    (its own round every `sync_interval_s` when given; tests otherwise run rounds by hand)."""
    schemas: list[str] = []
    running: list[Platform] = []
    dsn = engine_dsn

    async def start(party: str, sync_interval_s: float = 0) -> Platform:
        if dsn:
            schema = f"t_{uuid.uuid4().hex[:12]}"
            conn = await asyncpg.connect(dsn)
            await conn.execute(f'CREATE SCHEMA "{schema}"')
            await conn.close()
            schemas.append(schema)
            url = f"{dsn}?search_path={schema}"
        else:
            url = str(tmp_path / f"{party}.sqlite")
        store = await Store.open(url)
        port = unused_port()
        settings = OcpiSettings.parse(
            party, f"Platform {party}", f"http://127.0.0.1:{port}", sync_interval_s=sync_interval_s
        )
        server = TestServer(
            create_app(store, clock=lambda: NOW, ocpi=settings), host="127.0.0.1", port=port
        )
        await server.start_server()
        platform = Platform(store, settings, server, OcpiClient())
        running.append(platform)
        return platform

    try:
        yield start
    finally:
        for platform in running:
            await platform.client.close()
            await platform.server.close()
            await platform.store.close()
        for schema in schemas:
            conn = await asyncpg.connect(dsn)
            await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
            await conn.close()
