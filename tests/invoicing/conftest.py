"""Each test on both engines: a fresh SQLite file and a fresh PostgreSQL schema (tests/backend)."""

from __future__ import annotations

from tests.backend.conftest import database_url, schema_url, store

__all__ = ["database_url", "schema_url", "store"]
