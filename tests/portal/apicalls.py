"""Calls the API-parity tests make against the `env` back end (API and portal on loopback)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from backend.api.app_keys import STORE
from backend.store import Store

from .client import Portal
from .conftest import Clock
from .seed import Seeded

Env = tuple[Portal, Seeded, Path, Clock]
ANSWERS = {"phases": 3, "cable_mm2": "6", "car_max_kw": 11, "battery_kwh": 60}


def store_of(portal: Portal) -> Store:
    assert portal.client.app is not None
    store: Store = portal.client.app[STORE]
    return store


async def api(
    portal: Portal, method: str, path: str, token: str, body: Any = None
) -> tuple[int, Any]:
    async with portal.client.request(
        method,
        "/api/v1" + path,
        json=body,
        headers={"Authorization": f"Bearer {token}"},
    ) as response:
        return response.status, await response.json()


async def rows(store: Store, table: str) -> list[dict[str, Any]]:
    return [dict(r) for r in await store.db.fetch(f"SELECT * FROM {table} ORDER BY id")]


async def text(portal: Portal, path: str, token: str | None = None) -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with portal.client.get(path, headers=headers, allow_redirects=False) as response:
        return response.status, await response.text()
