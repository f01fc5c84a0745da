"""A back-end store on each engine: a fresh SQLite file, and a fresh PostgreSQL schema per test."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio

from backend.store import Store

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "backend.sqlite")
    dsn: str = request.getfixturevalue("postgres_dsn")
    return dsn


@pytest_asyncio.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    url = database_url
    schema = None
    if url.startswith("postgresql://"):
        # One schema per test on the session's database: tests never see each other's rows.
        schema = f"t_{uuid.uuid4().hex[:12]}"
        conn = await asyncpg.connect(url)
        await conn.execute(f'CREATE SCHEMA "{schema}"')
        await conn.close()
        url = f"{url}?search_path={schema}"
    opened = await Store.open(url)
    try:
        yield opened
    finally:
        await opened.close()
        if schema is not None:
            conn = await asyncpg.connect(database_url)
            await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
            await conn.close()
