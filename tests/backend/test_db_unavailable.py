"""Issue 19.2: a database that cannot be reached answers 503 with Retry-After in the JSON error
shape (the API) or an HTML page (the portal), never 500, and the service recovers by itself.

PostgreSQL: the back end talks to the real server through a TCP relay the test stops (every
connection cut, the port closed) and starts again. SQLite: another process's connection holds
the file's write lock past the busy timeout (a backup or a second writer)."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import pytest
import pytest_asyncio
from aiohttp.test_utils import TestServer

from backend.api import create_app
from backend.storage import apply_migrations
from backend.storage.sqlite import SqliteDatabase
from backend.store import AccountKind, Role, Store

from .conftest import NOW


class Relay:
    """A TCP relay to `target` on a loopback port; `stop()` cuts every connection."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        self._writers.update((writer, up_writer))

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, ConnectionError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


async def _world(store: Store) -> str:
    ops = await store.accounts.create_account(AccountKind.BUSINESS, "Ops", now=NOW)
    root = await store.accounts.create_user(
        ops.id, "root@eflux.test", Role.ADMIN, now=NOW, password="a long password"
    )
    return (await store.accounts.create_user_token(root.id, "t", now=NOW)).secret


@pytest_asyncio.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def _call(
    http: aiohttp.ClientSession, server: TestServer, method: str, path: str, token: str, **kw: Any
) -> tuple[int, dict[str, str], object]:
    async with http.request(
        method, str(server.make_url(path)), headers={"Authorization": f"Bearer {token}"}, **kw
    ) as r:
        body = await r.json(content_type=None) if path.startswith("/api/") else await r.text()
        return r.status, dict(r.headers), body


def _is_503(status: int, headers: dict[str, str], body: object) -> None:
    assert status == 503, body
    assert headers["Retry-After"] == "5"
    assert body == {"error": "unavailable", "detail": "the database is unavailable; retry later"}


@pytest.mark.postgres
async def test_postgres_down_is_503_and_recovers(
    schema_url: str, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    if not schema_url.startswith("postgresql://"):
        pytest.skip("the PostgreSQL case")
    parts = urlsplit(schema_url)
    relay = Relay((parts.hostname or "127.0.0.1", parts.port or 5432))
    await relay.start()
    host = f"{parts.username + '@' if parts.username else ''}127.0.0.1:{relay.port}"
    store = await Store.open(urlunsplit(parts._replace(netloc=host)))
    token = await _world(store)
    server = TestServer(
        create_app(store, clock=lambda: NOW, portal_outbox=tmp_path), host="127.0.0.1"
    )
    await server.start_server()
    try:
        assert (await _call(http, server, "GET", "/api/v1/accounts", token))[0] == 200
        await relay.stop()
        for method, path, kw in (
            ("GET", "/api/v1/accounts", {}),
            ("POST", "/api/v1/sites", {"json": {"name": "Home"}}),
        ):
            _is_503(*await _call(http, server, method, path, token, **kw))
        status, headers, page = await _call(http, server, "GET", "/portal/login", token)
        assert (status, headers["Retry-After"]) == (503, "5")
        assert "briefly unavailable" in str(page)
        await relay.start()  # the server is back on the same address: no restart needed
        status, _, body = await _call(http, server, "GET", "/api/v1/accounts", token)
        assert status == 200, body
    finally:
        await server.close()
        await store.close()
        with contextlib.suppress(AssertionError):
            await relay.stop()


async def test_sqlite_locked_by_another_process_is_503_and_recovers(
    database_url: str, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    if database_url.startswith("postgresql://"):
        pytest.skip("the SQLite case")
    db = await SqliteDatabase.connect(database_url, busy_timeout_ms=50)
    await apply_migrations(db)
    store = Store(db)
    token = await _world(store)
    server = TestServer(create_app(store, clock=lambda: NOW), host="127.0.0.1")
    await server.start_server()
    other = sqlite3.connect(database_url, isolation_level=None)
    try:
        other.execute("BEGIN EXCLUSIVE")  # e.g. a backup holding the write lock
        _is_503(*await _call(http, server, "POST", "/api/v1/sites", token, json={"name": "Home"}))
        other.execute("ROLLBACK")
        status, _, body = await _call(
            http, server, "POST", "/api/v1/sites", token, json={"name": "Home"}
        )
        assert status == 201, body
        assert await db.fetchval("SELECT count(*) FROM sites") == 1  # one, not two
    finally:
        other.close()
        await server.close()
        await store.close()
