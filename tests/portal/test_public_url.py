"""Reset links never come from the Host header: the public URL, else the address served on.

The attack: ask for a reset of the victim's address with `Host: evil.example`; a link built
from that header sends the victim's token to the attacker's server when the mail is opened.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from backend.api import create_app
from backend.cli import parser
from backend.portal.publicurl import ListenAddress, describe_links, parse_public_url
from backend.store import Store

from .client import Portal
from .conftest import Clock
from .seed import seed

FORGED = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
_LINK = re.compile(r"^(\S+)/portal/reset/(\S+)$", re.MULTILINE)


async def forged_reset(http: aiohttp.ClientSession, base: str, email: str) -> None:
    """The attacker's request: a reset for `email` with a forged Host header."""
    async with http.get(base + "/portal/reset", headers=FORGED) as page:
        match = _CSRF.search(await page.text())
        assert match is not None
    form = {"csrf": match.group(1), "email": email}
    async with http.post(base + "/portal/reset", data=form, headers=FORGED) as answer:
        assert answer.status == 200


def mailed_link(outbox: Path) -> tuple[str, str]:
    """(the link's base, its /portal/reset/… path) from the one mail in the outbox."""
    (mail,) = outbox.iterdir()
    match = _LINK.search(mail.read_text())
    assert match is not None, mail.read_text()
    return match.group(1), f"/portal/reset/{match.group(2)}"


@asynccontextmanager
async def portal(store: Store, outbox: Path, **settings: object) -> AsyncIterator[Portal]:
    app = create_app(store, clock=Clock(), portal_outbox=outbox, **settings)  # type: ignore[arg-type]
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        yield Portal(client)


async def test_without_a_public_url_the_link_names_the_address_served_on(
    store: Store, tmp_path: Path
) -> None:
    seeded = await seed(store)
    outbox = tmp_path / "outbox"
    async with portal(store, outbox) as victim_site:
        client = victim_site.client
        await forged_reset(client.session, str(client.make_url("")), seeded.emails["chris"])
        base, path = mailed_link(outbox)
        assert base == f"http://127.0.0.1:{client.port}"  # the socket's address, not evil.example
        assert (await victim_site.page(path))[0] == 200  # and the link works


async def test_a_wildcard_bind_uses_the_local_address_the_request_arrived_on(
    store: Store, tmp_path: Path
) -> None:
    seeded = await seed(store)
    outbox = tmp_path / "outbox"
    # As `serve --host 0.0.0.0 --port 0` would pass it: neither names the link's host or port.
    async with portal(store, outbox, listen=ListenAddress("0.0.0.0", 0)) as site:
        await forged_reset(
            site.client.session, str(site.client.make_url("")), seeded.emails["chris"]
        )
        assert mailed_link(outbox)[0] == f"http://127.0.0.1:{site.client.port}"


async def test_with_a_public_url_the_link_names_it_whatever_the_host_header(
    store: Store, tmp_path: Path
) -> None:
    seeded = await seed(store)
    outbox = tmp_path / "outbox"
    settings = {
        "public_url": "https://Portal.Example.com/eflux/",
        "listen": ListenAddress("::1", 1),
    }
    async with portal(store, outbox, **settings) as site:
        await forged_reset(
            site.client.session, str(site.client.make_url("")), seeded.emails["anna"]
        )
        base, path = mailed_link(outbox)
        assert base == "https://portal.example.com/eflux"  # normalised; a proxy strips /eflux
        assert (await site.page(path))[0] == 200


@pytest.mark.parametrize(
    ("text", "normalised"),
    [
        ("https://portal.example.com", "https://portal.example.com"),
        ("HTTPS://Portal.Example.COM:8443/", "https://portal.example.com:8443"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://[::1]:8080/e-flux/", "http://[::1]:8080/e-flux"),
    ],
)
def test_public_url_is_normalised(text: str, normalised: str) -> None:
    assert parse_public_url(text) == normalised


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("portal.example.com", "http:// or https://"),
        ("ftp://portal.example.com", "http:// or https://"),
        ("javascript:alert(1)", "http:// or https://"),
        ("https://", "names no host"),
        ("https:///path", "names no host"),
        ("https://portal.example.com/?next=1", "query"),
        ("https://portal.example.com/?", "query"),
        ("https://portal.example.com/#top", "fragment"),
        ("https://user:secret@portal.example.com", "user name or password"),
        ("https://portal.example.com:99999", "out of range"),
        ("https://portal.example.com:0", "port 0"),
        ("https://portal.example.com/a b", "spaces"),
    ],
)
def test_a_bad_public_url_is_refused(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=re.escape(problem)):
        parse_public_url(text)


