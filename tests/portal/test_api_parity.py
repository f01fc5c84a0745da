"""Issue 20.1: what the portal does, /api/v1 does too, through the same service functions.

One back end on loopback serves both (the `env` fixture: real HTTP, SQLite and PostgreSQL).
Each operation is driven through the API as its owner, and as another customer whose token
must get 404/403 with nothing changed; a rule changed in one place changes the portal and
the API alike. (Contracts and billing inputs: test_api_contracts.py.)
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from backend.billing.money import Price
from backend.store import CardStatus

from .apicalls import ANSWERS, Env, api, rows, store_of, text


async def test_replacement_card_one_rule_for_api_and_portal(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    portal, seeded, _, _ = env
    store, anna, bob = store_of(portal), seeded.tokens["anna"], seeded.tokens["bob"]
    card, other = seeded.cards["anna"], seeded.cards["anna_xss"]
    for lost in (card, other):
        status, _ = await api(
            portal, "POST", f"/cards/{lost}/report-lost", anna, {"order_replacement": False}
        )
        assert status == 200
    # Bob orders a replacement for Anna's lost card: not found, nothing ordered.
    status, body = await api(portal, "POST", f"/cards/{card}/replacement", bob, {})
    assert (status, body["error"]) == (404, "not_found")
    assert await rows(store, "card_orders") == []
    # The replacement fee is the store's rule: changed there, the API and the portal follow.
    monkeypatch.setattr("backend.store.cards.LOST_CARD_REPLACEMENT_FEE", Price.gross(900))
    status, order = await api(portal, "POST", f"/cards/{card}/replacement", anna, {})
    assert (status, order["fee_cents"], order["replaces_card_id"]) == (201, 900, card)
    status, body = await api(portal, "POST", f"/cards/{card}/replacement", anna, {})
    assert (status, body["error"]) == (409, "conflict")
    await portal.login(seeded.emails["anna"])
    status, location, _ = await portal.post(
        f"/portal/cards/{other}/replace", {}, token_from=f"/portal/cards/{other}/replace"
    )
    assert (status, location) == (303, "/portal/cards?done=ordered")
    orders = await rows(store, "card_orders")
    assert [(o["replaces_card_id"], o["fee_cents"]) for o in orders] == [(card, 900), (other, 900)]
    audit = [e.action for e in await store.audit.list(seeded.accounts["anna"], limit=100)]
    assert audit.count("card_order.create") == 2
    # A card not lost gets no replacement.
    status, _ = await api(portal, "POST", f"/cards/{seeded.cards['bob']}/replacement", bob, {})
    assert status == 409


async def test_iban_only_on_the_callers_account(env: Env) -> None:
    portal, seeded, _, _ = env
    store, anna_id = store_of(portal), seeded.accounts["anna"]
    before = await store.accounts.get_account(anna_id)
    for token, iban, expected in (
        (seeded.tokens["bob"], "NL91 ABNA 0417 1643 00", 404),  # another tenant
        (seeded.tokens["anna"], "NL00 0000 0000 0000 00", 400),  # wrong check digits
        (seeded.tokens["anna"], "x" * 65, 400),
    ):
        status, _ = await api(portal, "PUT", f"/accounts/{anna_id}/iban", token, {"iban": iban})
        assert status == expected
    assert await store.accounts.get_account(anna_id) == before
    status, account = await api(
        portal,
        "PUT",
        f"/accounts/{anna_id}/iban",
        seeded.tokens["anna"],
        {"iban": "nl91 abna 0417 1643 00"},
    )
    assert (status, account["iban"]) == (200, "NL91ABNA0417164300")
    status, account = await api(
        portal,
        "PUT",
        f"/accounts/{seeded.accounts['bob']}/iban",
        seeded.tokens["admin"],
        {"iban": "BE68 5390 0754 7034"},
    )
    assert (status, account["iban"]) == (200, "BE68539007547034")


async def test_guest_usage_on_own_charge_points_under_the_maximum(env: Env) -> None:
    portal, seeded, _, _ = env
    store, cp = store_of(portal), seeded.charge_point
    before, tariffs = await store.sites.get_charge_point(cp), await rows(store, "tariffs")
    cheap = {"guest_usage": True, "start_cents": 0, "per_kwh_cents": "35.5"}
    status, _ = await api(
        portal, "PUT", f"/charge-points/{cp}/guest-usage", seeded.tokens["bob"], cheap
    )
    assert status == 404
    dear = {**cheap, "per_kwh_cents": 76}  # the platform maximum is 75 ct/kWh (art. 28.3)
    status, body = await api(
        portal, "PUT", f"/charge-points/{cp}/guest-usage", seeded.tokens["anna"], dear
    )
    assert (status, body["error"]) == (400, "invalid")
    assert "art. 28.3" in body["detail"]
    assert await store.sites.get_charge_point(cp) == before
    assert await rows(store, "tariffs") == tariffs
    status, point = await api(
        portal, "PUT", f"/charge-points/{cp}/guest-usage", seeded.tokens["anna"], cheap
    )
    assert status == 200
    assert point["guest_usage"] is True
    tariff = await store.sites.get_tariff(point["tariff_id"])
    assert (tariff.name, str(tariff.per_kwh_cents)) == ("Guests at Garage", "35.5")


async def test_notice_and_switch_on_own_subscriptions(env: Env) -> None:
    portal, seeded, _, _ = env
    store, anna, bob = store_of(portal), seeded.tokens["anna"], seeded.tokens["bob"]
    cp_sub, card_sub = seeded.subscriptions["anna_cp"], seeded.subscriptions["anna_card"]
    subscriptions = await rows(store, "subscriptions")
    for method, path, body in (
        ("GET", f"/subscriptions/{cp_sub}", None),
        ("POST", f"/subscriptions/{cp_sub}/notice", {}),
        ("GET", f"/subscriptions/{card_sub}/switch?plan=CARD-FLEX", None),
        ("POST", f"/subscriptions/{card_sub}/switch", {"plan": "CARD-FLEX"}),
    ):
        status, answer = await api(portal, method, path, bob, body)
        assert (status, answer["error"]) == (404, "not_found"), path
    assert await rows(store, "subscriptions") == subscriptions
    assert await rows(store, "plan_switches") == []
    # The dates the portal's cancel page shows (test_security.py), from the same function.
    status, view = await api(portal, "GET", f"/subscriptions/{cp_sub}", anna)
    assert status == 200
    assert (view["status"], view["notice_deadline"]) == ("active", "2026-12-15")
    assert view["notice_today"] == {"rule": "in_time", "ends_on": "2027-01-15"}
    status, view = await api(portal, "POST", f"/subscriptions/{cp_sub}/notice", anna, {})
    assert status == 200
    assert (view["status"], view["ends_on"], view["notice_today"]) == (
        "notice_given",
        "2027-01-15",
        None,
    )
    status, body = await api(portal, "POST", f"/subscriptions/{cp_sub}/notice", anna, {})
    assert (status, body["error"]) == (409, "refused")
    assert "cannot take notice when notice_given" in body["detail"]
    # A switch: previewed, recorded with its fee, shown as pending; a second one is refused.
    status, preview = await api(
        portal, "GET", f"/subscriptions/{card_sub}/switch?plan=CARD-FLEX", anna
    )
    assert (status, preview["effective_on"], preview["fee_cents"]) == (200, "2026-12-01", 750)
    status, record = await api(
        portal, "POST", f"/subscriptions/{card_sub}/switch", anna, {"plan": "CARD-FLEX"}
    )
    assert (status, record["new_plan_code"], record["fee_cents"]) == (201, "CARD-FLEX", 750)
    status, view = await api(portal, "GET", f"/subscriptions/{card_sub}", anna)
    assert view["pending_switch"]["plan_code"] == "CARD-FLEX"
    status, body = await api(
        portal, "POST", f"/subscriptions/{card_sub}/switch", anna, {"plan": "CARD-FLEX"}
    )
    assert (status, body["error"]) == (409, "refused")
    assert len(await rows(store, "plan_switches")) == 1
    # The portal shows the switch the API recorded.
    await portal.login(seeded.emails["anna"])
    html = (await portal.page("/portal/subscription"))[1]
    assert re.search(rf'id="sub-{card_sub}".*?class="pending"', html, re.S)
    status, plans = await api(portal, "GET", "/plans", bob)
    assert "CARD-FLEX" in [p["code"] for p in plans["items"]]


async def test_installation_orders_scoped_and_stepped_by_admins(env: Env) -> None:
    portal, seeded, _, clock = env
    store = store_of(portal)
    anna, bob, admin = seeded.tokens["anna"], seeded.tokens["bob"], seeded.tokens["admin"]
    status, advice = await api(portal, "POST", "/installation-orders/advice", bob, ANSWERS)
    assert (status, advice["power_kw"], advice["amps"]) == (200, "11", 16)
    status, body = await api(
        portal,
        "POST",
        "/installation-orders",
        bob,
        {**ANSWERS, "account_id": seeded.accounts["anna"]},
    )
    assert status == 403
    status, body = await api(
        portal, "POST", "/installation-orders", anna, {**ANSWERS, "cable_mm2": 0}
    )
    assert status == 400
    assert await rows(store, "installation_orders") == []
    status, order = await api(portal, "POST", "/installation-orders", anna, ANSWERS)
    assert status == 201
    assert (order["account_id"], order["order"]["state"]) == (seeded.accounts["anna"], "ordered")
    oid = order["id"]
    assert (await api(portal, "GET", f"/installation-orders/{oid}", bob))[0] == 404
    assert (await api(portal, "GET", "/installation-orders", bob))[1]["items"] == []
    step = {"action": "schedule", "on": "2026-11-23", "date": "2026-11-25"}
    assert (await api(portal, "POST", f"/installation-orders/{oid}/steps", anna, step))[0] == 403
    points = await store.sites.list_charge_points(seeded.accounts["anna"])
    # Approval before the inspection is refused by billing; no charge point is added.
    early = {"action": "approve", "on": "2026-11-23", "text": "anna-drive"}
    status, body = await api(portal, "POST", f"/installation-orders/{oid}/steps", admin, early)
    assert (status, body["error"]) == (409, "refused")
    assert await store.sites.list_charge_points(seeded.accounts["anna"]) == points
    for step in (
        {"action": "schedule", "on": "2026-11-23", "date": "2026-11-25"},
        {"action": "installed", "on": "2026-11-25", "text": "tx-test"},
        {"action": "inspection", "on": "2026-11-25", "date": "2026-11-28"},
        {"action": "reject", "on": "2026-11-28", "text": "no RCD type B\nlabel missing"},
        {"action": "inspection", "on": "2026-11-29", "date": "2026-12-02"},
        {"action": "approve", "on": "2026-12-02", "text": "anna-drive"},
    ):
        status, order = await api(portal, "POST", f"/installation-orders/{oid}/steps", admin, step)
        assert status == 200, order
    reports = order["order"]["reports"]
    assert [(r["approved"], r["reasons"]) for r in reports] == [
        (False, ["no RCD type B", "label missing"]),
        (True, []),
    ]
    added = await store.sites.list_charge_points(seeded.accounts["anna"])
    assert [p.ocpp_id for p in added if p not in points] == ["anna-drive"]
    assert order["order"]["charge_point_id"] == str(added[-1].id)
    # The portal shows the order the API moved.
    clock.now += timedelta(minutes=1)
    await portal.login(seeded.emails["anna"])
    html = (await portal.page("/portal/charge-points"))[1]
    assert f'id="installation-{oid}"' in html
    assert "anna-drive" in html


async def test_card_block_and_invoicing_run_are_for_admins(env: Env) -> None:
    portal, seeded, _, _ = env
    status, _ = await api(
        portal, "POST", "/invoicing/runs", seeded.tokens["anna"], {"month": "2026-10"}
    )
    assert status == 403
    assert await rows(store_of(portal), "invoices") == []
    status, body = await api(
        portal, "POST", "/invoicing/runs", seeded.tokens["admin"], {"month": "2026-13"}
    )
    assert (status, body["error"]) == (400, "invalid")
    status, summary = await api(
        portal, "POST", "/invoicing/runs", seeded.tokens["admin"], {"month": "2026-10"}
    )
    assert (status, summary["month"]) == (200, "2026-10")
    assert summary["invoices"] >= 1
    status, again = await api(
        portal, "POST", "/invoicing/runs", seeded.tokens["admin"], {"month": "2026-10"}
    )
    assert (status, again["issued"]) == (200, 0)
    # Bob blocks Anna's card: 404 and the card stays active.
    card = seeded.cards["anna"]
    status, _ = await api(portal, "POST", f"/cards/{card}/block", seeded.tokens["bob"], {})
    assert status == 404
    assert (await store_of(portal).cards.get_card(card)).status is CardStatus.ACTIVE


async def test_sessions_csv_and_usage_are_the_portals(env: Env) -> None:
    portal, seeded, _, _ = env
    anna, bob = seeded.tokens["anna"], seeded.tokens["bob"]
    await portal.login(seeded.emails["anna"])
    status, page = await text(portal, "/portal/sessions.csv?month=2026-11")
    assert status == 200
    status, exported = await text(portal, "/api/v1/sessions.csv?month=2026-11", anna)
    assert (status, exported) == (200, page)
    assert len(exported.splitlines()) == 1 + 6  # Anna's charger: her 5 November sessions, Bob's 1
    # Bob sees his own sessions on Anna's charger only; naming Anna's card finds nothing.
    status, csv = await text(portal, "/api/v1/sessions.csv", bob)
    cells = [line.split(",") for line in csv.splitlines()[1:]]
    assert status == 200
    assert sorted(r[4] for r in cells) == ["B0B0B0B0", "B0B0B0B0"]
    status, csv = await text(portal, f"/api/v1/sessions.csv?card_id={seeded.cards['anna']}", bob)
    assert (status, len(csv.splitlines())) == (200, 1)
    status, body = await api(portal, "GET", "/usage?month=2026-13", anna)
    assert (status, body["error"]) == (400, "invalid")
    status, usage = await api(portal, "GET", "/usage", anna)
    assert (status, usage["month"], usage["sessions"], len(usage["days"])) == (
        200,
        "2026-11",
        5,
        30,
    )
    assert usage["energy_wh"] == sum(d["energy_wh"] for d in usage["days"])
    html = (await portal.page("/portal/dashboard"))[1]
    kwh = f"{usage['energy_wh'] / 1000:.1f}".replace(".", ",")
    assert kwh in html
    status, usage = await api(portal, "GET", "/usage?month=2026-11", bob)
    assert (status, usage["sessions"]) == (200, 1)
