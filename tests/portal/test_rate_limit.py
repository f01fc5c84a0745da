"""The login/reset rate limit lives in the database: shared by processes, kept across restarts.

Every test runs on SQLite (one file) and PostgreSQL (one schema). "Another process" is another
`Store.open` of the same database (its own connection or pool) with its own app and limiter.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer

from backend.api import create_app
from backend.portal.ratelimit import RateLimiter
from backend.store import Store

from .client import Portal
from .conftest import Clock
from .seed import NOW, PASSWORD, Seeded, seed

LIMIT, WINDOW = 5, timedelta(minutes=15)  # PortalConfig's defaults
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest_asyncio.fixture
async def seeded(schema_url: str) -> Seeded:
    store = await Store.open(schema_url)
    try:
        return await seed(store)
    finally:
        await store.close()


@asynccontextmanager
async def backend(url: str, clock: Clock, outbox: Path) -> AsyncIterator[Portal]:
    """One back-end process: its own store on `url`, API + portal, an HTTP client."""
    store = await Store.open(url)
    try:
        app = create_app(store, clock=clock, portal_outbox=outbox)
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            yield Portal(client)
    finally:
        await store.close()


async def rows(url: str) -> list[dict[str, object]]:
    store = await Store.open(url, migrate=False)
    try:
        return await store.db.fetch("SELECT key_hash, hits, expires_at FROM portal_rate_limits")
    finally:
        await store.close()


async def test_the_limit_survives_a_restart(
    schema_url: str, seeded: Seeded, tmp_path: Path
) -> None:
    clock = Clock()
    email = seeded.emails["anna"]
    async with backend(schema_url, clock, tmp_path) as portal:
        for _ in range(LIMIT):
            assert (await portal.login(email, "wrong password"))[0] == 401
    async with backend(schema_url, clock, tmp_path) as restarted:
        status, _, html = await restarted.login(email)  # the right password, still too late
        assert status == 429
        assert "Too many failed attempts" in html
        clock.now += WINDOW
        status, location, _ = await restarted.login(email)
        assert (status, location) == (303, "/portal/dashboard")


async def test_two_processes_share_one_budget(
    schema_url: str, seeded: Seeded, tmp_path: Path
) -> None:
    clock = Clock()
    email = seeded.emails["anna"]
    async with (
        backend(schema_url, clock, tmp_path) as one,
        backend(schema_url, clock, tmp_path) as two,
    ):
        for portal in (one, two, one, two, one):
            assert (await portal.login(email, "wrong password"))[0] == 401
        assert (await one.login(email))[0] == 429
        assert (await two.login(email))[0] == 429
        # The client address (127.0.0.1 for both) is full too: another account is refused.
        assert (await two.login(seeded.emails["bob"]))[0] == 429


async def test_a_good_login_hands_its_slot_back(
    schema_url: str, seeded: Seeded, tmp_path: Path
) -> None:
    clock = Clock()
    async with backend(schema_url, clock, tmp_path) as portal:
        for _ in range(LIMIT - 1):
            assert (await portal.login(seeded.emails["anna"], "wrong password"))[0] == 401
        for _ in range(3):  # good logins from the same address do not use up its budget
            assert (await portal.login(seeded.emails["bob"]))[0] == 303
            portal.client.session.cookie_jar.clear()  # a new visitor from the same address
        assert (await portal.login(seeded.emails["anna"], "wrong password"))[0] == 401
        assert (await portal.login(seeded.emails["bob"]))[0] == 429  # the address is full now


async def test_a_good_login_clears_its_address_failures_only_for_its_email(
    schema_url: str,
    seeded: Seeded,
    tmp_path: Path,
) -> None:
    clock = Clock()
    email = seeded.emails["anna"]
    async with backend(schema_url, clock, tmp_path) as portal:
        for _ in range(LIMIT - 1):
            assert (await portal.login(email, "wrong password"))[0] == 401
        assert (await portal.login(email))[0] == 303
    hits = sorted(int(str(r["hits"])) for r in await rows(schema_url))
    assert hits == [LIMIT - 1]  # the e-mail's row is gone; the address keeps its 4 failures


async def test_the_window_ends_exactly_after_its_length(
    schema_url: str, seeded: Seeded, tmp_path: Path
) -> None:
    clock = Clock()
    email = seeded.emails["anna"]
    async with backend(schema_url, clock, tmp_path) as portal:
        for _ in range(LIMIT):
            assert (await portal.login(email, "wrong password"))[0] == 401
        clock.now = NOW + WINDOW - timedelta(microseconds=1)
        assert (await portal.login(email))[0] == 429
        clock.now = NOW + WINDOW  # a fresh window with the whole budget
        for _ in range(LIMIT):
            assert (await portal.login(email, "wrong password"))[0] == 401
        assert (await portal.login(email))[0] == 429


async def test_reset_requests_are_counted_across_processes(
    schema_url: str, seeded: Seeded, tmp_path: Path
) -> None:
    clock = Clock()
    outbox = tmp_path / "outbox"
    form = {"email": seeded.emails["anna"]}
    async with backend(schema_url, clock, outbox) as one, backend(schema_url, clock, outbox) as two:
        for portal in (one, two, one, two, one):
            assert (await portal.post("/portal/reset", form))[0] == 200
        assert (await two.post("/portal/reset", form))[0] == 429
    assert len(list(outbox.glob("*.eml"))) == LIMIT


async def test_concurrent_wrong_logins_at_the_limit(
    schema_url: str, seeded: Seeded, tmp_path: Path
) -> None:
    clock = Clock()
    email = seeded.emails["anna"]
    async with (
        backend(schema_url, clock, tmp_path) as one,
        backend(schema_url, clock, tmp_path) as two,
    ):
        assert (await one.login(email, "wrong password"))[0] == 401  # one slot used
        forms = []
        for portal in (one, two):
            _, html = await portal.page("/portal/login")
            match = _CSRF.search(html)
            assert match is not None
            forms.append(
                (portal, {"csrf": match.group(1), "email": email, "password": "wrong password"})
            )

        async def attempt(portal: Portal, form: dict[str, str]) -> int:
            async with portal.client.post(
                "/portal/login", data=form, allow_redirects=False
            ) as response:
                return response.status

        statuses = await asyncio.gather(*(attempt(*forms[i % 2]) for i in range(16)))
    assert sorted(statuses) == [401] * (LIMIT - 1) + [429] * (16 - LIMIT + 1)


async def test_concurrent_takes_on_two_stores_never_exceed_the_limit(schema_url: str) -> None:
    stores = [await Store.open(schema_url) for _ in range(2)]
    try:
        limiters = [RateLimiter(s.db, LIMIT, WINDOW) for s in stores]
        for round_ in range(3):  # a few rounds: the race must lose every time, not once
            now = NOW + round_ * WINDOW
            taken = await asyncio.gather(
                *(
                    limiters[i % 2].take([f"email:race{round_}", "ip:203.0.113.9"], now)
                    for i in range(24)
                )
            )
            assert sum(t is not None for t in taken) == LIMIT
        assert (await limiters[0].take(["ip:203.0.113.9"], now)) is None
    finally:
        for store in stores:
            await store.close()


async def test_a_blocked_key_counts_nothing_on_the_others(schema_url: str) -> None:
    store = await Store.open(schema_url)
    try:
        limiter = RateLimiter(store.db, 2, WINDOW)
        assert await limiter.take(["ip:a"], NOW) is not None
        assert await limiter.take(["ip:a"], NOW) is not None
        assert await limiter.take(["email:x", "ip:a"], NOW) is None
        assert await limiter.take(["email:x", "ip:b"], NOW) is not None
        assert await limiter.take(["email:x", "ip:b"], NOW) is not None  # x had 0, not 1
        assert await limiter.take(["email:x"], NOW) is None
    finally:
        await store.close()


async def test_ended_windows_are_pruned_and_keys_are_hashed(schema_url: str) -> None:
    store = await Store.open(schema_url)
    try:
        limiter = RateLimiter(store.db, LIMIT, WINDOW)
        await limiter.take(["email:old@portal.test", "ip:198.51.100.1"], NOW)
        await limiter.take(["email:later@portal.test"], NOW + WINDOW / 2)
        stored = await rows(schema_url)
        assert len(stored) == 3
        assert not any(
            "portal.test" in str(r["key_hash"]) or "198.51" in str(r["key_hash"]) for r in stored
        )
        # Another process starting after the first window ended prunes it at its first take.
        fresh = RateLimiter(store.db, LIMIT, WINDOW)
        await fresh.take(["email:new@portal.test"], NOW + WINDOW)
        assert len(await rows(schema_url)) == 2
        # The first limiter prunes again once a window has passed since its last pruning.
        await limiter.take(["email:new@portal.test"], NOW + WINDOW * 3 / 2)
        assert [int(str(r["hits"])) for r in await rows(schema_url)] == [2]
    finally:
        await store.close()


async def test_a_slot_handed_back_after_its_window_ended_frees_nothing(schema_url: str) -> None:
    store = await Store.open(schema_url)
    try:
        limiter = RateLimiter(store.db, 1, WINDOW)
        old = await limiter.take(["ip:c"], NOW)
        assert old is not None
        fresh = await limiter.take(["ip:c"], NOW + WINDOW)  # a new window; its one slot used
        assert fresh is not None
        await limiter.succeeded(old)  # late: belongs to the ended window
        assert await limiter.take(["ip:c"], NOW + WINDOW) is None
    finally:
        await store.close()


async def test_the_password_is_checked_only_within_the_budget(
    schema_url: str, seeded: Seeded, tmp_path: Path
) -> None:
    clock = Clock()
    email = seeded.emails["anna"]
    async with backend(schema_url, clock, tmp_path) as portal:
        for _ in range(LIMIT):
            await portal.login(email, "wrong password")
        status, _, _ = await portal.login(email, PASSWORD)
        assert status == 429


async def test_pruning_overlapping_attempts_on_ended_windows(schema_url: str) -> None:
    """New processes prune while others restart the same ended windows: exact counts."""
    stores = [await Store.open(schema_url) for _ in range(2)]
    try:
        first = RateLimiter(stores[0].db, LIMIT, WINDOW)
        before = [
            await first.take(["ip:hot", f"email:{i}"], NOW + timedelta(seconds=i))
            for i in range(20)
        ]
        assert sum(t is not None for t in before) == LIMIT
        later = NOW + WINDOW + timedelta(seconds=30)  # every window above has ended
        fresh = [RateLimiter(stores[i % 2].db, LIMIT, WINDOW) for i in range(4)]
        taken = await asyncio.gather(
            *(fresh[i % 4].take(["ip:hot", f"email:{i}"], later) for i in range(20))
        )
        assert sum(t is not None for t in taken) == LIMIT
        hits = {int(str(r["hits"])) for r in await rows(schema_url)}
        assert hits == {1, LIMIT}  # the hot key is full; each e-mail counted once in its window
    finally:
        for store in stores:
            await store.close()