async def test_create_app_refuses_a_bad_public_url(store: Store, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="query"):
        create_app(store, portal_outbox=tmp_path, public_url="https://x.example/?a=1")


def test_serve_takes_the_public_url_from_the_option_or_the_environment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("EFLUX_BACKEND_PUBLIC_URL", raising=False)
    assert parser().parse_args(["serve"]).public_url is None
    monkeypatch.setenv("EFLUX_BACKEND_PUBLIC_URL", "https://env.example/")
    assert parser().parse_args(["serve"]).public_url == "https://env.example"
    args = parser().parse_args(["serve", "--public-url", "https://option.example"])
    assert args.public_url == "https://option.example"  # the option wins
    with pytest.raises(SystemExit):
        parser().parse_args(["serve", "--public-url", "https://option.example/#x"])
    assert "must not have a fragment" in capsys.readouterr().err
    monkeypatch.setenv("EFLUX_BACKEND_PUBLIC_URL", "portal.example.com")
    with pytest.raises(SystemExit):  # a bad environment value is a usage error too
        parser().parse_args(["serve"])
    assert "http:// or https://" in capsys.readouterr().err


def test_the_start_line_says_where_links_point() -> None:
    assert "https://p.example" in describe_links("https://p.example", "127.0.0.1", 8080)
    unset = describe_links(None, "127.0.0.1", 8080)
    assert "http://127.0.0.1:8080" in unset
    assert "--public-url" in unset
    assert "$EFLUX_BACKEND_PUBLIC_URL" in unset
    assert "http://[::1]:8080" in describe_links(None, "::1", 8080)
    assert "local address each request arrived on" in describe_links(None, "0.0.0.0", 8080)


@asynccontextmanager
async def served(
    tmp_path: Path, port: int, env: dict[str, str]
) -> AsyncIterator[tuple[str, Path, asyncio.subprocess.Process]]:
    """`eflux-backend serve` as a real process on 127.0.0.1:port over a seeded database."""
    db = str(tmp_path / "serve.sqlite")
    cli = [sys.executable, "-m", "backend.cli", "--database", db]
    seeder = await asyncio.create_subprocess_exec(*cli, "seed-demo", stdout=asyncio.subprocess.PIPE)
    out, _ = await seeder.communicate()
    assert seeder.returncode == 0
    email = next(iter(json.loads(out)["users"]))
    outbox = tmp_path / "outbox"
    proc = await asyncio.create_subprocess_exec(
        *cli,
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        env={**os.environ, "EFLUX_PORTAL_OUTBOX": str(outbox), **env},
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stderr is not None
        # The start line comes before the socket is bound: read it, then wait for the socket.
        line = ""
        while "password-reset links" not in line:
            raw = await asyncio.wait_for(proc.stderr.readline(), 30)
            assert raw, "serve ended without saying where reset links point"
            line = raw.decode()
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            for _ in range(400):
                try:
                    async with http.get(f"http://127.0.0.1:{port}/api/v1/health"):
                        break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.05)
            else:
                pytest.fail("eflux-backend serve did not answer")
            await forged_reset(http, f"http://127.0.0.1:{port}", email)
        yield line, outbox, proc
    finally:
        proc.terminate()
        await proc.wait()


async def test_serve_mails_links_to_its_own_address_and_says_so_at_start(
    tmp_path: Path, unused_port: Callable[[], int]
) -> None:
    port = unused_port()
    env = {"EFLUX_BACKEND_PUBLIC_URL": ""}  # empty: not set
    async with served(tmp_path, port, env) as (line, outbox, _):
        assert "WARNING" in line
        assert f"http://127.0.0.1:{port}" in line
        assert "--public-url" in line
        assert mailed_link(outbox)[0] == f"http://127.0.0.1:{port}"


async def test_serve_mails_links_to_the_public_url_from_the_environment(
    tmp_path: Path, unused_port: Callable[[], int]
) -> None:
    env = {"EFLUX_BACKEND_PUBLIC_URL": "https://portal.example.com"}
    async with served(tmp_path, unused_port(), env) as (line, outbox, _):
        assert "password-reset links point to https://portal.example.com" in line
        assert mailed_link(outbox)[0] == "https://portal.example.com"
