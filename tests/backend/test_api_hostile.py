"""Hostile input: other accounts' ids, bad tokens, SQL metacharacters, 10 KB strings, oversized
and malformed bodies, wrong types, and sync batches duplicated, reordered or cut off."""

from __future__ import annotations

import json

import pytest

from backend.storage import ReferenceViolation

from .conftest import NOW, Api

SESSION = {
    "charge_point_id": "CP1",
    "transaction_id": "1",
    "connector_id": 1,
    "id_tag": "ANN01",
    "started_at": "2026-11-23T08:00:00+00:00",
    "stopped_at": "2026-11-23T09:00:00+00:00",
    "meter_start_wh": 1000,
    "meter_stop_wh": 8400.5,
    "energy_wh": 7400.5,
    "stop_reason": "Local",
    "energy_flagged": False,
}


def batch(*txs: str) -> dict[str, object]:
    return {"sessions": [{**SESSION, "transaction_id": tx} for tx in txs]}


async def _count_sessions(api: Api) -> int:
    return int(await api.store.db.fetchval("SELECT count(*) FROM sessions"))


OTHER_ACCOUNT_ROUTES = [
    ("GET", "/accounts/{ann}"),
    ("GET", "/accounts/{ann}/export"),
    ("POST", "/accounts/{ann}/erase"),
    ("GET", "/cards/{ann_card}"),
    ("POST", "/cards/{ann_card}/report-lost"),
    ("POST", "/cards/{ann_card}/block"),
    ("POST", "/cards/{ann_card}/unblock"),
    ("GET", "/sites/{site}"),
    ("POST", "/sites/{site}/tokens"),
    ("GET", "/charge-points/{cp}"),
    ("PATCH", "/charge-points/{cp}"),
    ("PUT", "/charge-points/{cp}/departure"),
    ("GET", "/sessions/{session}"),
]


async def test_another_accounts_ids_are_not_found_and_change_nothing(api: Api) -> None:
    status, result = await api.call("POST", "/sync/sessions", "site", json=batch("9"))
    api.ids["session"] = result["results"][0]["session_id"]
    bodies = {
        "PUT": {"departure_at": "2026-11-23T17:00:00Z"},
        "PATCH": {"name": "x"},
        "POST": {"name": "x"},
    }
    before = await api.store.db.fetch("SELECT id, status, account_id FROM cards ORDER BY id")
    for method, template in OTHER_ACCOUNT_ROUTES:
        path = template.format(**api.ids)
        payload = bodies.get(method) if "tokens" in path or method != "POST" else {}
        status, body = await api.call(method, path, "bob", json=payload)
        assert status == 404, (method, path, body)
        assert body["error"] == "not_found"
        assert "Ann" not in json.dumps(body)
    after = await api.store.db.fetch("SELECT id, status, account_id FROM cards ORDER BY id")
    assert after == before
    assert await api.store.db.fetchval("SELECT count(*) FROM departures") == 0
    assert (await api.store.accounts.get_account(api.ids["ann"])).name == "Ann"


async def test_unknown_and_non_numeric_ids_are_json_404s(api: Api) -> None:
    for path in ("/cards/999999", "/cards/abc", "/cards/1%27%20OR%201=1", "/nope"):
        status, body = await api.call("GET", path, "ann")
        assert status == 404, path
        assert set(body) == {"error", "detail"}, path


@pytest.mark.parametrize("field", ["name", "address"])
async def test_sql_metacharacters_are_stored_literally(api: Api, field: str) -> None:
    nasty = "Robert'); DROP TABLE sites;-- \"?$1 %s \\"
    payload = {"name": "Home", field: nasty}
    status, site = await api.call("POST", "/sites", "bob", json=payload)
    assert status == 201
    assert site[field] == nasty
    _, again = await api.call("GET", f"/sites/{site['id']}", "bob")
    assert again[field] == nasty


