"""A back end wired to the local payment provider (sim/payments) on real loopback sockets, and
an account with a customer token: what the payment tests of the API and the portal share."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer

from backend.api import create_app
from backend.payments import ProviderSettings
from backend.store import AccountKind, Role, Store
from sim.payments import SimProvider

from .conftest import NOW

API_KEY = "test_e5c8a1b2c3d4"
PASSWORD = "correct horse battery"


@dataclass
class PayWorld:
    store: Store
    provider: SimProvider
    provider_url: str
    backend: TestServer
    http: aiohttp.ClientSession
    account_id: int
    email: str
    token: str

    def url(self, path: str) -> str:
        return str(self.backend.make_url(path))

    async def call(
        self, method: str, path: str, json: Any = None, token: str | None = None
    ) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token or self.token}"}
        async with self.http.request(
            method, self.url("/api/v1" + path), json=json, headers=headers
        ) as response:
            return response.status, await response.json(content_type=None)

    async def webhook(self, form: dict[str, str] | None = None, **kw: Any) -> int:
        if form is not None:
            kw["data"] = form
        async with self.http.post(self.url("/api/v1/payments/webhook"), **kw) as r:
            assert r.status < 500 or r.headers.get("Retry-After"), await r.text()
            return r.status

    async def balance(self) -> int:
        return int(
            await self.store.db.fetchval(
                "SELECT prepaid_balance_cents FROM accounts WHERE id = ?", self.account_id
            )
            or 0
        )

    async def ledger(self) -> list[tuple[str, int]]:
        rows = await self.store.db.fetch(
            "SELECT entry_id, cents FROM prepaid_entries WHERE account_id = ? ORDER BY id",
            self.account_id,
        )
        return [(r["entry_id"], int(r["cents"])) for r in rows]


@asynccontextmanager
async def pay_world(store: Store, outbox: Path | None = None) -> AsyncIterator[PayWorld]:
    provider = SimProvider(API_KEY)
    provider_server = TestServer(provider.app(), host="127.0.0.1")
    await provider_server.start_server()
    provider_url = str(provider_server.make_url("")).rstrip("/")
    provider.base_url = provider_url
    app = create_app(
        store,
        clock=lambda: NOW,
        portal_outbox=outbox,
        payments=ProviderSettings(provider_url, API_KEY),
    )
    backend = TestServer(app, host="127.0.0.1")
    await backend.start_server()
    account = await store.accounts.create_account(AccountKind.CONSUMER, "Pia Prepaid", now=NOW)
    email = "pia@pay.test"
    person = await store.accounts.create_user(
        account.id, email, Role.CUSTOMER, now=NOW, password=PASSWORD
    )
    token = (await store.accounts.create_user_token(person.id, "t", now=NOW)).secret
    try:
        async with aiohttp.ClientSession() as http:
            yield PayWorld(store, provider, provider_url, backend, http, account.id, email, token)
    finally:
        await backend.close()
        await provider_server.close()
