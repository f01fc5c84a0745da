"""The API on a real loopback server: auth, scoping, card actions, departures, pagination."""

from __future__ import annotations

from .conftest import Api


async def test_health_needs_no_token_but_everything_else_does(api: Api) -> None:
    assert await api.call("GET", "/health") == (
        200,
        {"status": "ok", "engine": api.store.db.engine},
    )
    status, body = await api.call("GET", "/cards")
    assert status == 401
    assert body["error"] == "unauthorized"
    for header in ("Bearer", "Bearer efx_forged", "Basic abc", "Bearer " + "x" * 5000):
        status, body = await api.call("GET", "/cards", headers={"Authorization": header})
        assert status == 401, header
        assert set(body) == {"error", "detail"}


async def test_each_customer_sees_only_their_own_and_admin_sees_all(api: Api) -> None:
    _, ann = await api.call("GET", "/cards", "ann")
    assert [c["uid"] for c in ann["items"]] == ["ANN01"]
    _, everything = await api.call("GET", "/cards", "admin")
    assert {c["uid"] for c in everything["items"]} == {"ANN01", "BOB01"}
    _, me = await api.call("GET", "/me", "bob")
    assert me["account"]["id"] == api.ids["bob"]
    assert me["admin"] is False


async def test_report_lost_blocks_at_once_with_replacement_fee(api: Api) -> None:
    card_id = api.ids["ann_card"]
    status, body = await api.call("POST", f"/cards/{card_id}/report-lost", "ann", json={})
    assert status == 200
    assert body["card"]["status"] == "lost"
    assert body["replacement_order"]["fee_cents"] == 750
    _, delta = await api.call("GET", "/sync/cards?since=0", "site")
    assert [(c["uid"], c["status"]) for c in delta["cards"]] == [("ANN01", "lost")]
    _, audit = await api.call("GET", "/audit", "ann")
    assert "card.lost" in [e["action"] for e in audit["items"]]
    status, body = await api.call("POST", f"/cards/{card_id}/report-lost", "ann", json={})
    assert status == 409
    assert body["error"] == "conflict"


async def test_block_unblock_and_assign(api: Api) -> None:
    card_id = api.ids["bob_card"]
    assert (await api.call("POST", f"/cards/{card_id}/block", "bob", json={}))[1][
        "status"
    ] == "blocked"
    assert (await api.call("POST", f"/cards/{card_id}/unblock", "bob", json={}))[1][
        "status"
    ] == "active"
    status, _ = await api.call(
        "POST", f"/cards/{card_id}/assign", "bob", json={"account_id": api.ids["ann"]}
    )
    assert status == 403
    status, card = await api.call(
        "POST", f"/cards/{card_id}/assign", "admin", json={"account_id": api.ids["ann"]}
    )
    assert status == 200
    assert card["account_id"] == api.ids["ann"]
    _, delta = await api.call("GET", "/sync/cards?since=0", "site")
    assert {c["uid"] for c in delta["cards"]} == {"ANN01", "BOB01"}


async def test_departure_is_set_by_the_driver_and_picked_up_by_the_site(api: Api) -> None:
    cp = api.ids["cp"]
    departure = {
        "departure_at": "2026-11-23T17:30:00+01:00",
        "soc_now": 35,
        "target_soc": 80,
        "battery_kwh": 77,
        "car": "ID.4",
    }
    status, body = await api.call("PUT", f"/charge-points/{cp}/departure", "ann", json=departure)
    assert status == 201
    assert body["departure_at"] == "2026-11-23T16:30:00+00:00"
    _, picked = await api.call("GET", "/sync/departures?after=0", "site")
    assert [(d["ocpp_id"], d["soc_now"], d["car"]) for d in picked["items"]] == [
        ("CP1", 35.0, "ID.4")
    ]
    _, later = await api.call("GET", f"/sync/departures?after={picked['items'][0]['id']}", "site")
    assert later["items"] == []


async def test_pagination_walks_every_item_once(api: Api) -> None:
    for n in range(5):
        status, _ = await api.call(
            "POST", "/cards", "admin", json={"uid": f"AA{n:02d}", "account_id": api.ids["bob"]}
        )
        assert status == 201
    seen, after = [], 0
    while True:
        _, body = await api.call("GET", f"/cards?limit=2&after={after}", "bob")
        seen += [c["uid"] for c in body["items"]]
        if body["next"] is None:
            break
        after = body["next"]
    assert seen == ["BOB01", "AA00", "AA01", "AA02", "AA03", "AA04"]


async def test_site_tokens_cannot_use_user_routes_and_back(api: Api) -> None:
    status, body = await api.call("GET", "/cards", "site")
    assert status == 403
    assert body["error"] == "forbidden"
    status, body = await api.call("GET", "/sync/cards", "ann")
    assert status == 403


async def test_sync_config_lists_the_sites_charge_points_and_tariffs(api: Api) -> None:
    status, tariff = await api.call(
        "POST",
        "/tariffs",
        "ann",
        json={"name": "Home", "start_cents": 0, "per_kwh_cents": "24.5", "per_minute_cents": 0},
    )
    assert status == 201
    assert tariff["per_kwh_cents"] == "24.5"
    status, _ = await api.call(
        "PATCH",
        f"/charge-points/{api.ids['cp']}",
        "ann",
        json={"tariff_id": tariff["id"], "guest_usage": True},
    )
    assert status == 200
    _, config = await api.call("GET", "/sync/config", "site")
    assert [cp["ocpp_id"] for cp in config["charge_points"]] == ["CP1"]
    assert [t["id"] for t in config["tariffs"]] == [tariff["id"]]
    # A guest card (bob's) is now welcome on ann's open charger when the site asks live.
    _, guest = await api.call("POST", "/sync/authorize", "site", json={"uid": "bob01"})
    assert guest["status"] == "active"


async def test_gdpr_export_and_erase_keep_the_invoice_fields(api: Api) -> None:
    ann = api.ids["ann"]
    await api.store.db.execute(
        "INSERT INTO invoices (account_id, number, kind, month, issued_on, due_on, status,"
        " net_cents, vat_cents, gross_cents, customer_name, customer_address, created_at)"
        " VALUES (?, 'INV-2026-0001', 'invoice', '2026-10', '2026-11-01', '2026-11-15', 'open',"
        " 1000, 210, 1210, 'Ann', 'Kerkstraat 1', '2026-11-01T00:00:00.000000Z')",
        ann,
    )
    status, export = await api.call("GET", f"/accounts/{ann}/export", "ann")
    assert status == 200
    assert export["account"]["name"] == "Ann"
    assert [c["uid"] for c in export["cards"]] == ["ANN01"]
    assert [i["number"] for i in export["invoices"]] == ["INV-2026-0001"]
    status, erased = await api.call("POST", f"/accounts/{ann}/erase", "ann", json={})
    assert status == 200
    assert erased["name"] == "(erased)"
    assert erased["erased_at"] is not None
    # The user's own token is revoked with the account; the invoice keeps its legal fields.
    assert (await api.call("GET", "/me", "ann"))[0] == 401
    invoice = await api.store.db.fetchrow("SELECT customer_name, customer_address FROM invoices")
    assert invoice == {"customer_name": "Ann", "customer_address": "Kerkstraat 1"}
    _, card = await api.call("GET", f"/cards/{api.ids['ann_card']}", "admin")
    assert card["status"] == "blocked"
    assert (await api.call("POST", f"/accounts/{ann}/erase", "admin", json={}))[0] == 409