async def test_ten_kilobyte_strings_are_refused_in_every_text_field(api: Api) -> None:
    big = "x" * 10_240
    cases = [
        ("POST", "/sites", {"name": big}),
        ("POST", "/sites", {"name": "a", "address": big}),
        ("POST", "/tariffs", {"name": big}),
        ("POST", "/charge-points", {"ocpp_id": big}),
        ("POST", "/charge-points", {"ocpp_id": "CPX", "name": big}),
        ("POST", "/charge-points", {"ocpp_id": "CPX", "location": big}),
        ("PATCH", f"/charge-points/{api.ids['cp']}", {"name": big}),
        (
            "PUT",
            f"/charge-points/{api.ids['cp']}/departure",
            {"departure_at": "2026-11-23T17:00:00Z", "car": big},
        ),
        ("POST", f"/sites/{api.ids['site']}/tokens", {"name": big}),
        ("POST", "/tokens", {"name": big}),
    ]
    for method, path, payload in cases:
        status, body = await api.call(method, path, "ann", json=payload)
        assert status == 400, (path, payload.keys())
        assert body["error"] == "invalid", (path, payload.keys())
        assert len(body["detail"]) < 500
    admin_cases = [
        ("POST", "/accounts", {"kind": "consumer", "name": big}),
        ("POST", "/cards", {"uid": big}),
        ("POST", f"/accounts/{api.ids['ann']}/users", {"email": big + "@x.nl"}),
    ]
    for method, path, payload in admin_cases:
        status, body = await api.call(method, path, "admin", json=payload)
        assert status == 400, path
    for field in ("charge_point_id", "transaction_id", "id_tag", "stop_reason"):
        bad = {"sessions": [{**SESSION, field: big}]}
        status, body = await api.call("POST", "/sync/sessions", "site", json=bad)
        assert status == 400
        assert field in body["detail"]
    assert await _count_sessions(api) == 0


async def test_malformed_json_wrong_types_and_media_type(api: Api) -> None:
    for raw in ("{", "[1, 2", "\x00\xff", "", "nul", '{"sessions": [}'):
        status, body = await api.call("POST", "/sync/sessions", "site", data=raw)
        assert status == 400, raw
        assert body["error"] in {"malformed_json", "invalid"}, raw
    status, body = await api.call("POST", "/sync/sessions", "site", data=b"\xff\xfe")
    assert status == 400
    status, body = await api.call("POST", "/sync/sessions", "site", data="[]")
    assert status == 400
    assert body["error"] == "invalid"
    wrong = [
        ("connector_id", "1"),
        ("connector_id", True),
        ("energy_wh", "7400"),
        ("energy_wh", -1),
        ("started_at", "yesterday"),
        ("started_at", "2026-11-23T08:00"),
        ("energy_flagged", "no"),
        ("stopped_at", "2026-11-23T07:00:00Z"),
        ("energy_wh", float("nan")),
        ("meter_stop_wh", float("inf")),
        ("connector_id", 10**30),
    ]
    for field, value in wrong:
        status, body = await api.call(
            "POST", "/sync/sessions", "site", json={"sessions": [{**SESSION, field: value}]}
        )
        assert status == 400, (field, value, body)
        assert field in body["detail"], (field, value, body)
    status, body = await api.call(
        "POST",
        "/sync/sessions",
        "site",
        data=json.dumps(batch("1")),
        headers={"Content-Type": "text/plain"},
    )
    assert status == 415
    for raw in ('{"account_id": 1e999}', '{"account_id": 100000000000000000000000000000}'):
        status, body = await api.call(
            "POST", f"/cards/{api.ids['bob_card']}/assign", "admin", data=raw
        )
        assert status == 400, raw
    status, body = await api.call("POST", "/cards", "admin", json={"uid": "AB", "kind": "gold"})
    assert status == 400
    assert "kind" in body["detail"]
    assert await _count_sessions(api) == 0


async def test_oversized_body_is_413_and_nothing_is_stored(api: Api) -> None:
    huge = json.dumps(batch(*[str(n) for n in range(400)]))
    assert len(huge) > 64 * 1024
    status, body = await api.call("POST", "/sync/sessions", "site", data=huge)
    assert status == 413
    assert body["error"] == "too_large"
    status, body = await api.call(
        "POST", "/sync/sessions", "site", json=batch(*[str(n) for n in range(501)])
    )
    assert status in {400, 413}
    assert await _count_sessions(api) == 0


async def test_duplicate_and_out_of_order_batches_never_double(api: Api) -> None:
    status, first = await api.call("POST", "/sync/sessions", "site", json=batch("3", "1", "3"))
    assert status == 200
    assert (first["created"], first["duplicates"]) == (2, 1)
    status, again = await api.call("POST", "/sync/sessions", "site", json=batch("2", "1", "3"))
    assert (again["created"], again["duplicates"]) == (1, 2)
    assert [r["status"] for r in again["results"]] == ["created", "duplicate", "duplicate"]
    rows = await api.store.db.fetch("SELECT transaction_id FROM sessions ORDER BY id")
    assert [r["transaction_id"] for r in rows] == ["3", "1", "2"]


