"""A back-end store on each engine: a fresh SQLite file, and a fresh PostgreSQL schema per test."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
import pytest_asyncio
from aiohttp.test_utils import TestServer

from backend.api import create_app
from backend.store import AccountKind, CardKind, Role, Store

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "backend.sqlite")
    dsn: str = request.getfixturevalue("postgres_dsn")
    return dsn


@pytest_asyncio.fixture
async def schema_url(database_url: str) -> AsyncIterator[str]:
    """An empty database of this test's own that several stores, or another process, can open:
    the SQLite file, or a fresh schema on the session's PostgreSQL database (tests never see
    each other's rows)."""
    if not database_url.startswith("postgresql://"):
        yield database_url
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(database_url)
    await conn.execute(f'CREATE SCHEMA "{schema}"')
    await conn.close()
    try:
        yield f"{database_url}?search_path={schema}"
    finally:
        conn = await asyncpg.connect(database_url)
        await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await conn.close()


@pytest_asyncio.fixture
async def store(schema_url: str) -> AsyncIterator[Store]:
    opened = await Store.open(schema_url)
    try:
        yield opened
    finally:
        await opened.close()


class Api:
    """A running API on loopback and a client that speaks as a given token."""

    def __init__(self, server: TestServer, session: aiohttp.ClientSession, store: Store) -> None:
        self.server = server
        self.http = session
        self.store = store
        self.tokens: dict[str, str] = {}
        self.ids: dict[str, int] = {}

    @property
    def url(self) -> str:
        return str(self.server.make_url("/api/v1"))

    async def call(
        self,
        method: str,
        path: str,
        who: str | None = None,
        json: Any = None,
        data: bytes | str | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        sent = dict(headers or {})
        if who is not None:
            sent["Authorization"] = f"Bearer {self.tokens[who]}"
        if data is not None:
            sent.setdefault("Content-Type", "application/json")
        async with self.http.request(
            method, self.url + path, json=json, data=data, headers=sent
        ) as response:
            payload = await response.json(content_type=None)
            return response.status, payload


@pytest_asyncio.fixture
async def api(store: Store) -> AsyncIterator[Api]:
    """Admin, two customers (ann with a site and a card, bob with a card) and ann's site token."""
    server = TestServer(
        create_app(store, clock=lambda: NOW, max_body_bytes=64 * 1024), host="127.0.0.1"
    )
    await server.start_server()
    async with aiohttp.ClientSession() as session:
        world = Api(server, session, store)
        accounts, cards = store.accounts, store.cards
        ops = await accounts.create_account(AccountKind.BUSINESS, "E-Flux ops", now=NOW)
        root = await accounts.create_user(ops.id, "root@eflux.test", Role.ADMIN, now=NOW)
        world.tokens["admin"] = (await accounts.create_user_token(root.id, "t", now=NOW)).secret
        for name in ("ann", "bob"):
            account = await accounts.create_account(AccountKind.CONSUMER, name.title(), now=NOW)
            person = await accounts.create_user(
                account.id, f"{name}@x.test", Role.CUSTOMER, now=NOW
            )
            world.tokens[name] = (await accounts.create_user_token(person.id, "t", now=NOW)).secret
            world.ids[name] = account.id
            card = await cards.create_card(
                f"{name}01", CardKind.SUBSCRIPTION, now=NOW, account_id=account.id
            )
            world.ids[f"{name}_card"] = card.id
        site = await store.sites.create_site(world.ids["ann"], "Ann's home", now=NOW)
        world.ids["site"] = site.id
        cp = await store.sites.create_charge_point(
            world.ids["ann"], "CP1", now=NOW, site_id=site.id
        )
        world.ids["cp"] = cp.id
        world.tokens["site"] = (await accounts.create_site_token(site, "home", now=NOW)).secret
        try:
            yield world
        finally:
            await server.close()
