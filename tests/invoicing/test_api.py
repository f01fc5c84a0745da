"""GET /api/v1/invoices, /invoices/{id}, /invoices/{id}.pdf and /credit-notes over a real server
on both engines: the caller's account only, hostile paths and queries refused."""

from __future__ import annotations

import re
import zlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp.test_utils import TestServer

from backend.api import create_app
from backend.billing.calendar import Month
from backend.store import AccountKind, Role, Store
from tests.invoicing.world import build

pytestmark = pytest.mark.asyncio
NOW = datetime(2025, 2, 1, 3, 0, tzinfo=UTC)


class Client:
    def __init__(self, base: str, http: aiohttp.ClientSession, tokens: dict[str, str]) -> None:
        self.base, self.http, self.tokens = base, http, tokens

    async def get(self, path: str, who: str | None) -> tuple[int, str, bytes]:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        async with self.http.get(self.base + path, headers=headers) as response:
            return response.status, response.content_type, await response.read()

    async def json(self, path: str, who: str | None) -> tuple[int, Any]:
        import json

        status, _, raw = await self.get(path, who)
        return status, json.loads(raw)


@pytest_asyncio.fixture
async def client(store: Store) -> AsyncIterator[Client]:
    world = await build(store)
    await world.invoicing.run_month(Month.parse("2025-01"), now=NOW)
    tokens = {}
    ops = await store.accounts.create_account(AccountKind.BUSINESS, "Ops", now=NOW)
    for who, account, role in (
        ("ann", world.ids["ann"], Role.CUSTOMER),
        ("bob", world.ids["bob"], Role.CUSTOMER),
        ("admin", ops.id, Role.ADMIN),
    ):
        user = await store.accounts.create_user(account, f"{who}@x.test", role, now=NOW)
        tokens[who] = (await store.accounts.create_user_token(user.id, "t", now=NOW)).secret
    server = TestServer(create_app(store, clock=lambda: NOW), host="127.0.0.1")
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as http:
            yield Client(str(server.make_url("/api/v1")), http, tokens)
    finally:
        await server.close()


def pdf_text(pdf: bytes) -> bytes:
    """The page content streams, inflated (fpdf2 compresses them)."""
    return b"".join(
        zlib.decompress(m)
        for m in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S)
        if m[:1] == b"x"
    )


async def test_customers_see_their_own_documents(client: Client) -> None:
    status, ann = await client.json("/invoices", "ann")
    assert status == 200
    assert [(i["number"], i["kind"], i["gross_cents"]) for i in ann["items"]] == [
        ("F-2025-000001", "invoice", 7896),
        ("F-2025-000002", "overage_invoice", 253),
    ]
    assert (await client.json("/invoices", "bob"))[1]["items"] == []
    notes = (await client.json("/credit-notes", "bob"))[1]["items"]
    assert [(n["number"], n["gross_cents"]) for n in notes] == [("C-2025-000001", 2100)]
    admin = (await client.json("/invoices?month=2025-01&limit=1", "admin"))[1]
    assert (len(admin["items"]), admin["next"]) == (1, admin["items"][0]["id"])
    first = ann["items"][0]["id"]
    status, detail = await client.json(f"/invoices/{first}", "ann")
    assert status == 200
    # Fees: January pro rata and February in advance per contract (art. 22.1).
    assert [x["gross_cents"] for x in detail["lines"]] == [667, 1250, 1064, 1995, 745, 1425, 750]
    assert detail["vat"] == [
        {"rate": "standard", "percent": 21, "net_cents": 6526, "vat_cents": 1370}
    ]
    status, kind, pdf = await client.get(f"/invoices/{first}.pdf", "ann")
    assert (status, kind, pdf[:5]) == (200, "application/pdf", b"%PDF-")
    text = pdf_text(pdf)
    for expected in (
        b"Invoice F-2025-000001",
        b"Ann de Vries",
        b"\x80 78,96",
        b"\x80 13,70",
        b"Replacement for lost card ANN02",
    ):
        assert expected in text


@pytest.mark.parametrize(
    "path",
    [
        "/invoices/{ann}",
        "/invoices/{ann}.pdf",
        "/invoices/999999",
        "/invoices/999999.pdf",
        "/invoices/abc",
        "/invoices/-1",
        "/invoices/1e3",
        "/invoices/99999999999999999999",
        "/invoices/{ann}.PDF",
        "/invoices/{ann}.pdf.pdf",
        "/invoices/%27%20OR%201=1",
    ],
)
async def test_other_accounts_and_bad_ids_are_not_found(client: Client, path: str) -> None:
    ann = (await client.json("/invoices", "ann"))[1]["items"][0]["id"]
    status, kind, body = await client.get(path.format(ann=ann), "bob")
    assert (status, kind) == (404, "application/json")
    assert b"F-2025" not in body


@pytest.mark.parametrize(
    "query",
    [
        "month=2025-13",
        "month=%27%20OR%201=1",
        "month=2025-1",
        "limit=0",
        "limit=201",
        "after=-1",
        "month=" + "9" * 1_000,
    ],
)
async def test_bad_queries_are_refused(client: Client, query: str) -> None:
    status, body = await client.json(f"/invoices?{query}", "ann")
    assert (status, body["error"]) == (400, "invalid")
    assert (await client.json(f"/credit-notes?{query}", "bob"))[0] == 400


async def test_a_token_is_needed(client: Client) -> None:
    assert (await client.get("/invoices", None))[0] == 401
    assert (await client.get("/invoices/1.pdf", None))[0] == 401
