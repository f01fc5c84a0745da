"""Issue 19.5 in the portal: a top-up goes through the payment provider (sim/payments) and the
balance rises only when the provider says paid; the portal lists pending, paid, failed and
expired top-ups; full-width digits, other accounts' ids and a provider that is down are refused
without a payment left behind. Both engines, real sockets, no browser."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest_asyncio

from backend.store import AccountKind, Store
from tests.backend.conftest import NOW
from tests.backend.payflow import PASSWORD, PayWorld, pay_world

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
_PAY = re.compile(r'id="pay" href="([^"]+)"')
_STATUS = re.compile(r'id="status" class="status status-([a-z]+)"')


class Browser:
    """Cookies and CSRF tokens like a browser, over plain HTTP."""

    def __init__(self, world: PayWorld, http: aiohttp.ClientSession) -> None:
        self.world, self.http = world, http

    async def get(self, path: str) -> tuple[int, str]:
        async with self.http.get(self.world.url(path), allow_redirects=False) as response:
            return response.status, await response.text()

    async def post(self, path: str, form: dict[str, str]) -> tuple[int, str, str]:
        _, page = await self.get("/portal/charge-points" if path != "/portal/login" else path)
        match = _CSRF.search(page)
        assert match is not None
        async with self.http.post(
            self.world.url(path), data={"csrf": match.group(1), **form}, allow_redirects=False
        ) as response:
            return response.status, response.headers.get("Location", ""), await response.text()


@pytest_asyncio.fixture
async def browser(store: Store, tmp_path: Path) -> AsyncIterator[Browser]:
    async with (
        pay_world(store, tmp_path / "outbox") as world,
        aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http,
    ):
        me = Browser(world, http)
        status, location, _ = await me.post(
            "/portal/login", {"email": world.email, "password": PASSWORD}
        )
        assert (status, location) == (303, "/portal/dashboard")
        yield me


async def _top_up(me: Browser, amount: str) -> str:
    status, location, _ = await me.post("/portal/prepaid/top-up", {"amount": amount})
    assert status == 303, location
    assert re.fullmatch(r"/portal/top-ups/[0-9]+", location)
    return location


async def _status(me: Browser, page_path: str) -> str:
    status, page = await me.get(page_path)
    assert status == 200
    found = _STATUS.search(page)
    assert found is not None
    return found.group(1)


async def _settle(me: Browser, page_path: str, outcome: str) -> None:
    """Open the top-up's page, follow its pay link, press a button at the provider."""
    _, page = await me.get(page_path)
    link = _PAY.search(page)
    assert link is not None
    assert link.group(1).startswith(me.world.provider_url + "/checkout/tr_")
    async with me.http.get(link.group(1)) as response:
        assert f'id="{outcome}"' in await response.text()
    async with me.http.post(f"{link.group(1)}/{outcome}", allow_redirects=False) as response:
        assert response.headers["Location"] == me.world.url(page_path)  # back to our page


async def test_top_up_pays_through_the_provider_and_lists_every_outcome(browser: Browser) -> None:
    me = browser
    first = await _top_up(me, "25,00")
    assert await _status(me, first) == "open"  # shown as pending
    assert await me.world.balance() == 0
    await _settle(me, first, "pay")
    assert await _status(me, first) == "paid"
    assert await me.world.balance() == 2500
    paths = [await _top_up(me, amount) for amount in ("10", "11", "12")]
    failed, expired, pending = paths
    await _settle(me, failed, "fail")
    await _settle(me, expired, "expire")
    status, page = await me.get("/portal/top-ups")
    assert status == 200
    rows = re.findall(
        r'<tr id="top-up-([0-9]+)">.*?class="status status-([a-z]+)">([^<]+)<', page, re.S
    )
    shown = {f"/portal/top-ups/{pid}": (code, text) for pid, code, text in rows}
    assert shown == {
        first: ("paid", "paid"),
        failed: ("failed", "failed"),
        expired: ("expired", "expired"),
        pending: ("open", "pending"),
    }
    assert await me.world.balance() == 2500  # only the paid one
    status, page = await me.get("/portal/top-ups?lang=nl")
    assert status == 200
    for dutch in ("betaald", "mislukt", "verlopen", "in behandeling"):
        assert f">{dutch}<" in page
    status, page = await me.get("/portal/charge-points")
    assert 'href="/portal/top-ups"' in page


async def test_hostile_amounts_and_ids_are_refused_and_store_nothing(
    browser: Browser,
    store: Store,
) -> None:
    me = browser
    for amount in (
        "\uff15\uff10\uff10",
        "50\u00b2",
        "\u0665\u0660",
        "500,001",
        "0",
        "-5",
        "0,99",
        "12.345",
        "1e3",
        "x\x00",
    ):
        status, _, _ = await me.post("/portal/prepaid/top-up", {"amount": amount})
        assert status == 400, amount
    assert await store.db.fetchval("SELECT count(*) FROM payments") == 0
    other = await store.accounts.create_account(AccountKind.CONSUMER, "Other", now=NOW)
    async with me.world.http.post(me.world.url(f"/api/v1/accounts/{other.id}/top-ups")) as r:
        assert r.status == 401  # no token: the API is not the portal's back door
    theirs = await store.db.fetchval(
        "INSERT INTO payments (account_id, amount_cents, status, created_by, created_at,"
        " updated_at) VALUES (?, 1000, 'open', 'test', 'x', 'x') RETURNING id",
        other.id,
    )
    for path in (f"/portal/top-ups/{theirs}", "/portal/top-ups/\u00b2", "/portal/top-ups/1x"):
        status, _ = await me.get(path)
        assert status == 404, path


async def test_provider_down_shows_a_503_page_and_leaves_no_payment(
    browser: Browser,
    store: Store,
) -> None:
    me = browser
    me.world.provider.down = True
    status, _, page = await me.post("/portal/prepaid/top-up", {"amount": "20"})
    assert status == 503
    assert "cannot be reached" in page
    assert await store.db.fetchval("SELECT count(*) FROM payments") == 0
    assert await me.world.balance() == 0
