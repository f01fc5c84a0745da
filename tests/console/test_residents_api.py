"""The resident list through the local API over real HTTP (issue 17): list, add, change and
remove residents, what the console and the reports make of them, the API's guards (token,
JSON only, Host and Origin), hostile bodies that change nothing, and a restart on one file."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest_asyncio

from custom_components.eflux.core.config import parse_site_config
from custom_components.eflux.core.runner.console.hashing import hash_password
from tests.runner.support import TOKEN, Api, serving

from .forms import login, page, session_of
from .server import ANN_PASSWORD, site_yaml

CAROL_PASSWORD = "carol-secret-789"


def config(tmp_path: Path) -> Any:
    data = site_yaml(tmp_path)
    data["api"] = {"host": "127.0.0.1", "token": TOKEN}
    return parse_site_config(data, base_dir=tmp_path)


@pytest_asyncio.fixture
async def api(tmp_path: Path, unused_port: Callable[[], int]) -> AsyncIterator[Api]:
    async with serving(config(tmp_path), unused_port()) as served:
        yield served


async def residents(api: Api) -> dict[str, dict[str, Any]]:
    status, body = await api.call("GET", "/api/residents")
    assert status == 200
    return {item["card"]: item for item in body["residents"]}


async def test_site_yaml_residents_are_listed(api: Api) -> None:
    found = await residents(api)
    assert found["CARD-ANN"] == {
        "card": "CARD-ANN",
        "resident": "Ann de Vries",
        "apartment": "1A",
        "console_login": True,
        "source": "config",
    }
    assert found["CARD-BOB"]["source"] == "config"
    status, body = await api.call("GET", "/api/residents/card-ann")  # id tags: any case
    assert (status, body["resident"]) == (200, "Ann de Vries")
    status, body = await api.call("GET", "/api/residents/NOBODY")
    assert (status, body["error"]) == (404, "not_found")


async def test_a_resident_added_here_logs_in_and_shows_in_cards_and_reports(api: Api) -> None:
    body = {"resident": "Carol Bakker", "apartment": "4D",
            "console_password": hash_password(CAROL_PASSWORD)}  # fmt: skip
    status, added = await api.call("PUT", "/api/residents/CARD-CAROL", body)
    assert status == 201
    assert added == {"card": "CARD-CAROL", "resident": "Carol Bakker", "apartment": "4D",
                     "console_login": True, "source": "site"}  # fmt: skip
    assert "console_password" not in str(await residents(api))  # the hash is never sent back
    carol = await session_of(api, "CARD-CAROL", CAROL_PASSWORD)
    status, html, _ = await page(api, carol, "/console/sessions")
    assert status == 200
    assert "Carol Bakker" in html
    # Changed: 200, the new name everywhere.
    status, changed = await api.call(
        "PUT", "/api/residents/CARD-CAROL", {**body, "apartment": "5E"}
    )
    assert (status, changed["apartment"]) == (200, "5E")
    assert (await residents(api))["CARD-CAROL"]["apartment"] == "5E"
    # A site card with that id shows its resident in GET /api/cards.
    assert (await api.call("PUT", "/api/cards/CARD-CAROL", {}))[0] == 200
    _, cards = await api.call("GET", "/api/cards")
    [card] = [c for c in cards["cards"] if c["uid"] == "CARD-CAROL"]
    assert (card["resident"], card["apartment"]) == ("Carol Bakker", "5E")
    # Still logged in: her password did not change.
    assert (await page(api, carol, "/console/sessions"))[0] == 200


async def test_an_entry_set_here_stands_before_site_yaml_and_its_removal_shows_it_again(
    api: Api,
) -> None:
    ann = await session_of(api, "CARD-ANN", ANN_PASSWORD)
    status, entry = await api.call("PUT", "/api/residents/card-ann", {"resident": "Ann Smit"})
    assert status == 200  # site.yaml's entry existed: replaced here
    assert entry == {"card": "card-ann", "resident": "Ann Smit", "apartment": None,
                     "console_login": False, "source": "site"}  # fmt: skip
    found = await residents(api)
    assert "CARD-ANN" not in found  # one entry per card, whatever its case
    assert found["card-ann"]["resident"] == "Ann Smit"
    _, cards = await api.call("GET", "/api/cards")  # the card list spells it CARD-ANN
    [card] = [c for c in cards["cards"] if c["uid"] == "CARD-ANN"]
    assert (card["resident"], card["apartment"]) == ("Ann Smit", None)
    # Her login changed (none now): her session ends and she cannot log in.
    assert (await page(api, ann, "/console/sessions"))[0] == 303
    assert (await login(api, "CARD-ANN", ANN_PASSWORD)).status == 401
    _, report = await api.call("GET", "/api/reports/monthly?month=2026-01")
    assert report["cards"] == []  # no sessions on this site: nothing else to say
    assert report["credit_note"] is None  # the site never heard from a cloud
    # Removed here: site.yaml's entry again, with its login.
    status, removed = await api.call("DELETE", "/api/residents/CARD-ANN")
    assert status == 200
    assert removed["now"]["resident"] == "Ann de Vries"
    assert removed["now"]["source"] == "config"
    assert (await login(api, "CARD-ANN", ANN_PASSWORD)).status == 303
    status, body = await api.call("DELETE", "/api/residents/CARD-ANN")
    assert status == 404
    assert "site.yaml" in body["message"]


async def test_hostile_requests_change_nothing(api: Api) -> None:
    before = await residents(api)
    path = f"{api.base}/api/residents/CARD-EVE"
    auth = {"Authorization": f"Bearer {TOKEN}"}
    good = '{"resident": "Eve"}'
    # The API's guards: a page's form (text/plain), another origin, a rebound Host, no token.
    async with api.http.put(path, data=good, headers={**auth, "Content-Type": "text/plain"}) as r:
        assert r.status == 415
    headers = {**auth, "Content-Type": "application/json", "Origin": "http://evil.example"}
    async with api.http.put(path, data=good, headers=headers) as r:
        assert (r.status, (await r.json())["error"]) == (403, "cross_origin")
    headers = {**auth, "Content-Type": "application/json", "Host": "evil.example"}
    async with api.http.put(path, data=good, headers=headers) as r:
        assert (r.status, (await r.json())["error"]) == (403, "host_not_allowed")
    headers = {**auth, "Content-Type": "application/json", "Origin": "http://evil.example"}
    async with api.http.delete(f"{api.base}/api/residents/CARD-ANN", headers=headers) as r:
        assert r.status == 403
    status, _ = await api.call("PUT", "/api/residents/CARD-EVE", {"resident": "Eve"}, token=None)
    assert status == 401
    status, _ = await api.call("GET", "/api/residents", token="wrong")
    assert status == 401
    # Bodies and ids the API refuses, each with a 400 that says why.
    for card, body, words in (
        ("CARD-EVE", {"resident": "Eve", "console_password": "hunter22"}, "--hash-password"),
        ("CARD-EVE", {"resident": "Eve", "role": "manager"}, "unknown field 'role'"),
        ("CARD-EVE", {}, "resident or an apartment"),
        ("CARD-EVE", {"resident": ""}, "1 to 100"),
        ("CARD-EVE", {"resident": "x" * 101}, "1 to 100"),
        ("CARD-EVE", {"apartment": 12}, "apartment"),
        ("CARD-EVE", ["Eve"], "JSON object"),
        ("CARD%20EVE", {"resident": "Eve"}, "without spaces"),
        ("C" * 37, {"resident": "Eve"}, "1 to 36"),
    ):
        status, answer = await api.call("PUT", f"/api/residents/{card}", body)
        assert status == 400, (card, body)
        assert words in answer["message"], answer
    status, answer = await api.call("PUT", "/api/residents/CARD-EVE", raw=b'{"resident": ')
    assert status == 400
    assert await residents(api) == before


async def test_residents_set_here_survive_a_restart(
    tmp_path: Path, unused_port: Callable[[], int]
) -> None:
    async with serving(config(tmp_path), unused_port()) as api:
        body = {"resident": "Dirk <b>de</b> Wit", "apartment": "6F"}
        assert (await api.call("PUT", "/api/residents/CARD-DIRK", body))[0] == 201
    async with serving(config(tmp_path), unused_port()) as api:
        found = await residents(api)
        assert found["CARD-DIRK"]["resident"] == "Dirk <b>de</b> Wit"
        assert found["CARD-DIRK"]["source"] == "site"
        assert found["CARD-ANN"]["source"] == "config"
