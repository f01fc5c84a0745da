"""Sessions checked at the door (issue 19 item 1; DESIGN §4 trust boundaries), over the real
API on both engines: a foreign card is billed to its owner only through guest usage or
roaming; implausible sessions wait in the review queue, stored and unbilled, until an admin
accepts, corrects or rejects them (each decision audited)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from backend.store import CardKind

from .conftest import NOW, Api

SESSION = {
    "charge_point_id": "CP1",
    "transaction_id": "1",
    "connector_id": 1,
    "id_tag": "ann01",
    "started_at": "2026-11-23T08:00:00+00:00",
    "stopped_at": "2026-11-23T09:00:00+00:00",
    "meter_start_wh": 1000,
    "meter_stop_wh": 8400,
    "energy_wh": 7400,
}


async def post(api: Api, **changes: Any) -> dict[str, Any]:
    status, body = await api.call(
        "POST", "/sync/sessions", "site", json={"sessions": [{**SESSION, **changes}]}
    )
    assert status == 200, body
    (result,) = body["results"]
    row = await api.store.db.fetchrow(
        "SELECT account_id, card_id, flag, review, review_reasons, energy_wh FROM sessions"
        " WHERE id = ?",
        result["session_id"],
    )
    assert row is not None
    return {**row, "id": result["session_id"]}


async def test_a_foreign_card_at_a_closed_charge_point_is_not_billed_to_its_owner(
    api: Api,
) -> None:
    """The attack of issue 19: Ann's site reports Bob's card with 900 MWh on her charger."""
    row = await post(api, id_tag="bob01", energy_wh=900e6 / 1000, meter_stop_wh=1000 + 900e3)
    assert (row["account_id"], row["card_id"], row["flag"]) == (
        api.ids["ann"],
        None,
        "foreign_card",
    )
    status, body = await api.call("GET", "/sessions", "bob")
    assert (status, body["items"]) == (200, [])
    status, body = await api.call("GET", f"/sessions/{row['id']}", "ann")
    assert (status, body["flag"]) == (200, "foreign_card")


async def test_a_foreign_card_is_billed_to_its_owner_through_guest_usage_or_roaming(
    api: Api,
) -> None:
    status, _ = await api.call(
        "PATCH", f"/charge-points/{api.ids['cp']}", "ann", json={"guest_usage": True}
    )  # from NOW (the API's clock)
    assert status == 200
    later = {
        "started_at": "2026-11-23T09:00:00Z",
        "stopped_at": "2026-11-23T09:05:00Z",
        "energy_wh": 1000,
        "meter_stop_wh": 2000,
    }
    guest = await post(api, id_tag="bob01", transaction_id="g", **later)
    assert (guest["account_id"], guest["card_id"], guest["flag"]) == (
        api.ids["bob"],
        api.ids["bob_card"],
        None,
    )
    await api.call("PATCH", f"/charge-points/{api.ids['cp']}", "ann", json={"guest_usage": False})
    closed = await post(api, id_tag="bob01", transaction_id="c", **later)
    assert closed["flag"] == "foreign_card"
    status, card = await api.call(
        "POST",
        "/cards",
        "admin",
        json={"uid": "ROAM01", "account_id": api.ids["bob"], "roaming_authorized": True},
    )
    assert (status, card["roaming_authorized"]) == (201, True)
    roaming = await post(api, id_tag="roam01", transaction_id="r", **later)
    assert (roaming["account_id"], roaming["card_id"], roaming["flag"]) == (
        api.ids["bob"],
        card["id"],
        None,
    )


async def test_the_guest_setting_in_force_at_the_start_decides(api: Api) -> None:
    """Opened to guests after the session started: still not a guest session."""
    await api.call("PATCH", f"/charge-points/{api.ids['cp']}", "ann", json={"guest_usage": True})
    row = await post(
        api, id_tag="bob01", started_at="2026-11-23T07:00:00Z", stopped_at="2026-11-23T08:00:00Z"
    )
    assert row["flag"] == "foreign_card"  # the charge point was added (closed) at 09:00 NOW


RULES = [
    # energy ≤ max power x duration x 1.1: 22 kW default, 1 h → 24,200 Wh
    ({"energy_wh": 24_201, "meter_stop_wh": 25_201}, "more than 22 kW"),
    (
        {"energy_wh": 5_000_000, "meter_stop_wh": 5_001_000, "stopped_at": "2026-11-23T08:01:00Z"},
        "more than 22 kW",
    ),
    # meter stop ≥ start: the meter that ran backwards
    ({"meter_start_wh": 5000, "meter_stop_wh": 4000, "energy_wh": 0}, "below meter start"),
    # |energy - meter difference| within max(50 Wh, 1 %): 900 kWh against 1 kWh
    ({"energy_wh": 900, "meter_stop_wh": 1000 + 100_000}, "differs from the meter"),
    ({"energy_wh": 7400, "meter_stop_wh": 1000 + 7400 + 75}, "differs from the meter"),
    # not before the charge point was added minus 7 days, not after now + 5 min
    ({"started_at": "2026-11-16T08:59:00Z", "stopped_at": "2026-11-16T09:59:00Z"}, "7 days before"),
    ({"started_at": "2199-01-01T00:00:00Z", "stopped_at": "2199-01-01T01:00:00Z"}, "future"),
    (
        {
            "started_at": "2026-11-23T09:05:01Z",
            "stopped_at": "2026-11-23T09:06:00Z",
            "energy_wh": 0,
            "meter_stop_wh": 1000,
        },
        "future",
    ),
]


@pytest.mark.parametrize(("changes", "reason"), RULES)
async def test_each_plausibility_rule_sends_a_session_to_review(
    api: Api,
    changes: dict[str, Any],
    reason: str,
) -> None:
    row = await post(api, **changes)
    assert row["review"] == "pending"
    assert reason in row["review_reasons"]
    status, body = await api.call("GET", "/review/sessions", "admin")
    assert status == 200
    assert [item["id"] for item in body["items"]] == [row["id"]]  # stored: nothing lost


PLAUSIBLE = [
    {"energy_wh": 24_200, "meter_stop_wh": 25_200},  # the power limit itself
    {"energy_wh": 7400, "meter_stop_wh": 1000 + 7400 + 74},  # within 1 % of the difference
    {"energy_wh": 0, "meter_stop_wh": 1040},  # within 50 Wh
    {"started_at": "2026-11-16T09:00:00Z", "stopped_at": "2026-11-16T10:00:00Z"},  # 7 days
    {
        "started_at": "2026-11-23T09:04:00Z",
        "stopped_at": "2026-11-23T09:05:00Z",
        "energy_wh": 300,
        "meter_stop_wh": 1300,
    },  # within the 5 minutes of clock skew
    {"id_tag": None},
]


@pytest.mark.parametrize("changes", PLAUSIBLE)
async def test_honest_sessions_at_the_limits_pass(api: Api, changes: dict[str, Any]) -> None:
    row = await post(api, **changes)
    assert (row["review"], row["review_reasons"], row["flag"]) == ("none", "", None)


async def test_a_charge_points_max_power_sets_the_energy_rule(api: Api) -> None:
    status, cp = await api.call(
        "PATCH", f"/charge-points/{api.ids['cp']}", "ann", json={"max_power_kw": 3.7}
    )
    assert (status, cp["max_power_kw"]) == (200, 3.7)
    assert (await post(api, energy_wh=4070, meter_stop_wh=5070))["review"] == "none"
    row = await post(api, transaction_id="2", energy_wh=4071, meter_stop_wh=5071)
    assert "3.7 kW" in row["review_reasons"]


async def test_what_was_refused_before_is_still_refused_and_nothing_is_stored(api: Api) -> None:
    for changes in (
        {"energy_wh": -1},
        {"stopped_at": "2026-11-23T07:00:00Z"},
        {"started_at": "2026-11-23T08:00:00"},
        {"energy_wh": 1e12},
        {"meter_stop_wh": 1e13},
    ):
        status, body = await api.call(
            "POST", "/sync/sessions", "site", json={"sessions": [{**SESSION, **changes}]}
        )
        assert (status, body["error"]) == (400, "invalid"), changes
    assert await api.store.db.fetchval("SELECT count(*) FROM sessions") == 0


async def test_a_site_speaks_only_for_its_owners_charge_points(api: Api) -> None:
    # A charge point of Bob's on Ann's site (no route makes one; the store is told directly).
    await api.store.sites.create_charge_point(
        api.ids["bob"], "BOBS", now=NOW, site_id=api.ids["site"]
    )
    status, body = await api.call(
        "POST",
        "/sync/sessions",
        "site",
        json={
            "sessions": [
                {**SESSION, "transaction_id": "ok"},
                {**SESSION, "charge_point_id": "BOBS"},
            ]
        },
    )
    assert (status, body["error"]) == (400, "invalid")
    assert "BOBS" in body["detail"]
    assert await api.store.db.fetchval("SELECT count(*) FROM sessions") == 0  # the whole batch


async def _audit(api: Api, session_id: int) -> list[dict[str, Any]]:
    rows = await api.store.db.fetch(
        "SELECT actor, action, detail FROM audit_log WHERE subject = ? ORDER BY id",
        f"session:{session_id}",
    )
    return [{**r, "detail": json.loads(r["detail"])} for r in rows]


async def test_review_accept_correct_reject_each_audited_and_final(api: Api) -> None:
    backwards = await post(
        api, transaction_id="a", meter_start_wh=5000, meter_stop_wh=4000, energy_wh=0
    )
    too_much = await post(api, transaction_id="c", energy_wh=900_000, meter_stop_wh=1000 + 900)
    bogus = await post(
        api,
        transaction_id="r",
        started_at="2199-01-01T00:00:00Z",
        stopped_at="2199-01-01T01:00:00Z",
    )
    path = "/review/sessions"
    status, body = await api.call("GET", path, "ann")
    assert (status, body["error"]) == (403, "forbidden")
    status, body = await api.call("POST", f"{path}/{backwards['id']}/accept", "ann", json={})
    assert status == 403

    status, body = await api.call(
        "POST",
        f"{path}/{backwards['id']}/accept",
        "admin",
        json={"note": "meter replaced mid-session"},
    )
    assert (status, body["review"]) == (200, "accepted")
    [entry] = await _audit(api, backwards["id"])
    assert entry["action"] == "session.review.accept"
    assert entry["actor"].startswith("user:")
    assert entry["detail"]["note"] == "meter replaced mid-session"
    assert "below meter start" in entry["detail"]["reported"]["reasons"]

    still_wrong = {"energy_wh": 900_000, "meter_start_wh": 1000, "meter_stop_wh": 901_000}
    status, body = await api.call(
        "POST", f"{path}/{too_much['id']}/correct", "admin", json=still_wrong
    )
    assert (status, body["error"]) == (400, "invalid")
    assert "still fails" in body["detail"]
    fixed = {"energy_wh": 900, "meter_start_wh": 1000, "meter_stop_wh": 1900, "note": "Wh"}
    status, body = await api.call("POST", f"{path}/{too_much['id']}/correct", "admin", json=fixed)
    assert (status, body["review"], body["energy_wh"]) == (200, "corrected", 900)
    [entry] = await _audit(api, too_much["id"])
    assert entry["action"] == "session.review.correct"
    assert entry["detail"]["reported"]["energy_wh"] == 900_000
    assert entry["detail"]["energy_wh"] == 900

    status, body = await api.call("POST", f"{path}/{bogus['id']}/reject", "admin", json={})
    assert status == 400  # a rejection states its reason
    status, body = await api.call(
        "POST",
        f"{path}/{bogus['id']}/reject",
        "admin",
        json={"reason": "clock of the site was wrong"},
    )
    assert (status, body["review"]) == (200, "rejected")
    [entry] = await _audit(api, bogus["id"])
    assert entry["detail"]["reason"] == "clock of the site was wrong"

    for sid in (backwards["id"], too_much["id"], bogus["id"]):  # a decision is final
        status, body = await api.call(
            "POST", f"{path}/{sid}/reject", "admin", json={"reason": "again"}
        )
        assert (status, body["error"]) == (409, "conflict")
    status, body = await api.call("GET", f"{path}/999999/accept", "admin")
    assert status == 405
    status, body = await api.call("POST", f"{path}/999999/accept", "admin", json={})
    assert status == 404
    status, body = await api.call("GET", path, "admin")
    assert body["items"] == []
    status, body = await api.call("GET", f"{path}?status=rejected", "admin")
    assert [i["id"] for i in body["items"]] == [bogus["id"]]
    status, body = await api.call("GET", f"{path}?status=everything", "admin")
    assert status == 400


def running(tx: str, tag: str, **changes: Any) -> dict[str, Any]:
    return {
        "charge_point_id": "CP1",
        "connector_id": 1,
        "transaction_id": tx,
        "id_tag": tag,
        "started_at": "2026-11-23T08:00:00+00:00",
        "energy_kwh": 3.0,
        "power_w": 7000,
        "updated_at": "2026-11-23T08:59:00+00:00",
        **changes,
    }


async def test_open_sessions_follow_the_same_rules(api: Api) -> None:
    """A foreign card's open session never shows in the card owner's live view; nor does an
    implausible one; the charge point's owner sees both, flagged."""
    await api.store.cards.create_card(
        "ROAM02", CardKind.SUBSCRIPTION, now=NOW, account_id=api.ids["bob"], roaming_authorized=True
    )
    status, _ = await api.call(
        "PUT",
        "/sync/open-sessions",
        "site",
        json={
            "taken_at": "2026-11-23T08:59:00Z",
            "sessions": [
                running("foreign", "bob01"),
                running("roaming", "roam02", connector_id=2),
                running("future", "bob01", connector_id=3, started_at="2199-01-01T00:00:00Z"),
                running("mine", "ann01", connector_id=4, energy_kwh=500.0),
            ],
        },
    )
    assert status == 200
    status, body = await api.call("GET", "/sessions/open", "bob")
    assert [i["transaction_id"] for i in body["items"]] == ["roaming"]
    status, body = await api.call("GET", "/sessions/open", "ann")
    flags = {i["transaction_id"]: i["flag"] for i in body["items"]}
    assert flags == {
        "foreign": "foreign_card",
        "roaming": None,
        "future": "foreign_card",
        "mine": "implausible",
    }
