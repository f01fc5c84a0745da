"""Local API: cards (site, config, cloud), charge points, approving a Pending charger - a real
site on a real socket, raw OCPP frames for the charger held Pending."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from custom_components.eflux.core.central.credentials import password_problem
from custom_components.eflux.core.config import parse_site_config
from sim.chargepoint import SimChargePoint
from tests.central.support import RawCharger, boot_v16
from tests.runner.support import TOKEN, Api, serving


@pytest_asyncio.fixture
async def api(tmp_path: Path, unused_port: Callable[[], int]) -> AsyncIterator[Api]:
    config = parse_site_config(
        {
            "central": {
                "host": "127.0.0.1",
                "port": 0,
                "boot_policy": "pending",
                "master_pass_group": "MASTER",
                "passwords": {"GARAGE-CP": "garage-Password-123"},
                "cards": ["CFG-1", {"id": "CFG-2", "status": "Blocked", "group": "STAFF"}],
            },
            "circuits": [{"id": "grid", "limit_a": 25}],
            "chargers": [{"id": "garage", "circuit": "grid", "charge_point": "GARAGE-CP"}],
            "api": {"host": "127.0.0.1", "token": TOKEN},
        },
        base_dir=tmp_path,
    )
    async with serving(config, unused_port()) as served:
        yield served


async def test_cards_from_every_source_and_site_cards_set_and_removed(api: Api) -> None:
    status, listing = await api.call("GET", "/api/cards")
    assert status == 200
    assert listing["master_pass_group"] == "MASTER"
    by_uid = {c["uid"]: c for c in listing["cards"]}
    assert by_uid["CFG-1"]["status"] == "Accepted"
    assert (by_uid["CFG-2"]["status"], by_uid["CFG-2"]["group_id"]) == ("Blocked", "STAFF")
    status, card = await api.call(
        "PUT",
        "/api/cards/04ab",
        {"status": "Accepted", "group_id": "MASTER", "expires_at": "2030-01-01T00:00:00+01:00"},
    )
    assert status == 200
    assert card == {
        "uid": "04ab",
        "source": "site",
        "status": "Accepted",
        "expires_at": "2029-12-31T23:00:00+00:00",
        "group_id": "MASTER",
        "master_pass": True,
    }
    assert (await api.site.central.authorize("04AB")).master_pass
    status, card = await api.call("PUT", "/api/cards/CFG-1", {"status": "Expired"})
    assert (status, card["status"]) == (200, "Expired")
    assert (await api.site.central.authorize("CFG-1")).status == "Expired"
    status, _ = await api.call("DELETE", "/api/cards/CFG-1")
    assert status == 200
    assert (await api.site.central.authorize("CFG-1")).status == "Accepted"
    status, answer = await api.call("DELETE", "/api/cards/CFG-1")
    assert (status, answer["error"]) == (404, "not_found")


@pytest.mark.parametrize(
    ("path", "body", "raw"),
    [
        ("/api/cards/X1", {"status": "Lost"}, None),
        ("/api/cards/X1", {"colour": "red"}, None),
        ("/api/cards/X1", {"expires_at": "soon"}, None),
        ("/api/cards/X1", {"expires_at": "2030-01-01T00:00:00"}, None),
        ("/api/cards/X1", {"group_id": ""}, None),
        ("/api/cards/X1", {"group_id": 7}, None),
        ("/api/cards/X1", None, b"[1, 2]"),
        ("/api/cards/X1", None, b'{"status": "' + b"[" * 40 + b'"}'),
        ("/api/cards/X1", None, b"{" * 100),
        ("/api/cards/" + "A" * 37, {}, None),
        ("/api/cards/A%20B", {}, None),
    ],
)
async def test_hostile_card_requests_are_refused_and_store_nothing(
    api: Api, path: str, body: Any, raw: bytes | None
) -> None:
    status, answer = await api.call("PUT", path, body, raw=raw)
    assert (status, answer["error"]) == (400, "bad_request")
    assert answer["message"]
    assert api.site.central.cards()["site"] == []


async def test_a_new_charger_waits_pending_until_approved_through_the_api(api: Api) -> None:
    port = api.site.central.port
    async with RawCharger.connect(port, "NEW-CP") as raw:
        assert (await raw.call_ok("BootNotification", boot_v16()))["status"] == "Pending"
        status, listing = await api.call("GET", "/api/charge_points")
        assert status == 200
        new = next(cp for cp in listing["charge_points"] if cp["id"] == "NEW-CP")
        assert (new["pending"], new["boot_status"], new["unprotected"]) == (
            True,
            "Pending",
            True,
        )
        status, site = await api.call("GET", "/api/site")  # the site state HA reads
        assert (site["unprotected"], site["pending_approval"]) == (["NEW-CP"], ["NEW-CP"])
        status, answer = await api.call("POST", "/api/chargers/NEW-CP/approve")
        assert (status, answer) == (200, {"approved": "NEW-CP"})
        trigger = await raw.next_call_from_central()
        while trigger[2] != "TriggerMessage":  # configuration calls sent while Pending
            answer = {"configurationKey": []} if trigger[2] == "GetConfiguration" else {}
            await raw.send(json.dumps([3, trigger[1], answer | {"status": "Accepted"}]))
            trigger = await raw.next_call_from_central()
        assert trigger[3] == {"requestedMessage": "BootNotification"}
        assert (await raw.call_ok("BootNotification", boot_v16()))["status"] == "Accepted"
    status, answer = await api.call("POST", "/api/chargers/NOBODY/approve")
    assert (status, answer["error"]) == (404, "not_found")
    assert api.site.central.pending_charge_points() == []
    status, site = await api.call("GET", "/api/site")
    assert site["pending_approval"] == []


async def test_rotating_a_chargers_password_through_the_api(api: Api) -> None:
    status, answer = await api.call("POST", "/api/chargers/garage/password")
    assert (status, answer["error"]) == (409, "charger_offline")
    sim = SimChargePoint(
        f"ws://127.0.0.1:{api.site.central.port}",
        "GARAGE-CP",
        password="garage-Password-123",
        configuration={"AuthorizationKey": "garage-Password-123"},
    )
    await sim.start()
    try:
        for body in ({"password": "short"}, {"password": 12345678901234567}, {"pw": "x"}):
            status, answer = await api.call("POST", "/api/chargers/garage/password", body)
            assert (status, answer["error"]) == (400, "bad_request"), body
        assert sim.configuration["AuthorizationKey"] == "garage-Password-123"  # nothing sent
        status, answer = await api.call("POST", "/api/chargers/garage/password")
        assert status == 200
        assert answer["charge_point_id"] == "GARAGE-CP"
        assert password_problem(answer["password"]) is None
        assert sim.configuration["AuthorizationKey"] == answer["password"]
    finally:
        await sim.close()
