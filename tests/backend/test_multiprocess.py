"""Issue 20.3: three `eflux-backend serve` processes on one PostgreSQL behind HAProxy.

50 sites sync their sessions, portal users log in (and one address guesses passwords), and two
`eflux-backend invoice` processes run the month at once, while one serve process is killed
with SIGKILL half-way. Afterwards: every session is stored exactly once, the invoice numbers of
each series are gapless, only one run of the month exists, the login budget held across
processes, a portal login stays valid on every process, and every 5xx any client saw came from
the killed process (HAProxy names the server that answered in `X-Served-By`).

HAProxy (Debian's `haproxy`, installed by scripts/ensure-system-packages) retries a request
whose server refused the connection or closed it without an answer on another server
(`retry-on conn-failure empty-response`, `option redispatch`) and takes a server out after one
failed health check (every 300 ms), so most requests to the killed process never show a 5xx.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from backend.store import AccountKind, CardKind, Role, SessionIn, Store
from tests.portal.seed import PLANS
from tests.support.ports import free_port

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

HAPROXY = shutil.which("haproxy") or next(
    (p for p in ("/usr/sbin/haproxy",) if os.access(p, os.X_OK)), None
)
SITES = 50
BATCHES = 4  # per site
PER_BATCH = 20
PASSWORD = "correct horse battery"
LOGIN_LIMIT = 5  # PortalConfig.login_failures
ADDED = datetime(2026, 10, 1, tzinfo=UTC)
MONTH_START = datetime(2026, 11, 2, tzinfo=UTC)
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')

HAPROXY_CFG = """\
global
    maxconn 2000
    log stdout format raw local0
    tune.bufsize 65536
defaults
    mode http
    log global
    option httplog
    timeout connect 1s
    timeout client 30s
    timeout server 30s
    timeout check 5s
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response
    option forwardfor
    option http-buffer-request
frontend web
    bind 127.0.0.1:{port}
    http-request set-header X-Forwarded-Proto http
    default_backend eflux
