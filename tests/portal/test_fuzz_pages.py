"""Issue 19.2 in the portal: junk in every page's path ids, query and form fields (NUL, lone
surrogates, raw bytes that are not UTF-8, '²', full-width digits, huge numbers) gets a 4xx
page or a normal answer, never a 5xx, for a customer and for an administrator, on both
engines. Every route of the portal is taken from its router, so a new page is fuzzed too."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote

import aiohttp
import pytest_asyncio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backend.portal import PREFIX, create_portal
from backend.store import Role, Store
from tests.backend.conftest import NOW
from tests.backend.payflow import PASSWORD, PayWorld, pay_world

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
FIELDS = [
    "amount",
    "email",
    "password",
    "password2",
    "iban",
    "month",
    "per_kwh",
    "start",
    "per_minute",
    "guest_usage",
    "block",
    "replacement",
    "phases",
    "battery_kwh",
    "car_max_kw",
    "cable_mm2",
    "location",
    "outdoor",
    "public",
    "limited_power",
    "back_office",
    "0",
    "1",
    "3",
]
NASTY = [
    "\u00b2",
    "\uff11\uff12",
    "\x00",
    "\ud800",
    "9" * 40,
    "-1",
    "1e999",
    "NaN",
    "",
    "<script>",
    "2026-13",
    "9999-12",
    "x" * 70_000,
]


def _q(value: str) -> str:
    return quote(value, safe="", errors="surrogatepass")


class Visitor:
    def __init__(self, world: PayWorld, http: aiohttp.ClientSession) -> None:
        self.world, self.http = world, http
        self.csrf = ""

    async def login(self, email: str) -> None:
        async with self.http.get(self.world.url("/portal/login")) as response:
            found = _CSRF.search(await response.text())
        assert found is not None
        async with self.http.post(
            self.world.url("/portal/login"),
            allow_redirects=False,
            data={"csrf": found.group(1), "email": email, "password": PASSWORD},
        ) as response:
            assert response.status == 303
        async with self.http.get(self.world.url("/portal/dashboard")) as response:
            found = _CSRF.search(await response.text())
        assert found is not None
        self.csrf = found.group(1)

    async def upload(self, path: str) -> None:
        """A multipart form with every field a file (pages read text fields only)."""
        form = aiohttp.FormData({"csrf": self.csrf})
        for name in FIELDS:
            form.add_field(name, b"2026-01-01", filename="x.txt")
        async with self.http.post(
            self.world.url(path), data=form, allow_redirects=False
        ) as response:
            assert response.status < 500, (path, "multipart", response.status)

    async def send(self, method: str, path: str, body: bytes | None = None) -> int:
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if body is not None else {}
        async with self.http.request(
            method, self.world.url(path), data=body, headers=headers, allow_redirects=False
        ) as response:
            await response.read()
            assert response.status < 500, (method, path, body and body[:120], response.status)
            return response.status


def _routes(world: PayWorld) -> list[tuple[str, str]]:
    """Every GET/POST page of the portal (from a portal app's own router) but log in/out."""
    portal = create_portal(world.store, outbox=Path("unused"))
    found = {
        (route.method, PREFIX + route.resource.canonical)
        for route in portal.router.routes()
        if route.method in {"GET", "POST"}
        and route.resource is not None
        and not route.resource.canonical.startswith(("/static", "/login", "/logout"))
    }
    return sorted(found)


@pytest_asyncio.fixture
async def visitors(store: Store, tmp_path: Path) -> AsyncIterator[tuple[PayWorld, list[Visitor]]]:
    async with pay_world(store, tmp_path / "outbox") as world:
        boss = await store.accounts.create_user(
            world.account_id, "boss@pay.test", Role.ADMIN, now=NOW, password=PASSWORD
        )
        assert boss.id
        async with (
            aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as a,
            aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as b,
        ):
            customer, admin = Visitor(world, a), Visitor(world, b)
            await customer.login(world.email)
            await admin.login("boss@pay.test")
            yield world, [customer, admin]


def _fill(path: str, value: str) -> str:
    return re.sub(r"\{[a-z_]+\}", lambda _: _q(value), path)


def _form(csrf: str, values: dict[str, str]) -> bytes:
    text = "&".join(f"{_q(k)}={_q(v)}" for k, v in {"csrf": csrf, **values}.items())
    return text.encode()


async def test_every_portal_route_with_nasty_ids_queries_and_forms(
    visitors: tuple[PayWorld, list[Visitor]],
) -> None:
    world, people = visitors
    routes = _routes(world)
    assert len(routes) > 30
    for who in people:
        for method, template in routes:
            for value in NASTY[:6]:  # the ones that used to break ids and text
                path = _fill(template, value) + f"?month={_q(value)}&done={_q(value)}"
                body = _form(who.csrf, dict.fromkeys(FIELDS, value)) if method == "POST" else None
                await who.send(method, path, body)
            if method == "POST":
                await who.send(
                    method,
                    _fill(template, "1"),
                    b"csrf=" + who.csrf.encode() + b"&amount=\xff\xfe&email=\xc3",
                )  # raw bytes, not UTF-8
                await who.send(
                    method, _fill(template, "1"), _form(who.csrf, {"amount": NASTY[-1]})
                )  # over the form cap
                await who.upload(_fill(template, "1"))


@settings(
    max_examples=80,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_generated_junk_on_portal_routes_is_never_5xx(
    visitors: tuple[PayWorld, list[Visitor]],
    data: st.DataObject,
) -> None:
    world, people = visitors
    method, template = data.draw(st.sampled_from(_routes(world)))
    who = people[data.draw(st.integers(0, 1))]
    junk = st.one_of(
        st.text(max_size=12), st.sampled_from(NASTY[:-1]), st.integers(-(10**20), 10**20).map(str)
    )
    path = _fill(template, data.draw(st.one_of(st.integers(0, 5).map(str), junk)))
    body = None
    if method == "POST":
        body = _form(
            who.csrf, data.draw(st.dictionaries(st.sampled_from(FIELDS), junk, max_size=6))
        )
    await who.send(method, path, body)
