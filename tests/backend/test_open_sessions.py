"""Open sessions: a site's snapshot replaces the last one whole; users read them in scope;
hostile snapshots are refused and change nothing."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from backend.store import CardKind, OpenSessionIn

from .conftest import NOW, Api

T0 = "2026-11-23T08:55:00+00:00"


def running(
    tx: str,
    *,
    cp: str = "CP1",
    tag: str | None = "ann01",
    kwh: float = 3.25,
    power: float | None = 7200.4,
) -> dict[str, Any]:
    return {
        "charge_point_id": cp,
        "connector_id": 1,
        "transaction_id": tx,
        "id_tag": tag,
        "started_at": "2026-11-23T08:00:00+00:00",
        "energy_kwh": kwh,
        "power_w": power,
        "updated_at": "2026-11-23T08:59:30+00:00",
    }


def snapshot(*items: dict[str, Any], taken_at: str = T0) -> dict[str, Any]:
    return {"taken_at": taken_at, "sessions": list(items)}


async def rows(api: Api) -> list[tuple[str, str]]:
    found = await api.store.db.fetch(
        "SELECT cp_ocpp_id, transaction_id FROM open_sessions ORDER BY transaction_id"
    )
    return [(r["cp_ocpp_id"], r["transaction_id"]) for r in found]


async def test_a_snapshot_replaces_the_previous_one_whole(api: Api) -> None:
    status, body = await api.call(
        "PUT", "/sync/open-sessions", "site", json=snapshot(running("1"), running("2", cp="CP2"))
    )
    assert (status, body) == (200, {"stored": True, "open": 2})
    assert await rows(api) == [("CP1", "1"), ("CP2", "2")]
    status, body = await api.call(
        "PUT",
        "/sync/open-sessions",
        "site",
        json=snapshot(
            running("2", cp="CP2", kwh=5.5), running("3"), taken_at="2026-11-23T08:56:00Z"
        ),
    )
    assert (status, body) == (200, {"stored": True, "open": 2})
    assert await rows(api) == [("CP2", "2"), ("CP1", "3")]
    energy = await api.store.db.fetchval(
        "SELECT energy_wh FROM open_sessions WHERE transaction_id = '2'"
    )
    assert energy == 5500
    status, body = await api.call(
        "PUT", "/sync/open-sessions", "site", json=snapshot(taken_at="2026-11-23T08:57:00Z")
    )
    assert (status, body) == (200, {"stored": True, "open": 0})
    assert await rows(api) == []
    # CP2 was new to the back end: registered on the site's account, like a session sync does.
    cps = await api.store.sites.list_charge_points(api.ids["ann"], site_id=api.ids["site"])
    assert sorted(cp.ocpp_id for cp in cps) == ["CP1", "CP2"]


async def test_an_older_snapshot_arriving_late_changes_nothing(api: Api) -> None:
    await api.call(
        "PUT",
        "/sync/open-sessions",
        "site",
        json=snapshot(running("5"), taken_at="2026-11-23T08:58:00Z"),
    )
    status, body = await api.call(
        "PUT",
        "/sync/open-sessions",
        "site",
        json=snapshot(running("4"), taken_at="2026-11-23T08:50:00Z"),
    )
    assert (status, body) == (200, {"stored": False, "open": 0})
    assert await rows(api) == [("CP1", "5")]


async def test_users_read_open_sessions_in_scope(api: Api) -> None:
    # CP2 is open to guests: bob's card charges there as a guest (a closed one: test_door.py).
    await api.store.sites.create_charge_point(
        api.ids["ann"], "CP2", now=NOW, site_id=api.ids["site"], guest_usage=True
    )
    await api.call(
        "PUT",
        "/sync/open-sessions",
        "site",
        json=snapshot(running("1", tag="ann01"), running("2", cp="CP2", tag="bob01", power=None)),
    )
    status, body = await api.call("GET", "/sessions/open", "ann")
    assert status == 200
    mine = {item["transaction_id"]: item for item in body["items"]}
    assert set(mine) == {"1", "2"}  # her card, and a guest on her charge point
    assert mine["1"]["card_id"] == api.ids["ann_card"]
    assert mine["1"]["energy_kwh"] == 3.25
    assert mine["1"]["power_w"] == 7200
    assert mine["1"]["live"] is True
    assert mine["1"]["started_at"] == "2026-11-23T08:00:00+00:00"
    assert mine["2"]["card_id"] is None  # bob's card record stays bob's
    status, body = await api.call("GET", "/sessions/open", "bob")
    assert status == 200
    assert [(i["transaction_id"], i["card_id"]) for i in body["items"]] == [
        ("2", api.ids["bob_card"])
    ]
    status, body = await api.call("GET", "/sessions/open", "admin")
    assert sorted(i["transaction_id"] for i in body["items"]) == ["1", "2"]


async def test_another_accounts_user_sees_none_of_them(api: Api) -> None:
    await api.call("PUT", "/sync/open-sessions", "site", json=snapshot(running("1")))
    status, body = await api.call("GET", "/sessions/open", "bob")
    assert (status, body) == (200, {"items": []})
    assert "Ann" not in json.dumps(body)


async def test_a_quiet_site_is_last_seen_not_live(api: Api) -> None:
    await api.call("PUT", "/sync/open-sessions", "site", json=snapshot(running("1")))
    store = api.store.open_sessions
    [fresh] = await store.list_open(api.ids["ann"], now=NOW + timedelta(minutes=4))
    [stale] = await store.list_open(api.ids["ann"], now=NOW + timedelta(minutes=6))
    assert fresh.live
    assert not stale.live
    assert stale.seen_at == NOW


async def test_routes_check_the_kind_of_token(api: Api) -> None:
    status, body = await api.call("PUT", "/sync/open-sessions", "ann", json=snapshot())
    assert (status, body["error"]) == (403, "forbidden")
    status, body = await api.call("GET", "/sessions/open", "site")
    assert (status, body["error"]) == (403, "forbidden")
    status, body = await api.call("PUT", "/sync/open-sessions", None, json=snapshot())
    assert status == 401


HOSTILE: list[tuple[str, Any]] = [
    ("no taken_at", {"sessions": []}),
    ("naive taken_at", snapshot(taken_at="2026-11-23T08:55:00")),
    ("not a list", {"taken_at": T0, "sessions": {"1": running("1")}}),
    ("unknown field", {**snapshot(), "site_id": 2}),
    ("unknown item field", snapshot({**running("1"), "account_id": 1})),
    ("negative energy", snapshot(running("1", kwh=-1))),
    ("energy as text", snapshot({**running("1"), "energy_kwh": "3"})),
    ("boolean power", snapshot({**running("1"), "power_w": True})),
    ("huge power", snapshot(running("1", power=1e12))),
    ("long charge point id", snapshot(running("1", cp="C" * 10_000))),
    ("long id tag", snapshot(running("1", tag="A" * 37))),
    ("same transaction twice", snapshot(running("1"), running("1"))),
    ("501 sessions", snapshot(*(running(str(n)) for n in range(501)))),
    ("a list body", [running("1")]),
]


@pytest.mark.parametrize(("name", "payload"), HOSTILE, ids=[h[0] for h in HOSTILE])
async def test_hostile_snapshots_are_refused_and_keep_the_last_one(
    api: Api, name: str, payload: Any
) -> None:
    await api.call("PUT", "/sync/open-sessions", "site", json=snapshot(running("7")))
    status, body = await api.call("PUT", "/sync/open-sessions", "site", json=payload)
    assert status in {400, 413}, (name, body)
    assert body["error"] in {"invalid", "too_large"}, (name, body)
    assert await rows(api) == [("CP1", "7")]


async def test_malformed_oversized_and_wrong_media_type(api: Api) -> None:
    await api.call("PUT", "/sync/open-sessions", "site", json=snapshot(running("7")))
    status, body = await api.call(
        "PUT",
        "/sync/open-sessions",
        "site",
        data='{"taken_at": "2026-11-23T08:55:00Z", "sessions": [',
    )
    assert (status, body["error"]) == (400, "malformed_json")
    status, body = await api.call(
        "PUT",
        "/sync/open-sessions",
        "site",
        data=json.dumps(snapshot()),
        headers={"Content-Type": "text/plain"},
    )
    assert status == 415
    big = json.dumps(snapshot(*(running(str(n), tag="X" * 36) for n in range(400))))
    assert len(big) > 64 * 1024  # the test app's body limit
    status, body = await api.call("PUT", "/sync/open-sessions", "site", data=big)
    assert (status, body["error"]) == (413, "too_large")
    assert await rows(api) == [("CP1", "7")]


async def test_sql_metacharacters_are_kept_as_text(api: Api) -> None:
    tx = "1'; DROP TABLE open_sessions; --"
    status, _ = await api.call("PUT", "/sync/open-sessions", "site", json=snapshot(running(tx)))
    assert status == 200
    assert await rows(api) == [("CP1", tx)]


async def test_store_replace_with_a_card_of_no_account(api: Api) -> None:
    """A card known to the back end but not assigned: visible to the charge point's owner."""
    await api.store.cards.create_card("FREE01", CardKind.PREPAID, now=NOW)
    site = await api.store.sites.get_site(api.ids["site"])
    item = OpenSessionIn("CP1", 1, "9", "free01", NOW, 1.0, None, NOW)
    result = await api.store.open_sessions.replace(site, NOW, [item], now=NOW)
    assert result.count == 1
    [seen] = await api.store.open_sessions.list_open(api.ids["ann"], now=NOW)
    assert (seen.id_tag, seen.card_id) == ("FREE01", None)
    assert await api.store.open_sessions.list_open(api.ids["bob"], now=NOW) == []
