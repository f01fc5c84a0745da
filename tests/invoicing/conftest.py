"""Each test on both engines: a fresh SQLite file and a fresh PostgreSQL schema (tests/backend)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest_asyncio

from tests.backend.conftest import database_url, store

__all__ = ["database_url", "schema_url", "store"]


@pytest_asyncio.fixture
async def schema_url(database_url: str) -> AsyncIterator[str]:
    """A URL of an empty database another process can open (a fresh schema on PostgreSQL)."""
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
