"""The credentials module after registration: PUT renews the token we are called with, DELETE
ends the registration (both tokens stop working), and the app's own round runs by itself."""

from __future__ import annotations

import asyncio

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from backend.ocpi.credentials import our_credentials, register
from backend.ocpi.envelope import token_header
from backend.ocpi.parties import token_hash
from backend.store import CardKind

from .conftest import NOW, Platform, Start


async def status_of(url: str, token: str) -> int:
    async with (
        aiohttp.ClientSession() as http,
        http.get(url, headers={"Authorization": token_header(token)}) as resp,
    ):
        return resp.status


async def pair(start_platform: Start, interval: float = 0) -> tuple[Platform, Platform, str]:
    cpo = await start_platform("NL-CPO")
    emsp = await start_platform("NL-MSP", interval)
    _, token_a = await cpo.parties.issue_token_a("msp", now=NOW)
    party = await register(
        emsp.parties,
        emsp.settings,
        emsp.client,
        versions_url=cpo.settings.versions_url,
        token_a=token_a,
        name="cpo",
        now=NOW,
    )
    assert party.outgoing_token is not None
    return cpo, emsp, party.outgoing_token


async def test_put_renews_and_delete_ends_the_registration(start_platform: Start) -> None:
    cpo, emsp, token_c = await pair(start_platform)
    credentials = f"{cpo.settings.version_url}/credentials"
    ours = await cpo.client.call("GET", credentials, token_c)
    assert ours["token"] == token_c
    assert {r["role"] for r in ours["roles"]} == {"CPO", "EMSP"}

    # The eMSP renews: it sends a new token for the CPO to call it with; the CPO answers a
    # new token C and the old one stops working.
    old_b = "renewed-token-b-0123456789"
    party = await emsp.only_party()
    await emsp.store.db.execute(
        "UPDATE ocpi_parties SET incoming_hash = ? WHERE id = ?", token_hash(old_b), party.id
    )
    answer = await cpo.client.call(
        "PUT", credentials, token_c, our_credentials(emsp.settings, old_b)
    )
    assert answer["token"] != token_c
    assert await status_of(cpo.settings.versions_url, token_c) == 401
    assert await status_of(cpo.settings.versions_url, answer["token"]) == 200
    assert (await cpo.only_party()).outgoing_token == old_b

    async with (
        aiohttp.ClientSession() as http,
        http.delete(credentials, headers={"Authorization": token_header(answer["token"])}) as resp,
    ):
        assert resp.status == 200
    assert await status_of(cpo.settings.versions_url, answer["token"]) == 401
    assert await cpo.parties.registered() == []


async def test_the_app_runs_its_rounds_by_itself(start_platform: Start) -> None:
    cpo, emsp, _ = await pair(start_platform, interval=0.05)
    await emsp.store.cards.create_card("LOOP01", CardKind.SUBSCRIPTION, now=NOW)
    for _ in range(200):  # waits for the condition, not for a time
        if await cpo.store.db.fetchval("SELECT count(*) FROM ocpi_tokens") == 1:
            break
        await asyncio.sleep(0.05)
    assert await cpo.store.db.fetchval("SELECT uid FROM ocpi_tokens") == "LOOP01"
    # The round is in the back end's metrics once it has finished (after the PUT answered).
    for _ in range(200):
        if await pushed_tokens(emsp) == [1.0]:
            break
        await asyncio.sleep(0.05)
    assert await pushed_tokens(emsp) == [1.0]


async def pushed_tokens(platform: Platform) -> list[float]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(str(platform.server.make_url("/metrics"))) as resp,
    ):
        text = await resp.text()
    return [
        s.value
        for f in text_string_to_metric_families(text)
        for s in f.samples
        if s.name == "eflux_ocpi_round_items_total" and s.labels == {"what": "tokens"}
    ]
