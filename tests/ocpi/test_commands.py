"""OCPI Commands between two back ends, and the CPO's sites taking them over the sync API.

A CPO platform (Olga's site with a charge point open to guests) and an eMSP platform (Mia's
card): the eMSP sends commands; the CPO answers at once, queues them for Olga's site, which
takes them with its site token and answers; the result reaches the eMSP's response_url once.
A second eMSP tries to act on Mia's sessions, token, reservation and connector and is refused,
with nothing queued. Both engines.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer

from backend.ocpi.commands_out import Sent, command_state, send_command
from backend.ocpi.credentials import register
from backend.ocpi.envelope import token_header
from backend.ocpi.sync import sync_round
from backend.store import AccountKind, CardKind

from .conftest import NOW, Platform, Start
from .test_roaming import OCTOBER, _cpo_world, _handshake


async def until(check: Callable[[], Awaitable[bool]], wait_s: float = 20.0) -> None:
    """Wait until `check()` holds (work done by another server or task)."""
    deadline = asyncio.get_running_loop().time() + wait_s
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {wait_s} s")
        await asyncio.sleep(0.02)


async def site_call(
    server: TestServer, token: str, method: str, path: str, body: Any = None
) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as http,
        http.request(
            method,
            str(server.make_url(f"/api/v1{path}")),
            json=body,
            headers={"Authorization": f"Bearer {token}"},
        ) as resp,
    ):
        return resp.status, await resp.json()


def mia_token(uid: str = "MIA01", party: str = "MSP") -> dict[str, Any]:
    return {
        "country_code": "NL",
        "party_id": party,
        "uid": uid,
        "type": "RFID",
        "contract_id": f"NL-{party}-C00000001",
        "issuer": "Platform",
        "valid": True,
        "whitelist": "ALLOWED",
        "last_updated": "2026-11-03T08:00:00Z",
    }


async def roaming_pair(start_platform: Start) -> tuple[Platform, Platform, dict[str, Any]]:
    """The CPO (Olga's site), the eMSP registered with it, Mia's card pushed as a token."""
    cpo = await start_platform("NL-CPO")
    emsp = await start_platform("NL-MSP")
    await _handshake(cpo, emsp)
    ids, site_token = await _cpo_world(cpo)
    mia = await emsp.store.accounts.create_account(AccountKind.CONSUMER, "Mia", now=OCTOBER)
    await emsp.store.cards.create_card(
        "MIA01", CardKind.SUBSCRIPTION, now=OCTOBER, account_id=mia.id
    )
    assert (await emsp.sync())["tokens"] == 1
    world: dict[str, Any] = {
        **ids,
        "site_token": site_token,
        "location": f"SITE{ids['site']}",
        "evse": f"CP{ids['cp']}",
    }
    return cpo, emsp, world


async def send(emsp: Platform, command: str, body: dict[str, Any]) -> Sent:
    party = await emsp.only_party()
    return await send_command(
        emsp.store.db, emsp.settings, emsp.client, party, command, body, now=NOW
    )


async def test_site_takes_a_command_once_and_its_answer_reaches_the_emsp(
    start_platform: Start,
) -> None:
    cpo, emsp, world = await roaming_pair(start_platform)
    body = {"token": mia_token(), "location_id": world["location"], "evse_uid": world["evse"]}
    sent = await send(emsp, "START_SESSION", body)
    assert (sent.response, sent.timeout) == ("ACCEPTED", 90)

    # Another site's token sees nothing; Olga's site takes it, once.
    other = await cpo.store.sites.create_site(
        (await cpo.store.sites.get_site(world["site"])).account_id, "Olga's shed", now=NOW
    )
    other_token = (await cpo.store.accounts.create_site_token(other, "shed", now=NOW)).secret
    assert await site_call(cpo.server, other_token, "GET", "/sync/commands") == (
        200,
        {"items": []},
    )
    status, taken = await site_call(cpo.server, world["site_token"], "GET", "/sync/commands")
    assert status == 200
    (item,) = taken["items"]
    assert (item["command"], item["charge_point_id"], item["connector_id"]) == (
        "START_SESSION",
        "OLGA-1",
        1,
    )
    assert item["args"]["id_tag"] == "MIA01"
    again = await site_call(cpo.server, world["site_token"], "GET", "/sync/commands")
    assert again == (200, {"items": []})

    # Only the site that took it may answer it; a bad result is refused.
    path = f"/sync/commands/{item['id']}/result"
    assert (await site_call(cpo.server, other_token, "POST", path, {"result": "ACCEPTED"}))[
        0
    ] == 404
    for bad in ({"result": "MAYBE"}, {"result": "ACCEPTED", "reservation_id": 2**40}, {}):
        status, _ = await site_call(cpo.server, world["site_token"], "POST", path, bad)
        assert status == 400, bad
    status, _ = await site_call(cpo.server, world["site_token"], "GET", "/sync/commands?wait=x")
    assert status == 400
    assert (await command_state(emsp.store.db, sent.uid))["result"] is None  # nothing passed on yet
    answer = {"result": "EVSE_OCCUPIED", "message": "Occupied"}
    assert await site_call(cpo.server, world["site_token"], "POST", path, answer) == (
        200,
        {"state": "done"},
    )
    state = await command_state(emsp.store.db, sent.uid)
    assert state is not None
    assert (state["response"], state["result"], state["message"]) == (
        "ACCEPTED",
        "EVSE_OCCUPIED",
        "Occupied",
    )
    # The same answer again (a site retrying) changes nothing and is not sent twice.
    assert await site_call(cpo.server, world["site_token"], "POST", path, answer) == (
        200,
        {"state": "done"},
    )
    sent_at = await cpo.store.db.fetchval(
        "SELECT result_sent_at FROM ocpi_commands WHERE id = ?", item["id"]
    )
    assert sent_at is not None


async def test_a_command_no_site_answers_times_out(start_platform: Start) -> None:
    cpo, emsp, world = await roaming_pair(start_platform)
    body = {
        "location_id": world["location"],
        "evse_uid": world["evse"],
        "connector_id": "1",
    }
    # The last session at the EVSE was Mia's: she may ask for it to be unlocked.
    await cpo.store.db.execute(
        "INSERT INTO open_snapshots (site_id, taken_at, received_at) VALUES (?, ?, ?)",
        world["site"],
        "2026-11-03T08:59:00.000000Z",
        "2026-11-03T08:59:00.000000Z",
    )
    await cpo.store.db.execute(
        "INSERT INTO open_sessions (site_id, charge_point_id, cp_ocpp_id, connector_id,"
        " transaction_id, id_tag, started_at, energy_wh, updated_at)"
        " VALUES (?, ?, 'OLGA-1', 1, '77', 'MIA01', ?, 0, ?)",
        world["site"],
        world["cp"],
        "2026-11-03T08:00:00.000000Z",
        "2026-11-03T08:59:00.000000Z",
    )
    sent = await send(emsp, "UNLOCK_CONNECTOR", body)
    assert sent.response == "ACCEPTED"
    status, taken = await site_call(cpo.server, world["site_token"], "GET", "/sync/commands")
    assert [i["command"] for i in taken["items"]] == ["UNLOCK_CONNECTOR"]

    # The CPO's round after the deadline tells the eMSP TIMEOUT; the site's late word is refused.
    later = NOW + timedelta(seconds=91)
    done = await sync_round(cpo.store, cpo.settings, cpo.client, now=later)
    assert done["command_timeouts"] == 1
    state = await command_state(emsp.store.db, sent.uid)
    assert state is not None
    assert state["result"] == "TIMEOUT"
    path = f"/sync/commands/{taken['items'][0]['id']}/result"
    status, late = await site_call(
        cpo.server, world["site_token"], "POST", path, {"result": "ACCEPTED"}
    )
    assert (status, late["error"]) == (409, "conflict")
    assert (await command_state(emsp.store.db, sent.uid) or {})["result"] == "TIMEOUT"
    again = await sync_round(cpo.store, cpo.settings, cpo.client, now=later)
    assert "command_timeouts" not in again


async def test_another_party_cannot_act_on_what_is_not_its_own(start_platform: Start) -> None:
    cpo, emsp, world = await roaming_pair(start_platform)
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
    # Mia has a running session at Olga's and an accepted reservation there.
    await cpo.store.db.execute(
        "INSERT INTO open_sessions (site_id, charge_point_id, cp_ocpp_id, connector_id,"
        " transaction_id, id_tag, started_at, energy_wh, updated_at)"
        " VALUES (?, ?, 'OLGA-1', 1, '77', 'MIA01', ?, 1500, ?)",
        world["site"],
        world["cp"],
        "2026-11-03T08:00:00.000000Z",
        "2026-11-03T08:59:00.000000Z",
    )
    reserve = {
        "token": mia_token(),
        "expiry_date": "2026-11-03T10:00:00Z",
        "reservation_id": "R1",
        "location_id": world["location"],
        "evse_uid": world["evse"],
    }
    assert (await send(emsp, "RESERVE_NOW", reserve)).response == "ACCEPTED"
    _, taken = await site_call(cpo.server, world["site_token"], "GET", "/sync/commands")
    (held,) = taken["items"]
    assert held["args"]["replaces"] is None
    await site_call(
        cpo.server,
        world["site_token"],
        "POST",
        f"/sync/commands/{held['id']}/result",
        {"result": "ACCEPTED", "reservation_id": 41},
    )
    mine = await emsp.client.get_all(
        f"{cpo.settings.version_url}/sessions?date_from=2026-01-01T00:00:00Z",
        (await emsp.only_party()).outgoing_token or "",
    )
    assert [(s["id"], s["status"]) for s in mine] == [(f"E{world['cp']}T77", "ACTIVE")]
    queued = await cpo.store.db.fetchval("SELECT COUNT(*) FROM ocpi_commands")

    async def attempt(command: str, body: dict[str, Any]) -> Sent:
        party = await intruder.only_party()
        return await send_command(
            intruder.store.db, intruder.settings, intruder.client, party, command, body, now=NOW
        )

    stop = await attempt("STOP_SESSION", {"session_id": f"E{world['cp']}T77"})
    assert (stop.response, stop.message) == ("REJECTED", "the session is not one of your tokens")
    start = await attempt(
        "START_SESSION",
        {"token": mia_token(), "location_id": world["location"], "evse_uid": world["evse"]},
    )
    assert start.response == "REJECTED"
    assert "only use its own tokens" in (start.message or "")
    cancel = await attempt("CANCEL_RESERVATION", {"reservation_id": "R1"})
    assert cancel.response == "REJECTED"
    unlock = await attempt(
        "UNLOCK_CONNECTOR",
        {"location_id": world["location"], "evse_uid": world["evse"], "connector_id": "1"},
    )
    assert unlock.response == "REJECTED"
    unknown = await attempt("STOP_SESSION", {"session_id": "E999T1"})
    assert unknown.response == "UNKNOWN_SESSION"
    nowhere = await attempt(
        "START_SESSION", {"token": mia_token("OTH01", "OTH"), "location_id": "SITE999"}
    )
    assert nowhere.response == "REJECTED"
    assert "status 2003" in (nowhere.message or "")  # unknown location
    # Its own token at Olga's is fine, but it sees none of Mia's sessions.
    theirs = await intruder.client.get_all(
        f"{cpo.settings.version_url}/sessions?date_from=2026-01-01T00:00:00Z",
        (await intruder.only_party()).outgoing_token or "",
    )
    assert theirs == []
    assert await cpo.store.db.fetchval("SELECT COUNT(*) FROM ocpi_commands") == queued
    assert await site_call(cpo.server, world["site_token"], "GET", "/sync/commands") == (
        200,
        {"items": []},
    )

    # Mia's eMSP may: the same reservation id again replaces the charger's reservation 41.
    assert (await send(emsp, "RESERVE_NOW", reserve)).response == "ACCEPTED"
    _, taken = await site_call(cpo.server, world["site_token"], "GET", "/sync/commands")
    assert taken["items"][0]["args"]["replaces"] == 41


async def test_malformed_commands_are_refused_and_nothing_is_queued(
    start_platform: Start,
) -> None:
    cpo, emsp, world = await roaming_pair(start_platform)
    token = (await emsp.only_party()).outgoing_token
    assert token is not None
    base = f"{cpo.settings.version_url}/commands"
    ours = f"{emsp.settings.version_url}/commands/START_SESSION/x1"
    start = {
        "response_url": ours,
        "token": mia_token(),
        "location_id": world["location"],
        "evse_uid": world["evse"],
    }
    cases: list[tuple[str, Any, int, int]] = [
        ("START_SESSION", {k: v for k, v in start.items() if k != "response_url"}, 400, 2001),
        ("START_SESSION", {**start, "response_url": "file:///etc/passwd"}, 400, 2001),
        ("START_SESSION", {**start, "token": {"uid": "MIA01"}}, 400, 2001),
        ("START_SESSION", {**start, "location_id": "x" * 37}, 400, 2001),
        ("START_SESSION", {**start, "evse_uid": "CP999999"}, 404, 2003),
        ("START_SESSION", {**start, "connector_id": "2"}, 404, 2003),
        ("STOP_SESSION", {"response_url": ours}, 400, 2001),
        ("RESERVE_NOW", {**start, "reservation_id": "R", "expiry_date": "soon"}, 400, 2001),
        ("UNLOCK_CONNECTOR", {**start, "connector_id": "1", "evse_uid": None}, 400, 2001),
        ("REBOOT", start, 404, 2001),
        ("START_SESSION", [start], 400, 2001),
    ]
    async with aiohttp.ClientSession() as http:
        for command, body, status, code in cases:
            async with http.post(
                f"{base}/{command}",
                data=json.dumps(body),
                headers={"Authorization": token_header(token)},
            ) as resp:
                answer = await resp.json()
                assert (resp.status, answer["status_code"]) == (status, code), (command, body)
                if code == 2003:  # the spec's unknown location: REJECTED in the data
                    assert answer["data"]["result"] == "REJECTED"
        # A result URL elsewhere than the party's own host is refused (no requests on its
        # behalf to other services or our own network).
        for elsewhere in ("http://127.0.0.1:5432/", "https://evil.example/x"):
            async with http.post(
                f"{base}/START_SESSION",
                data=json.dumps({**start, "response_url": elsewhere}),
                headers={"Authorization": token_header(token)},
            ) as resp:
                answer = await resp.json()
                assert (resp.status, answer["data"]["result"]) == (200, "REJECTED")
        # Past expiry, a reservation is refused too.
        past = {**start, "reservation_id": "R", "expiry_date": "2026-11-03T08:00:00Z"}
        async with http.post(
            f"{base}/RESERVE_NOW",
            data=json.dumps(past),
            headers={"Authorization": token_header(token)},
        ) as resp:
            assert (await resp.json())["data"]["result"] == "REJECTED"
    assert await cpo.store.db.fetchval("SELECT COUNT(*) FROM ocpi_commands") == 0
