"""Hostile input to the OCPI routes: each gets the clear OCPI error (2xxx in the envelope, the
HTTP status alike) and nothing is stored or changed. Both engines."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from backend.ocpi.credentials import register
from backend.ocpi.envelope import OcpiError, token_header

from .conftest import NOW, Start
from .test_samples import roaming_pair

SAMPLE = json.loads((Path(__file__).parent / "samples" / "cdr_example.json").read_text())


def changed(**fields: Any) -> str:
    cdr = copy.deepcopy(SAMPLE)
    for path, value in fields.items():
        target = cdr
        *parents, last = path.split("__")
        for key in parents:
            target = target[key]
        if value is None:
            del target[last]
        else:
            target[last] = value
    return json.dumps(cdr)


async def test_hostile_cdrs_are_refused_and_nothing_is_stored(start_platform: Start) -> None:
    emsp, _, token = await roaming_pair(start_platform)
    url = f"{emsp.settings.version_url}/cdrs"

    async def post(
        body: str | bytes, auth: str | None = token_header(token)
    ) -> tuple[int, dict[str, Any]]:
        headers = {"Content-Type": "application/json"}
        if auth is not None:
            headers["Authorization"] = auth
        async with (
            aiohttp.ClientSession() as http,
            http.post(url, data=body, headers=headers) as resp,
        ):
            return resp.status, await resp.json()

    async def stored() -> int:
        return int(await emsp.store.db.fetchval("SELECT count(*) FROM sessions"))

    cases: list[tuple[str | bytes, int, int, str]] = [
        (changed(total_cost=None), 400, 2001, "total_cost"),
        (changed(cdr_token__uid=None), 400, 2001, "uid"),
        (changed(country_code="NL", party_id="EFX"), 400, 2001, "its own CDRs"),
        (changed(currency="USD"), 400, 2001, "EUR"),
        (changed(end_date_time="2015-06-29T20:00:00Z"), 400, 2001, "before"),
        (changed(start_date_time="2015-06-29T21:39:09"), 400, 2001, "time zone"),
        (changed(total_energy=-1), 400, 2001, "total_energy"),
        (changed(total_energy=True), 400, 2001, "number"),
        (changed(total_cost={"excl_vat": "4.00"}), 400, 2001, "number"),
        (changed(total_energy=1e300), 400, 2001, "total_energy"),
        (changed(id="x" * 40), 400, 2001, "id"),
        (changed(cdr_token__uid="A\x00B"), 400, 2001, "uid"),
        ("{" * 10_000, 400, 2001, "nested"),
        ("not json", 400, 2001, "not JSON"),
        ('{"total_energy": NaN}', 400, 2001, "not JSON"),
        (b"\xff\xfe", 400, 2001, "UTF-8"),
        ("[]", 400, 2001, "CDR"),
        ("x" * 300_000, 413, 2000, "larger"),
    ]
    for body, http, code, words in cases:
        status, answer = await post(body)
        assert (status, answer["status_code"]) == (http, code), (body[:80], answer)
        assert words in answer["status_message"], answer
        assert "timestamp" in answer
        assert await stored() == 0

    for auth in (None, "Token ", "Token bm9wZQ==", f"Bearer {token}", "Token " + "A" * 600):
        status, answer = await post(json.dumps(SAMPLE), auth)
        assert (status, answer["status_code"]) == (401, 2000)
    assert await stored() == 0

    # Accepted once; the same id with other content is refused and the first one stays.
    assert (await post(json.dumps(SAMPLE)))[0] == 200
    status, answer = await post(changed(total_cost={"excl_vat": 1, "incl_vat": 1.1}))
    assert (status, answer["status_code"]) == (400, 2001)
    assert "cannot be changed" in answer["status_message"]
    assert await stored() == 1
    assert Decimal(await emsp.store.db.fetchval("SELECT start_cents FROM sessions")) == 400


async def test_tokens_of_another_party_or_mismatched_are_refused(start_platform: Start) -> None:
    """As CPO: a party may only push its own tokens, and the body must match the URL."""
    cpo = await start_platform("NL-CPO")
    emsp = await start_platform("NL-MSP")
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
    base = f"{cpo.settings.version_url}/tokens"
    good = {
        "country_code": "NL",
        "party_id": "MSP",
        "uid": "ABC",
        "type": "RFID",
        "contract_id": "NL-MSP-C1",
        "issuer": "x",
        "valid": True,
        "whitelist": "ALLOWED",
        "last_updated": "2026-11-03T09:00:00Z",
    }
    async with aiohttp.ClientSession() as http:
        for path, body in (
            ("NL/XXX/ABC", good | {"party_id": "XXX"}),
            ("NL/MSP/OTHER", good),
            ("NL/MSP/ABC", good | {"valid": "yes"}),
            ("NL/MSP/ABC?type=NFC", good),
        ):
            async with http.put(
                f"{base}/{path}",
                json=body,
                headers={"Authorization": token_header(party.outgoing_token)},
            ) as resp:
                answer = await resp.json()
                assert (resp.status, answer["status_code"]) == (400, 2001), (path, answer)
        assert await cpo.store.db.fetchval("SELECT count(*) FROM ocpi_tokens") == 0
        async with http.patch(
            f"{cpo.settings.version_url}/credentials",
            headers={"Authorization": token_header(party.outgoing_token)},
        ) as resp:
            assert (resp.status, (await resp.json())["status_code"]) == (405, 2000)
        # POST credentials again once registered: 405, registration unchanged.
        async with http.post(
            f"{cpo.settings.version_url}/credentials",
            json={},
            headers={"Authorization": token_header(party.outgoing_token)},
        ) as resp:
            assert resp.status == 405
    assert (await cpo.only_party()).status == "registered"


async def test_a_misbehaving_party_cannot_register_or_flood_us(start_platform: Start) -> None:
    """A 'party' that answers nonsense, an error envelope, or 17 MB: registration fails with
    3001/3002, and no row is left that would accept the token we made for it."""
    emsp = await start_platform("NL-MSP")
    answers = {
        "/garbage": web.Response(text="<html>not OCPI</html>"),
        "/refused": web.json_response(
            {"status_code": 2000, "status_message": "no", "timestamp": "2026-11-03T09:00:00Z"},
            status=401,
        ),
        "/huge": web.Response(body=b"[" + b" " * (17 * 1024 * 1024) + b"]"),
        "/old": web.json_response(
            {"status_code": 1000, "data": [{"version": "2.1.1", "url": "http://127.0.0.1:1/x"}]}
        ),
    }

    async def handler(request: web.Request) -> web.Response:
        return answers[request.path]

    async def refuse_credentials(_: web.Request) -> web.Response:
        return web.json_response(
            {
                "status_code": 2001,
                "status_message": "no roles",
                "timestamp": "2026-11-03T09:00:00Z",
            },
            status=400,
        )

    app = web.Application()
    app.router.add_get("/{name}", handler)
    app.router.add_post("/credentials", refuse_credentials)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    # A party whose versions and endpoints are fine but that refuses our credentials: the
    # row made for its token B is removed again.
    answers["/versions"] = web.json_response(
        {
            "status_code": 1000,
            "data": [{"version": "2.2.1", "url": str(server.make_url("/details"))}],
        }
    )
    answers["/details"] = web.json_response(
        {
            "status_code": 1000,
            "data": {
                "version": "2.2.1",
                "endpoints": [
                    {
                        "identifier": "credentials",
                        "role": "RECEIVER",
                        "url": str(server.make_url("/credentials")),
                    }
                ],
            },
        }
    )
    try:
        for path, code in (
            ("/garbage", 3001),
            ("/refused", 3001),
            ("/huge", 3001),
            ("/old", 3002),
            ("/versions", 3001),
        ):
            with pytest.raises(OcpiError) as failed:
                await register(
                    emsp.parties,
                    emsp.settings,
                    emsp.client,
                    versions_url=str(server.make_url(path)),
                    token_a="a",
                    name="bad",
                    now=NOW,
                )
            assert failed.value.code == code, (path, failed.value.message)
            if path == "/versions":
                assert "no roles" in failed.value.message  # refused at the POST itself
        assert await emsp.store.db.fetchval("SELECT count(*) FROM ocpi_parties") == 0
    finally:
        await server.close()
