"""The back end behind a real reverse proxy on loopback: per-client login budgets and logs.

Three loopback addresses stand for three machines (Linux routes all of 127/8 to `lo`): the
proxy talks to the back end from 127.0.0.1 (the one trusted address), clients A and B reach
the back end only through the proxy, from 127.0.0.3 and 127.0.0.4, and client D talks to the
back end directly from 127.0.0.5 with forged X-Forwarded-For headers.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from backend.api import create_app
from backend.portal.clientaddr import ProxyTrust, access_logger
from backend.store import Store

from .conftest import Clock
from .seed import seed

LIMIT = 5  # PortalConfig.login_failures
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "host", "content-length"}
ACCESS = "tests.portal.access"


@asynccontextmanager
async def serving(app: web.Application, **runner: object) -> AsyncIterator[str]:
    handle = web.AppRunner(app, **runner)  # type: ignore[arg-type]
    await handle.setup()
    try:
        await web.TCPSite(handle, "127.0.0.1", 0).start()
        yield f"http://127.0.0.1:{handle.addresses[0][1]}"
    finally:
        await handle.cleanup()


def reverse_proxy(
    upstream: str, outbound: aiohttp.ClientSession, proto: str | None = None
) -> web.Application:
    """A minimal nginx-like proxy: appends its peer to X-Forwarded-For and passes the rest.

    With `proto` it also sets X-Forwarded-Proto (nginx: `$scheme`), as a proxy ending TLS does.
    """

    async def forward(request: web.Request) -> web.Response:
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        seen = request.headers.get("X-Forwarded-For")
        headers["X-Forwarded-For"] = f"{seen}, {request.remote}" if seen else str(request.remote)
        if proto is not None:
            headers["X-Forwarded-Proto"] = proto
        async with outbound.request(
            request.method,
            upstream + request.path_qs,
            headers=headers,
            data=await request.read(),
            allow_redirects=False,
        ) as answer:
            body = await answer.read()
            passed = [(k, v) for k, v in answer.headers.items() if k.lower() not in _HOP_BY_HOP]
            return web.Response(status=answer.status, body=body, headers=passed)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", forward)
    return app


def client(address: str) -> aiohttp.ClientSession:
    """A browser-like session on its own loopback address (cookies kept, even for an IP host)."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(local_addr=(address, 0)),
        cookie_jar=aiohttp.CookieJar(unsafe=True),
    )


@dataclass
class Setup:
    backend: str
    proxy: str


async def wrong_login(
    session: aiohttp.ClientSession, base: str, email: str, forged: str | None = None
) -> int:
    headers = {"X-Forwarded-For": forged} if forged else {}
    async with session.get(base + "/portal/login", headers=headers) as page:
        match = _CSRF.search(await page.text())
        assert match is not None
    form = {"csrf": match.group(1), "email": email, "password": "not the password"}
    async with session.post(
        base + "/portal/login", data=form, headers=headers, allow_redirects=False
    ) as answer:
        return answer.status


@pytest.fixture
def loopback_aliases() -> None:
    import socket

    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.5", 0))
        except OSError:
            pytest.skip("this host cannot bind 127.0.0.5 (loopback aliases)")


