"""OCPI Sessions both ways and Tokens PATCH, between real back ends, on both engines.

- eMSP receiver: the specification's session example PUT by its CPO ("NL*STK", token of
  "NL*TST"), then its two PATCH examples (total cost; a charging period, which is added),
  then PUT again (charging periods replaced); hostile pushes refused with nothing changed.
- CPO sender: the eMSP's sessions at our charge point, paginated with `Link` (filters kept),
  filtered on last_updated, never another party's or our own customers'.
- Tokens PATCH: the specification's example invalidates a pushed token, which the site then
  refuses; a PATCH may not change the token's key, nor touch another party's token.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from backend.ocpi.client import Refused
from backend.ocpi.credentials import register
from backend.ocpi.envelope import dumps, loads, token_header
from backend.storage import to_db

from .conftest import NOW, Platform, Start
from .test_commands import roaming_pair
from .test_roaming import _handshake, authorize

SAMPLES = Path(__file__).parent / "samples"


def sample(name: str) -> Any:
    return loads((SAMPLES / name).read_text())


async def token_of(platform: Platform) -> str:
    token = (await platform.only_party()).outgoing_token
    assert token is not None
    return token


async def raw(
    method: str, url: str, token: str, body: Any = None
) -> tuple[int, dict[str, Any], dict[str, str]]:
    async with (
        aiohttp.ClientSession() as http,
        http.request(
            method,
            url,
            data=None if body is None else dumps(body),
            headers={"Authorization": token_header(token), "Content-Type": "application/json"},
        ) as resp,
    ):
        return resp.status, await resp.json(), dict(resp.headers)


async def test_the_specification_session_pushed_put_and_patched(start_platform: Start) -> None:
    cpo = await start_platform("NL-STK")
    emsp = await start_platform("NL-TST")
    await _handshake(cpo, emsp)
    token = await token_of(cpo)
    url = f"{emsp.settings.version_url}/sessions/NL/STK/101"

    started = sample("session_example_1_simple_start.json")
    assert await cpo.client.call("PUT", url, token, started) is None
    assert await cpo.client.call("GET", url, token) == started

    cost = sample("session_patch_example_total_cost.json")
    await cpo.client.call("PATCH", url, token, cost)
    held = await cpo.client.call("GET", url, token)
    assert held == {**started, **cost}

    period = sample("session_patch_example_charging_period.json")
    await cpo.client.call("PATCH", url, token, period)
    await cpo.client.call("PATCH", url, token, period)  # added again: two periods
    held = await cpo.client.call("GET", url, token)
    assert held["kwh"] == 15
    assert held["charging_periods"] == period["charging_periods"] * 2
    assert held["total_cost"] == period["total_cost"]
    assert held["status"] == "PENDING"  # untouched fields stay
    row = await emsp.store.db.fetchrow("SELECT status, last_updated FROM ocpi_sessions_received")
    assert row is not None
    assert (row["status"], row["last_updated"]) == ("PENDING", "2019-06-23T08:16:02.000000Z")

    # Hostile pushes: each refused with 2001 (404 for an unknown session), nothing changed.
    other_cpo = {**started, "country_code": "BE", "party_id": "BEC"}
    not_ours = {**started, "cdr_token": {**started["cdr_token"], "party_id": "ABC"}}
    attempts: list[tuple[str, str, Any]] = [
        ("PATCH", url, {"kwh": 99}),  # no last_updated
        ("PATCH", url, {"status": "CHARGING", "last_updated": "2019-06-23T09:00:00Z"}),
        ("PATCH", url, {"kwh": -1, "last_updated": "2019-06-23T09:00:00Z"}),
        ("PATCH", url, {"charging_periods": {}, "last_updated": "2019-06-23T09:00:00Z"}),
        ("PATCH", url, {"id": "102", "last_updated": "2019-06-23T09:00:00Z"}),
        ("PATCH", url.replace("/101", "/999"), cost),
        ("PUT", url.replace("/STK/", "/BEC/").replace("/NL/", "/BE/"), other_cpo),
        ("PUT", url.replace("/101", "/102"), started),
        ("PUT", url, not_ours),
        ("PUT", url, {**started, "start_date_time": "2020-03-09T10:17:09"}),
    ]
    for method, where, body in attempts:
        status, answer, _ = await raw(method, where, token, body)
        assert status in (400, 404), (method, body, answer)
        assert answer["status_code"] in (2000, 2001), (method, body, answer)
    assert await cpo.client.call("GET", url, token) == held

    # PUT replaces the whole session: the periods go.
    await cpo.client.call("PUT", url, token, started)
    assert "charging_periods" not in await cpo.client.call("GET", url, token)

    # Another party cannot read it.
    intruder = await start_platform("BE-BEC")
    await _handshake(emsp, intruder)  # the eMSP issues it a token A; it registers
    with pytest.raises(Refused):
        await intruder.client.call("GET", url, await token_of(intruder))


async def test_our_sessions_to_the_emsp_paginated_and_filtered(start_platform: Start) -> None:
    cpo, emsp, world = await roaming_pair(start_platform)
    site_token = world["site_token"]
    began = datetime(2026, 10, 12, 18, 0, tzinfo=NOW.tzinfo)
    batch = [
        {
            "charge_point_id": "OLGA-1",
            "transaction_id": f"t{n}",
            "connector_id": 1,
            "id_tag": "mia01" if n != 3 else "OLGA-OWN",
            "started_at": (began + timedelta(days=n)).isoformat(),
            "stopped_at": (began + timedelta(days=n, hours=1)).isoformat(),
            "meter_start_wh": 1000,
            "meter_stop_wh": 11_000,
            "energy_wh": 10_000,
        }
        for n in range(4)
    ]
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            str(cpo.server.make_url("/api/v1/sync/sessions")),
            json={"sessions": batch},
            headers={"Authorization": f"Bearer {site_token}"},
        ) as resp,
    ):
        assert resp.status == 200, await resp.text()
    # t0 and t1 reached the cloud in October, t2 today.
    for n in (0, 1):
        await cpo.store.db.execute(
            "UPDATE sessions SET received_at = ? WHERE transaction_id = ?",
            to_db(began + timedelta(days=n, hours=2)),
            f"t{n}",
        )
    token = await token_of(emsp)
    base = f"{cpo.settings.version_url}/sessions"
    status, page, headers = await raw(
        "GET", f"{base}?date_from=2026-01-01T00:00:00Z&limit=2", token
    )
    assert status == 200
    assert [s["id"] for s in page["data"]] == [f"E{world['cp']}Tt0", f"E{world['cp']}Tt1"]
    assert (headers["X-Total-Count"], headers["X-Limit"]) == ("3", "100")
    assert headers["Link"] == (
        f'<{base}?offset=2&limit=2&date_from=2026-01-01T00%3A00%3A00Z>; rel="next"'
    )
    first = page["data"][0]
    assert (first["status"], first["kwh"], first["currency"]) == ("COMPLETED", 10, "EUR")
    assert first["cdr_token"] == {
        "country_code": "NL",
        "party_id": "MSP",
        "uid": "MIA01",
        "type": "RFID",
        "contract_id": first["cdr_token"]["contract_id"],
    }
    assert first["total_cost"] == {"excl_vat": 4.55, "incl_vat": 5.51}
    assert (first["start_date_time"], first["end_date_time"]) == (
        "2026-10-12T18:00:00Z",
        "2026-10-12T19:00:00Z",
    )
    everything = await emsp.client.get_all(f"{base}?date_from=2026-01-01T00:00:00Z&limit=2", token)
    assert [s["id"][-2:] for s in everything] == ["t0", "t1", "t2"]  # not Olga's own card
    october = await emsp.client.get_all(
        f"{base}?date_from=2026-10-13T20:00:00Z&date_to=2026-11-01T00:00:00Z", token
    )
    assert [s["id"][-2:] for s in october] == ["t1"]  # date_from inclusive, date_to exclusive
    status, page, headers = await raw(
        "GET", f"{base}?date_from=2026-10-12T20:00:00Z&date_to=2026-10-13T20:00:00Z", token
    )
    assert ([s["id"][-2:] for s in page["data"]], "Link" in headers) == (["t0"], False)
    # The CPO's round pushes what changed in the last two days (t2) to the eMSP's receiver,
    # once; the CDR of each session names the same session id.
    done = await cpo.sync()
    assert (done["sessions"], done["cdrs"]) == (1, 3)
    pushed = await emsp.store.db.fetch(
        "SELECT session_id, status, body FROM ocpi_sessions_received"
    )
    assert [(r["session_id"], r["status"]) for r in pushed] == [(everything[2]["id"], "COMPLETED")]
    assert loads(pushed[0]["body"]) == loads(dumps(everything[2]))
    assert (await cpo.sync())["sessions"] == 0
    ids = {
        json.loads(r["body"])["session_id"]
        for r in await emsp.store.db.fetch("SELECT body FROM ocpi_cdrs_received")
    }
    assert ids == {s["id"] for s in everything}

    for query in (
        "",
        "?date_from=yesterday",
        "?date_from=2026-01-01T00:00:00",
        "?date_from=2026-01-01T00:00:00Z&limit=0",
    ):
        status, answer, _ = await raw("GET", base + query, token)
        assert (status, answer["status_code"]) == (400, 2001), query
    status, answer, _ = await raw(
        "PUT", f"{base}/{first['id']}/charging_preferences", token, {"profile_type": "CHEAP"}
    )
    assert (status, answer["status_code"]) == (404, 2001)


async def test_the_specification_token_patch(start_platform: Start) -> None:
    cpo, emsp, world = await roaming_pair(start_platform)
    token = await token_of(emsp)
    url = f"{cpo.settings.version_url}/tokens/NL/MSP/MIA01"
    assert await authorize(cpo, world["site_token"], "MIA01") == (200, "active", True)
    before = await emsp.client.call("GET", url, token)

    patch = sample("token_patch_example.json")
    assert await emsp.client.call("PATCH", url, token, patch) is None
    after = await emsp.client.call("GET", url, token)
    assert after == {**before, **patch}
    assert await authorize(cpo, world["site_token"], "MIA01") == (200, "blocked", False)

    for where, body, expected in [
        (url, {"valid": True}, (400, 2001)),  # no last_updated
        (url, {"uid": "MIA99", "last_updated": "2026-11-03T09:00:00Z"}, (400, 2001)),
        (url, {"type": "APP_USER", "last_updated": "2026-11-03T09:00:00Z"}, (400, 2001)),
        (url, {"whitelist": "SOMETIMES", "last_updated": "2026-11-03T09:00:00Z"}, (400, 2001)),
        (url, [], (400, 2001)),
        (url.replace("MIA01", "NOBODY"), patch, (404, 2004)),
    ]:
        status, answer, _ = await raw("PATCH", where, token, body)
        assert (status, answer["status_code"]) == expected, body
    assert await emsp.client.call("GET", url, token) == after

    # Another eMSP cannot patch Mia's token (it is not among its tokens).
    intruder = await start_platform("NL-OTH")
    _, token_a = await cpo.parties.issue_token_a("another eMSP", now=NOW)
    await register(
        intruder.parties,
        intruder.settings,
        intruder.client,
        versions_url=cpo.settings.versions_url,
        token_a=token_a,
        name="the CPO",
        now=NOW,
    )
    revive = {"valid": True, "last_updated": "2026-11-03T10:00:00Z"}
    status, answer, _ = await raw("PATCH", url, await token_of(intruder), revive)
    assert (status, answer["status_code"]) == (404, 2004)
    assert await authorize(cpo, world["site_token"], "MIA01") == (200, "blocked", False)