backend eflux
    balance roundrobin
    option httpchk GET /api/v1/health
    http-response set-header X-Served-By %[srv_name]
    default-server inter 300ms fall 1 rise 2
{servers}
"""


@dataclass
class Seen:
    """What the clients saw: every status with the server that answered it."""

    answers: list[tuple[int, str]] = field(default_factory=list)
    batches_done: int = 0
    a_third_done: asyncio.Event = field(default_factory=asyncio.Event)  # time to kill one

    def note(self, answer: aiohttp.ClientResponse) -> None:
        self.answers.append((answer.status, answer.headers.get("X-Served-By", "proxy")))


async def _seed(url: str) -> tuple[list[str], list[str]]:
    """50 accounts, each with a site (token), a charge point, a card and a card plan; and a
    portal user on the first five. → (site tokens, portal e-mails)."""
    store = await Store.open(url)
    try:
        for plan in PLANS:
            await store.plans.save_plan(plan, now=ADDED)
        tokens, emails = [], []
        for n in range(SITES):
            account = await store.accounts.create_account(
                AccountKind.CONSUMER,
                f"Site owner {n}",
                now=ADDED,
                email=f"o{n}@mp.test",
                address="Teststraat 1, Utrecht",
            )
            site = await store.sites.create_site(account.id, f"Site {n}", now=ADDED)
            await store.sites.create_charge_point(account.id, "CP1", now=ADDED, site_id=site.id)
            card = await store.cards.create_card(
                f"MPCARD{n:03d}", CardKind.SUBSCRIPTION, now=ADDED, account_id=account.id
            )
            sub = await store.plans.subscribe(
                account.id,
                "CARD-BUNDLE-100",
                applied_on=date(2026, 9, 1),
                now=ADDED,
                starts_on=date(2026, 10, 1),
                status="active",
                card_id=card.id,
            )
            await store.db.execute(  # accepted, as tests/portal/seed.py does
                "UPDATE subscriptions SET accepted_on = '2026-09-02', immediate_start = 1"
                " WHERE id = ?",
                sub.id,
            )
            tokens.append((await store.accounts.create_site_token(site, "mp", now=ADDED)).secret)
            if n < 5:
                await store.accounts.create_user(
                    account.id, f"u{n}@mp.test", Role.CUSTOMER, now=ADDED, password=PASSWORD
                )
                emails.append(f"u{n}@mp.test")
        return tokens, emails
    finally:
        await store.close()


def _batch(site: int, number: int) -> str:
    sessions = []
    for k in range(PER_BATCH):
        start = MONTH_START + timedelta(hours=number * PER_BATCH + k)
        item = SessionIn(
            "CP1",
            f"s{site}-{number}-{k}",
            1,
            f"MPCARD{site:03d}",
            start,
            start + timedelta(minutes=30),
            0.0,
            3000.0,
            3000.0,
        )
        sessions.append(
            f'{{"charge_point_id":"CP1","transaction_id":"{item.transaction_id}",'
            f'"connector_id":1,"id_tag":"{item.id_tag}","started_at":"{start.isoformat()}",'
            f'"stopped_at":"{item.stopped_at.isoformat()}","meter_start_wh":0.0,'
            f'"meter_stop_wh":3000.0,"energy_wh":3000.0}}'
        )
    return '{"sessions":[' + ",".join(sessions) + "]}"


@asynccontextmanager
async def _process(
    argv: list[str], ready: str | None, log: Path | None = None
) -> AsyncIterator[asyncio.subprocess.Process]:
    out = log.open("wb") if log is not None else asyncio.subprocess.DEVNULL
    proc = await asyncio.create_subprocess_exec(*argv, stdout=out, stderr=out)
    try:
        if ready is not None:
            async with aiohttp.ClientSession() as http:
                for _ in range(600):
                    try:
                        async with http.get(ready) as answer:
                            if answer.status == 200:
                                break
                    except aiohttp.ClientConnectionError:
                        pass
                    assert proc.returncode is None, f"{argv[:4]} ended"
                    await asyncio.sleep(0.05)
                else:
                    raise AssertionError(f"{argv[:4]} did not answer")
        yield proc
    finally:
        if proc.returncode is None:
            proc.terminate()
            await proc.wait()


async def _sync_site(
    http: aiohttp.ClientSession, proxy: str, token: str, site: int, seen: Seen
) -> None:
    """A site's sync: each batch until it is stored (as the local outbox retries)."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    for number in range(BATCHES):
        body = _batch(site, number)
        while True:
            try:
                async with http.post(
                    f"{proxy}/api/v1/sync/sessions", data=body, headers=headers
                ) as answer:
                    seen.note(answer)
                    if answer.status == 200:
                        break
                    assert answer.status >= 500, await answer.text()
            except aiohttp.ClientConnectionError:
                seen.answers.append((0, "connection"))
            await asyncio.sleep(0.1)
        seen.batches_done += 1
        if seen.batches_done >= SITES * BATCHES // 3:
            seen.a_third_done.set()


async def _login(
    http: aiohttp.ClientSession, proxy: str, email: str, password: str, seen: Seen
) -> int:
    async with http.get(f"{proxy}/portal/login") as page:
        seen.note(page)
        if page.status != 200:
            return page.status
        match = _CSRF.search(await page.text())
    assert match is not None
    form = {"csrf": match.group(1), "email": email, "password": password}
    async with http.post(f"{proxy}/portal/login", data=form, allow_redirects=False) as answer:
        seen.note(answer)
        return answer.status


def _browser(address: str) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(local_addr=(address, 0)),
        cookie_jar=aiohttp.CookieJar(unsafe=True),
    )


async def _portal_user(proxy: str, email: str, address: str, seen: Seen) -> None:
    """A user logs in once; the session then works on whichever process answers."""
    async with _browser(address) as http:
        status = await _login(http, proxy, email, PASSWORD, seen)
        while status >= 500:  # counted in `seen`; a person would try again
            await asyncio.sleep(0.2)
            status = await _login(http, proxy, email, PASSWORD, seen)
        assert status == 303, status
        for _ in range(9):
            async with http.get(f"{proxy}/portal/dashboard", allow_redirects=False) as page:
                seen.note(page)
                if page.status < 500:
                    assert page.status == 200, (page.status, page.headers.get("Location"))
            await asyncio.sleep(0.2)


async def _guesser(proxy: str, seen: Seen) -> list[int]:
    """One address guessing passwords: its budget is one, whichever process answers."""
    answers = []
    async with _browser("127.0.0.9") as http:
        for n in range(3 * LOGIN_LIMIT):
            answers.append(await _login(http, proxy, f"u{n % 5}@mp.test", "wrong guess", seen))
            await asyncio.sleep(0.05)
    return answers


