"""Plain units of work (`Store.write_sync`, one thread hop per batch) keep the group-commit
rules of async units: committed before the caller resumes, a failing unit rolls back alone,
and a batch mixing both kinds commits as one."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import aiosqlite

from custom_components.eflux.core.central.store import Store

from .support import db_rows


def _insert(conn: sqlite3.Connection, key: str) -> str:
    conn.execute("INSERT INTO settings (key, value) VALUES (?, 'v')", (key,))
    return key


def _fail(conn: sqlite3.Connection) -> None:
    conn.execute("INSERT INTO settings (key, value) VALUES ('broken', 'v')")
    raise RuntimeError("disk on fire")


def _keys(path: Path) -> list[str]:
    return [str(row[0]) for row in db_rows(path, "SELECT key FROM settings ORDER BY key")]


async def test_plain_units_share_a_commit_and_a_failing_one_rolls_back_alone(
    tmp_path: Path,
) -> None:
    path = tmp_path / "store.sqlite"
    store = Store(path)
    await store.open()
    try:
        results = await asyncio.gather(
            store.write_sync(lambda conn: _insert(conn, "a")),
            store.write_sync(_fail),
            store.write_sync(lambda conn: _insert(conn, "b")),
            return_exceptions=True,
        )
        # Each caller resumed after its commit: a second connection sees the rows now.
        assert _keys(path) == ["a", "b"]
    finally:
        await store.close()
    assert results[0] == "a"
    assert results[2] == "b"
    assert isinstance(results[1], RuntimeError)


async def test_a_lone_failing_plain_unit_leaves_nothing(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    store = Store(path)
    await store.open()
    try:
        try:
            await store.write_sync(_fail)
        except RuntimeError:
            pass
        else:
            raise AssertionError("the failing unit's error was not raised")
        assert await store.write_sync(lambda conn: _insert(conn, "after")) == "after"
    finally:
        await store.close()
    assert _keys(path) == ["after"]


async def test_a_batch_mixing_plain_and_async_units(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    store = Store(path)
    await store.open()

    async def insert_async(db: aiosqlite.Connection, key: str) -> str:
        await db.execute("INSERT INTO settings (key, value) VALUES (?, 'v')", (key,))
        return key

    def read_back(conn: sqlite3.Connection) -> list[str]:  # sees the batch's earlier units
        return [str(r[0]) for r in conn.execute("SELECT key FROM settings ORDER BY key")]

    try:
        results = await asyncio.gather(
            store.write(lambda db: insert_async(db, "x")),
            store.write_sync(_fail),
            store.write_sync(lambda conn: _insert(conn, "y")),
            store.read_sync(read_back),
            return_exceptions=True,
        )
    finally:
        await store.close()
    assert results[0] == "x"
    assert isinstance(results[1], RuntimeError)
    assert results[2] == "y"
    assert results[3] == ["x", "y"]
    assert _keys(path) == ["x", "y"]