async def test_clients_behind_a_trusted_proxy_have_their_own_budget_and_no_one_can_forge_one(
    store: Store,
    tmp_path: Path,
    loopback_aliases: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    trust = ProxyTrust.parse("127.0.0.1")
    app = create_app(store, clock=Clock(), portal_outbox=tmp_path / "outbox", proxies=trust)
    caplog.set_level(logging.INFO, logger=ACCESS)
    async with (
        serving(
            app, access_log_class=access_logger(trust), access_log=logging.getLogger(ACCESS)
        ) as backend,
        aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(local_addr=("127.0.0.1", 0)),
            cookie_jar=aiohttp.DummyCookieJar(),
        ) as outbound,
        serving(reverse_proxy(backend, outbound)) as proxy,
        client("127.0.0.3") as a,
        client("127.0.0.4") as b,
        client("127.0.0.5") as d,
    ):
        # A uses up its address budget (a new e-mail each time, so only the address counts).
        for n in range(LIMIT):
            assert await wrong_login(a, proxy, f"a{n}@x.test") == 401
        assert await wrong_login(a, proxy, "a-last@x.test") == 429
        # B, behind the same proxy, still has all of its own.
        for n in range(LIMIT):
            assert await wrong_login(b, proxy, f"b{n}@x.test") == 401
        assert await wrong_login(b, proxy, "b-last@x.test") == 429

        # D, direct and untrusted, names a fresh address each time: all counted on its own.
        for n in range(LIMIT):
            assert await wrong_login(d, backend, f"d{n}@x.test", forged=f"198.51.100.{n}") == 401
        assert await wrong_login(d, backend, "d-last@x.test", forged="198.51.100.99") == 429
        # Through the proxy, a forged header sits left of the proxy's own entry: no effect.
        assert await wrong_login(a, proxy, "a-forged@x.test", forged="198.51.100.200") == 429

    # The access log names each client (and the proxy it came through), never a forged one.
    lines = [r.getMessage() for r in caplog.records if r.name == ACCESS and "POST" in r.message]
    clients = [line.split(" ", 1)[0] for line in lines]
    assert clients == ["127.0.0.3"] * (LIMIT + 1) + ["127.0.0.4"] * (LIMIT + 1) + ["127.0.0.5"] * (
        LIMIT + 1
    ) + ["127.0.0.3"]
    assert all(" via 127.0.0.1 " in line for line in lines if not line.startswith("127.0.0.5"))
    assert not any("198.51.100." in line for line in lines)


async def test_without_trusted_proxies_everyone_behind_the_proxy_shares_one_budget(
    store: Store,
    tmp_path: Path,
    loopback_aliases: None,
) -> None:
    # The default (nothing trusted): why the setting exists.
    app = create_app(store, clock=Clock(), portal_outbox=tmp_path / "outbox")
    async with (
        serving(app) as backend,
        aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(local_addr=("127.0.0.1", 0)),
            cookie_jar=aiohttp.DummyCookieJar(),
        ) as outbound,
        serving(reverse_proxy(backend, outbound)) as proxy,
        client("127.0.0.3") as a,
        client("127.0.0.4") as b,
    ):
        for n in range(LIMIT):
            assert await wrong_login(a, proxy, f"a{n}@x.test") == 401
        assert await wrong_login(b, proxy, "b0@x.test") == 429


async def test_a_tls_proxy_makes_the_cookie_secure_and_the_reset_link_is_the_public_url(
    store: Store,
    tmp_path: Path,
    loopback_aliases: None,
) -> None:
    seeded = await seed(store)
    email = next(iter(seeded.emails.values()))
    outbox = tmp_path / "outbox"
    app = create_app(
        store,
        clock=Clock(),
        portal_outbox=outbox,
        proxies=ProxyTrust.parse("127.0.0.1"),
        public_url="https://portal.example.com",  # links never follow the request's Host
    )
    async with (
        serving(app) as backend,
        aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(local_addr=("127.0.0.1", 0)),
            cookie_jar=aiohttp.DummyCookieJar(),
        ) as outbound,
        serving(reverse_proxy(backend, outbound, proto="https")) as proxy,
        # The browser speaks https to the proxy: it keeps and sends Secure cookies.
        aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(local_addr=("127.0.0.3", 0)),
            cookie_jar=aiohttp.CookieJar(unsafe=True, treat_as_secure_origin=[proxy]),
        ) as a,
        client("127.0.0.5") as d,
    ):
        async with a.get(proxy + "/portal/login") as page:
            assert "Secure" in page.headers["Set-Cookie"]
            match = _CSRF.search(await page.text())
            assert match is not None
        form = {"csrf": match.group(1), "email": email}
        async with a.post(proxy + "/portal/reset", data=form, allow_redirects=False) as answer:
            assert answer.status == 200
        (mail,) = outbox.iterdir()
        assert "\nhttps://portal.example.com/portal/reset/" in mail.read_text()
        # A direct, untrusted client claiming https gets the plain scheme.
        forged = {"X-Forwarded-Proto": "https"}
        async with d.get(backend + "/portal/login", headers=forged) as page:
            assert "Secure" not in page.headers["Set-Cookie"]