async def test_a_batch_cut_off_midway_stores_nothing_and_a_retry_stores_all(api: Api) -> None:
    whole = json.dumps(batch("1", "2", "3"))
    status, body = await api.call("POST", "/sync/sessions", "site", data=whole[: len(whole) // 2])
    assert status == 400
    assert body["error"] == "malformed_json"
    # A batch with one bad item is refused whole: the good ones are not half-stored.
    bad = batch("1", "2")
    bad["sessions"][1]["energy_wh"] = "lots"  # type: ignore[index]
    status, _ = await api.call("POST", "/sync/sessions", "site", json=bad)
    assert status == 400
    assert await _count_sessions(api) == 0
    status, body = await api.call("POST", "/sync/sessions", "site", data=whole)
    assert body["created"] == 3
    assert await _count_sessions(api) == 3


async def test_expired_and_revoked_tokens_are_refused(api: Api) -> None:
    status, issued = await api.call(
        "POST", "/tokens", "ann", json={"name": "short", "expires_at": "2026-11-23T08:00:00Z"}
    )
    assert status == 201
    api.tokens["expired"] = issued["token"]
    status, body = await api.call("GET", "/cards", "expired")
    assert status == 401
    assert "expired" in body["detail"]
    tokens = await api.store.db.fetch("SELECT id FROM api_tokens WHERE kind = 'site'")
    assert (await api.call("GET", "/sync/cards", "site"))[0] == 200
    await api.store.accounts.revoke_token(int(tokens[0]["id"]), now=NOW)
    status, body = await api.call("GET", "/sync/cards", "site")
    assert status == 401


async def test_another_accounts_ids_inside_bodies_are_not_found(api: Api) -> None:
    status, tariff = await api.call("POST", "/tariffs", "ann", json={"name": "Ann's"})
    assert status == 201
    cases = [
        ("POST", "/charge-points", {"ocpp_id": "X1", "site_id": api.ids["site"]}),
        ("POST", "/charge-points", {"ocpp_id": "X2", "tariff_id": tariff["id"]}),
        ("PATCH", "/charge-points/{cp}", {"tariff_id": tariff["id"]}),
    ]
    _, bob_cp = await api.call("POST", "/charge-points", "bob", json={"ocpp_id": "BOB-CP"})
    for method, path, payload in cases:
        status, body = await api.call(method, path.format(cp=bob_cp["id"]), "bob", json=payload)
        assert status == 404, (path, payload, body)
    for payload in ({"name": "x", "account_id": api.ids["ann"]},):
        status, _ = await api.call("POST", "/sites", "bob", json=payload)
        assert status == 403
    _, mine = await api.call("GET", "/charge-points", "bob")
    assert [cp["ocpp_id"] for cp in mine["items"]] == ["BOB-CP"]
    assert mine["items"][0]["tariff_id"] is None


JUNK = [
    "[]",
    '"text"',
    "null",
    "42",
    '{"name": null}',
    '{"name": ["x"]}',
    '{"name": {"$gt": ""}}',
    '{"uid": "A", "kind": null, "account_id": -1}',
    '{"departure_at": "9999-99-99T99:99:99Z"}',
    '{"sessions": [null]}',
    '{"sessions": [{}]}',
    '{"ocpp_id": "x", "guest_usage": "yes"}',
    '{"start_cents": "1e400", "name": "t"}',
    '{"start_cents": "NaN", "name": "t"}',
]


async def test_no_route_answers_junk_with_a_server_error(api: Api) -> None:
    """Every route the app serves, with junk bodies and ids, as an admin and as a site."""
    routes = {
        (r.method, r.resource.canonical.removeprefix("/api/v1"))
        for r in api.server.app.router.routes()
        if r.method in {"POST", "PUT", "PATCH"}
    }
    assert len(routes) > 15
    for method, template in sorted(routes):
        for raw in JUNK:
            for who in ("admin", "site"):
                path = template.replace("{id}", str(api.ids["cp"]))
                status, body = await api.call(method, path, who, data=raw)
                assert status < 500, (method, path, raw, body)
                if status >= 400:
                    assert set(body) == {"error", "detail"}


async def test_references_to_missing_records_are_404_not_500(api: Api) -> None:
    status, _ = await api.call(
        "POST", "/tariffs", "admin", json={"name": "t", "account_id": 999_999}
    )
    assert status == 404
    status, platform = await api.call(
        "POST", "/tariffs", "admin", json={"name": "Platform", "account_id": None}
    )
    assert status == 201
    assert platform["account_id"] is None
    for payload in (
        {"ocpp_id": "Z", "account_id": 999_999},
        {"ocpp_id": "Z", "site_id": 999_999},
        {"ocpp_id": "Z", "tariff_id": 999_999},
    ):
        status, _ = await api.call("POST", "/charge-points", "admin", json=payload)
        assert status == 404, payload
    # Straight into the store: the engine's own foreign-key refusal is one error on both.
    with pytest.raises(ReferenceViolation):
        await api.store.sites.create_site(999_999, "ghost", now=NOW)