@pytest.mark.skipif(
    HAPROXY is None,
    reason="haproxy is not installed (Debian package "
    "'haproxy'; scripts/ensure-system-packages installs it as root)",
)
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_three_processes_behind_haproxy(schema_url: str, tmp_path: Path) -> None:
    tokens, emails = await _seed(schema_url)
    ports = [free_port() for _ in range(3)]
    proxy_port = free_port()
    servers = "\n".join(f"    server s{i} 127.0.0.1:{p} check" for i, p in enumerate(ports))
    cfg = tmp_path / "haproxy.cfg"
    cfg.write_text(HAPROXY_CFG.format(port=proxy_port, servers=servers))
    proxy = f"http://127.0.0.1:{proxy_port}"
    seen = Seen()
    cli = [sys.executable, "-m", "backend.cli", "--database", schema_url]
    async with AsyncExitStack() as stack:
        serve = [
            await stack.enter_async_context(
                _process(
                    [
                        *cli,
                        "serve",
                        "--port",
                        str(p),
                        "--trusted-proxies",
                        "127.0.0.1",
                        "--public-url",
                        proxy,
                    ],
                    f"http://127.0.0.1:{p}/api/v1/health",
                )
            )
            for p in ports
        ]
        await stack.enter_async_context(
            _process(
                [str(HAPROXY), "-db", "-f", str(cfg)],
                f"{proxy}/api/v1/health",
                tmp_path / "haproxy.log",
            )
        )
        async with aiohttp.ClientSession() as http:
            syncing = [
                asyncio.create_task(_sync_site(http, proxy, token, n, seen))
                for n, token in enumerate(tokens)
            ]
            users = [
                asyncio.create_task(_portal_user(proxy, email, f"127.0.0.{20 + n}", seen))
                for n, email in enumerate(emails)
            ]
            guesses = asyncio.create_task(_guesser(proxy, seen))
            await seen.a_third_done.wait()
            runs = [
                await stack.enter_async_context(
                    _process([*cli, "invoice", "--month", "2026-11"], None)
                )
                for _ in range(2)
            ]
            serve[1].send_signal(signal.SIGKILL)
            await asyncio.gather(*syncing, *users)
            guessed = await guesses
            assert [await run.wait() for run in runs] == [0, 0]

    killed = "s1"
    fives = Counter(server for status, server in seen.answers if status >= 500 or status == 0)
    assert set(fives) <= {killed}, fives  # nothing but the killed process failed
    assert killed in {server for _, server in seen.answers}  # it was in rotation before
    print(f"answers by server and status: {sorted(Counter(seen.answers).items())}")
    # The guesser's budget held across the processes: never more than the limit refused as a
    # wrong password, the rest blocked (a guess retried after the kill may have used a slot).
    assert guessed.count(401) <= LOGIN_LIMIT, guessed
    assert guessed.count(429) >= 2 * LOGIN_LIMIT, guessed
    assert set(guessed) <= {401, 429}, guessed

    store = await Store.open(schema_url)
    try:
        rows = await store.db.fetch("SELECT origin, transaction_id FROM sessions")
        keys = Counter((r["origin"], r["transaction_id"]) for r in rows)
        sites = {int(r["id"]) for r in await store.db.fetch("SELECT id FROM sites")}
        expected = {
            (f"site:{site_id}", f"s{n}-{b}-{k}")
            for n, site_id in enumerate(sorted(sites))
            for b in range(BATCHES)
            for k in range(PER_BATCH)
        }
        assert set(keys) == expected
        assert set(keys.values()) == {1}  # stored once, retries and all
        numbers = [r["number"] for r in await store.db.fetch("SELECT number FROM invoices")]
        assert numbers, "the run issued nothing"
        series: dict[str, list[int]] = {}
        for number in numbers:
            prefix, _, value = number.rpartition("-")
            series.setdefault(prefix, []).append(int(value))
        for prefix, values in series.items():
            assert sorted(values) == list(range(1, len(values) + 1)), (prefix, sorted(values))
        assert (
            await store.db.fetchval("SELECT count(*) FROM invoice_runs WHERE month = '2026-11'")
            == 1
        )
    finally:
        await store.close()
