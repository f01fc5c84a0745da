"""Issue 20.1: what the portal does, /api/v1 does too, through the same service functions.

One back end on loopback serves both (the `env` fixture: real HTTP, SQLite and PostgreSQL).
Each operation is driven through the API as its owner, and as another customer whose token
must get 404/403 with nothing changed; a rule changed in one place changes the portal and
the API alike.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from backend.api.app_keys import STORE
from backend.billing.money import Price
from backend.store import CardStatus, Store

from .client import Portal
from .conftest import Clock
from .seed import Seeded

Env = tuple[Portal, Seeded, Path, Clock]
ANSWERS = {"phases": 3, "cable_mm2": "6", "car_max_kw": 11, "battery_kwh": 60}


def _store(portal: Portal) -> Store:
    assert portal.client.app is not None
    store: Store = portal.client.app[STORE]
    return store


async def _api(
    portal: Portal, method: str, path: str, token: str, body: Any = None
) -> tuple[int, Any]:
    async with portal.client.request(
        method,
        "/api/v1" + path,
        json=body,
        headers={"Authorization": f"Bearer {token}"},
    ) as response:
        return response.status, await response.json()


async def _rows(store: Store, table: str) -> list[dict[str, Any]]:
    return [dict(r) for r in await store.db.fetch(f"SELECT * FROM {table} ORDER BY id")]


async def test_replacement_card_one_rule_for_api_and_portal(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    portal, seeded, _, _ = env
    store, anna, bob = _store(portal), seeded.tokens["anna"], seeded.tokens["bob"]
    card, other = seeded.cards["anna"], seeded.cards["anna_xss"]
    for lost in (card, other):
        status, _ = await _api(
            portal, "POST", f"/cards/{lost}/report-lost", anna, {"order_replacement": False}
        )
        assert status == 200
    # Bob orders a replacement for Anna's lost card: not found, nothing ordered.
    status, body = await _api(portal, "POST", f"/cards/{card}/replacement", bob, {})
    assert (status, body["error"]) == (404, "not_found")
    assert await _rows(store, "card_orders") == []
    # The replacement fee is the store's rule: changed there, the API and the portal follow.
    monkeypatch.setattr("backend.store.cards.LOST_CARD_REPLACEMENT_FEE", Price.gross(900))
    status, order = await _api(portal, "POST", f"/cards/{card}/replacement", anna, {})
    assert (status, order["fee_cents"], order["replaces_card_id"]) == (201, 900, card)
    status, body = await _api(portal, "POST", f"/cards/{card}/replacement", anna, {})
    assert (status, body["error"]) == (409, "conflict")
    await portal.login(seeded.emails["anna"])
    status, location, _ = await portal.post(
        f"/portal/cards/{other}/replace", {}, token_from=f"/portal/cards/{other}/replace"
    )
    assert (status, location) == (303, "/portal/cards?done=ordered")
    orders = await _rows(store, "card_orders")
    assert [(o["replaces_card_id"], o["fee_cents"]) for o in orders] == [(card, 900), (other, 900)]
    audit = [e.action for e in await store.audit.list(seeded.accounts["anna"], limit=100)]
    assert audit.count("card_order.create") == 2
    # A card not lost gets no replacement.
    status, _ = await _api(portal, "POST", f"/cards/{seeded.cards['bob']}/replacement", bob, {})
    assert status == 409


async def test_iban_only_on_the_callers_account(env: Env) -> None:
    portal, seeded, _, _ = env
    store, anna_id = _store(portal), seeded.accounts["anna"]
    before = await store.accounts.get_account(anna_id)
    for token, iban, expected in (
        (seeded.tokens["bob"], "NL91 ABNA 0417 1643 00", 404),  # another tenant
        (seeded.tokens["anna"], "NL00 0000 0000 0000 00", 400),  # wrong check digits
        (seeded.tokens["anna"], "x" * 65, 400),
    ):
        status, _ = await _api(portal, "PUT", f"/accounts/{anna_id}/iban", token, {"iban": iban})
        assert status == expected
    assert await store.accounts.get_account(anna_id) == before
    status, account = await _api(
        portal,
        "PUT",
        f"/accounts/{anna_id}/iban",
        seeded.tokens["anna"],
        {"iban": "nl91 abna 0417 1643 00"},
    )
    assert (status, account["iban"]) == (200, "NL91ABNA0417164300")
    status, account = await _api(
        portal,
        "PUT",
        f"/accounts/{seeded.accounts['bob']}/iban",
        seeded.tokens["admin"],
        {"iban": "BE68 5390 0754 7034"},
    )
    assert (status, account["iban"]) == (200, "BE68539007547034")


async def test_guest_usage_on_own_charge_points_under_the_maximum(env: Env) -> None:
    portal, seeded, _, _ = env
    store, cp = _store(portal), seeded.charge_point
    before, tariffs = await store.sites.get_charge_point(cp), await _rows(store, "tariffs")
    cheap = {"guest_usage": True, "start_cents": 0, "per_kwh_cents": "35.5"}
    status, _ = await _api(
        portal, "PUT", f"/charge-points/{cp}/guest-usage", seeded.tokens["bob"], cheap
    )
    assert status == 404
    dear = {**cheap, "per_kwh_cents": 76}  # the platform maximum is 75 ct/kWh (art. 28.3)
    status, body = await _api(
        portal, "PUT", f"/charge-points/{cp}/guest-usage", seeded.tokens["anna"], dear
    )
    assert (status, body["error"]) == (400, "invalid")
    assert "art. 28.3" in body["detail"]
    assert await store.sites.get_charge_point(cp) == before
    assert await _rows(store, "tariffs") == tariffs
    status, point = await _api(
        portal, "PUT", f"/charge-points/{cp}/guest-usage", seeded.tokens["anna"], cheap
    )
    assert status == 200
    assert point["guest_usage"] is True
    tariff = await store.sites.get_tariff(point["tariff_id"])
    assert (tariff.name, str(tariff.per_kwh_cents)) == ("Guests at Garage", "35.5")


async def test_notice_and_switch_on_own_subscriptions(env: Env) -> None:
    portal, seeded, _, _ = env
    store, anna, bob = _store(portal), seeded.tokens["anna"], seeded.tokens["bob"]
    cp_sub, card_sub = seeded.subscriptions["anna_cp"], seeded.subscriptions["anna_card"]
    subscriptions = await _rows(store, "subscriptions")
    for method, path, body in (
        ("GET", f"/subscriptions/{cp_sub}", None),
        ("POST", f"/subscriptions/{cp_sub}/notice", {}),
        ("GET", f"/subscriptions/{card_sub}/switch?plan=CARD-FLEX", None),
        ("POST", f"/subscriptions/{card_sub}/switch", {"plan": "CARD-FLEX"}),
    ):
        status, answer = await _api(portal, method, path, bob, body)
        assert (status, answer["error"]) == (404, "not_found"), path
    assert await _rows(store, "subscriptions") == subscriptions
    assert await _rows(store, "plan_switches") == []
    # The dates the portal's cancel page shows (test_security.py), from the same function.
    status, view = await _api(portal, "GET", f"/subscriptions/{cp_sub}", anna)
    assert status == 200
    assert (view["status"], view["notice_deadline"]) == ("active", "2026-12-15")
    assert view["notice_today"] == {"rule": "in_time", "ends_on": "2027-01-15"}
    status, view = await _api(portal, "POST", f"/subscriptions/{cp_sub}/notice", anna, {})
    assert status == 200
    assert (view["status"], view["ends_on"], view["notice_today"]) == (
        "notice_given",
        "2027-01-15",
        None,
    )
    status, body = await _api(portal, "POST", f"/subscriptions/{cp_sub}/notice", anna, {})
    assert (status, body["error"]) == (409, "refused")
    assert "cannot take notice when notice_given" in body["detail"]
    # A switch: previewed, recorded with its fee, shown as pending; a second one is refused.
    status, preview = await _api(
        portal, "GET", f"/subscriptions/{card_sub}/switch?plan=CARD-FLEX", anna
    )
    assert (status, preview["effective_on"], preview["fee_cents"]) == (200, "2026-12-01", 750)
    status, record = await _api(
        portal, "POST", f"/subscriptions/{card_sub}/switch", anna, {"plan": "CARD-FLEX"}
    )
    assert (status, record["new_plan_code"], record["fee_cents"]) == (201, "CARD-FLEX", 750)
    status, view = await _api(portal, "GET", f"/subscriptions/{card_sub}", anna)
    assert view["pending_switch"]["plan_code"] == "CARD-FLEX"
    status, body = await _api(
        portal, "POST", f"/subscriptions/{card_sub}/switch", anna, {"plan": "CARD-FLEX"}
    )
    assert (status, body["error"]) == (409, "refused")
    assert len(await _rows(store, "plan_switches")) == 1
    # The portal shows the switch the API recorded.
    await portal.login(seeded.emails["anna"])
    html = (await portal.page("/portal/subscription"))[1]
    assert re.search(rf'id="sub-{card_sub}".*?class="pending"', html, re.S)
    status, plans = await _api(portal, "GET", "/plans", bob)
    assert "CARD-FLEX" in [p["code"] for p in plans["items"]]


async def test_installation_orders_scoped_and_stepped_by_admins(env: Env) -> None:
    portal, seeded, _, clock = env
    store = _store(portal)
    anna, bob, admin = seeded.tokens["anna"], seeded.tokens["bob"], seeded.tokens["admin"]
    status, advice = await _api(portal, "POST", "/installation-orders/advice", bob, ANSWERS)
    assert (status, advice["power_kw"], advice["amps"]) == (200, "11", 16)
    status, body = await _api(
        portal,
        "POST",
        "/installation-orders",
        bob,
        {**ANSWERS, "account_id": seeded.accounts["anna"]},
    )
    assert status == 403
    status, body = await _api(
        portal, "POST", "/installation-orders", anna, {**ANSWERS, "cable_mm2": 0}
    )
    assert status == 400
    assert await _rows(store, "installation_orders") == []
    status, order = await _api(portal, "POST", "/installation-orders", anna, ANSWERS)
    assert status == 201
    assert (order["account_id"], order["order"]["state"]) == (seeded.accounts["anna"], "ordered")
    oid = order["id"]
    assert (await _api(portal, "GET", f"/installation-orders/{oid}", bob))[0] == 404
    assert (await _api(portal, "GET", "/installation-orders", bob))[1]["items"] == []
    step = {"action": "schedule", "on": "2026-11-23", "date": "2026-11-25"}
    assert (await _api(portal, "POST", f"/installation-orders/{oid}/steps", anna, step))[0] == 403
    points = await store.sites.list_charge_points(seeded.accounts["anna"])
    # Approval before the inspection is refused by billing; no charge point is added.
    early = {"action": "approve", "on": "2026-11-23", "text": "anna-drive"}
    status, body = await _api(portal, "POST", f"/installation-orders/{oid}/steps", admin, early)
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
        status, order = await _api(portal, "POST", f"/installation-orders/{oid}/steps", admin, step)
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
    status, _ = await _api(
        portal, "POST", "/invoicing/runs", seeded.tokens["anna"], {"month": "2026-10"}
    )
    assert status == 403
    assert await _rows(_store(portal), "invoices") == []
    status, body = await _api(
        portal, "POST", "/invoicing/runs", seeded.tokens["admin"], {"month": "2026-13"}
    )
    assert (status, body["error"]) == (400, "invalid")
    status, summary = await _api(
        portal, "POST", "/invoicing/runs", seeded.tokens["admin"], {"month": "2026-10"}
    )
    assert (status, summary["month"]) == (200, "2026-10")
    assert summary["invoices"] >= 1
    status, again = await _api(
        portal, "POST", "/invoicing/runs", seeded.tokens["admin"], {"month": "2026-10"}
    )
    assert (status, again["issued"]) == (200, 0)
    # Bob blocks Anna's card: 404 and the card stays active.
    card = seeded.cards["anna"]
    status, _ = await _api(portal, "POST", f"/cards/{card}/block", seeded.tokens["bob"], {})
    assert status == 404
    assert (await _store(portal).cards.get_card(card)).status is CardStatus.ACTIVE


async def _text(portal: Portal, path: str, token: str | None = None) -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with portal.client.get(path, headers=headers, allow_redirects=False) as response:
        return response.status, await response.text()


async def test_sessions_csv_and_usage_are_the_portals(env: Env) -> None:
    portal, seeded, _, _ = env
    anna, bob = seeded.tokens["anna"], seeded.tokens["bob"]
    await portal.login(seeded.emails["anna"])
    status, page = await _text(portal, "/portal/sessions.csv?month=2026-11")
    assert status == 200
    status, api = await _text(portal, "/api/v1/sessions.csv?month=2026-11", anna)
    assert (status, api) == (200, page)
    assert len(api.splitlines()) == 1 + 6  # Anna's charger: her 5 November sessions, Bob's 1
    # Bob sees his own sessions on Anna's charger only; naming Anna's card finds nothing.
    status, csv = await _text(portal, "/api/v1/sessions.csv", bob)
    rows = [line.split(",") for line in csv.splitlines()[1:]]
    assert status == 200
    assert sorted(r[4] for r in rows) == ["B0B0B0B0", "B0B0B0B0"]
    status, csv = await _text(portal, f"/api/v1/sessions.csv?card_id={seeded.cards['anna']}", bob)
    assert (status, len(csv.splitlines())) == (200, 1)
    status, body = await _api(portal, "GET", "/usage?month=2026-13", anna)
    assert (status, body["error"]) == (400, "invalid")
    status, usage = await _api(portal, "GET", "/usage", anna)
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
    status, usage = await _api(portal, "GET", "/usage?month=2026-11", bob)
    assert (status, usage["sessions"]) == (200, 1)


async def test_apply_and_the_operator_accepts_or_rejects(env: Env) -> None:
    portal, seeded, _, _ = env
    store = _store(portal)
    anna, bob, admin = seeded.tokens["anna"], seeded.tokens["bob"], seeded.tokens["admin"]
    cp = seeded.charge_point
    subscriptions = await _rows(store, "subscriptions")
    for token, body, expected in (
        (bob, {"plan": "CP-FIXED-1Y", "charge_point_id": cp}, 404),  # Anna's charge point
        (bob, {"plan": "CARD-FLEX", "card_id": seeded.cards["anna"]}, 404),  # Anna's card
        (anna, {"plan": "CARD-FLEX"}, 400),  # a card plan names its card
        (anna, {"plan": "CP-FIXED-1Y", "card_id": seeded.cards["anna"]}, 400),
        (bob, {"plan": "CARD-FLEX", "account_id": seeded.accounts["anna"]}, 403),
        (anna, {"plan": "NO-SUCH-PLAN"}, 404),
    ):
        status, _ = await _api(portal, "POST", "/subscriptions", token, body)
        assert status == expected, body
    assert await _rows(store, "subscriptions") == subscriptions
    status, view = await _api(
        portal, "POST", "/subscriptions", anna, {"plan": "CP-FIXED-1Y", "charge_point_id": cp}
    )
    assert (status, view["status"], view["starts_on"]) == (201, "applied", None)
    sub = view["id"]
    status, _ = await _api(portal, "POST", f"/subscriptions/{sub}/accept", anna, {})
    assert status == 403
    # Accepted today (23 Nov): a consumer's charge-point plan starts after the 14 days.
    status, view = await _api(portal, "POST", f"/subscriptions/{sub}/accept", admin, {})
    assert status == 200
    assert (view["status"], view["starts_on"], view["minimum_term_end"]) == (
        "accepted",
        "2026-12-08",
        "2027-12-08",
    )
    status, body = await _api(portal, "POST", f"/subscriptions/{sub}/accept", admin, {})
    assert (status, body["error"]) == (409, "refused")
    status, view = await _api(
        portal, "POST", "/subscriptions", bob, {"plan": "CARD-FLEX", "card_id": seeded.cards["bob"]}
    )
    assert status == 201
    status, _ = await _api(portal, "POST", f"/subscriptions/{view['id']}/reject", admin, {})
    assert status == 200
    assert (await _api(portal, "GET", f"/subscriptions/{view['id']}", bob))[0] == 404
    actions = [e.action for e in await store.audit.list(None, limit=200)]
    assert [a for a in actions if a.startswith("subscription.")] == [
        "subscription.apply",
        "subscription.accept",
        "subscription.apply",
        "subscription.reject",
    ]


async def test_approval_starts_the_orders_charge_point_plan(env: Env) -> None:
    portal, seeded, _, _ = env
    store, anna, admin = _store(portal), seeded.tokens["anna"], seeded.tokens["admin"]
    for plan, expected in (("NO-SUCH-PLAN", 404), ("CARD-FLEX", 400)):
        status, _ = await _api(
            portal, "POST", "/installation-orders", anna, {**ANSWERS, "plan": plan}
        )
        assert status == expected
    assert await _rows(store, "installation_orders") == []
    status, order = await _api(
        portal, "POST", "/installation-orders", anna, {**ANSWERS, "plan": "CP-FIXED-1Y"}
    )
    assert (status, order["plan_code"], order["subscription_id"]) == (201, "CP-FIXED-1Y", None)
    oid, subscriptions = order["id"], await _rows(store, "subscriptions")
    path = f"/installation-orders/{oid}/steps"
    for step in (
        {"action": "schedule", "on": "2026-11-23", "date": "2026-11-24"},
        {"action": "installed", "on": "2026-11-24", "text": "tx-test"},
        {"action": "inspection", "on": "2026-11-24", "date": "2026-11-26"},
    ):
        assert (await _api(portal, "POST", path, admin, step))[0] == 200
    # Approved on 26 Nov: the plan is applied for on the order's day, accepted today, and
    # (a consumer, no immediate start) starts after the 14 days of cooling-off.
    approve = {"action": "approve", "on": "2026-11-26", "text": "anna-carport"}
    status, order = await _api(portal, "POST", path, admin, approve)
    assert status == 200
    sub = order["subscription_id"]
    assert sub is not None
    assert len(await _rows(store, "subscriptions")) == len(subscriptions) + 1
    status, view = await _api(portal, "GET", f"/subscriptions/{sub}", anna)
    assert status == 200
    assert view["charge_point_id"] == int(order["order"]["charge_point_id"])
    assert (view["plan_code"], view["applied_on"], view["accepted_on"]) == (
        "CP-FIXED-1Y",
        "2026-11-23",
        "2026-11-26",
    )
    assert (view["starts_on"], view["minimum_term_end"]) == ("2026-12-11", "2027-12-11")
    actions = [e.action for e in await store.audit.list(seeded.accounts["anna"], limit=200)]
    assert actions[-3:] == ["subscription.apply", "subscription.accept", "installation.approved"]


async def test_billing_inputs_are_for_admins_and_reads_are_scoped(env: Env) -> None:
    portal, seeded, _, _ = env
    store = _store(portal)
    anna, bob, admin = seeded.tokens["anna"], seeded.tokens["bob"], seeded.tokens["admin"]
    anna_id, sub = seeded.accounts["anna"], seeded.subscriptions["anna_cp"]
    transfer = {"kind": "transfer", "subscription_id": sub}
    assert (await _api(portal, "POST", f"/accounts/{anna_id}/charges", anna, transfer))[0] == 403
    for body, expected in (
        ({"kind": "transfer"}, 400),
        ({"kind": "misuse", "admin_net_cents": 3000}, 409),  # at least €40 excl. VAT
        ({"kind": "misuse", "costs_net_cents": 1.5}, 400),
    ):
        status, _ = await _api(portal, "POST", f"/accounts/{anna_id}/charges", admin, body)
        assert status == expected, body
    assert await _rows(store, "billing_charges") == []
    status, made = await _api(portal, "POST", f"/accounts/{anna_id}/charges", admin, transfer)
    assert (status, len(made["ids"])) == (201, 1)
    misuse = {"kind": "misuse", "costs_net_cents": 1000}
    status, made = await _api(portal, "POST", f"/accounts/{anna_id}/charges", admin, misuse)
    assert (status, len(made["ids"])) == (201, 2)
    charges = await _rows(store, "billing_charges")
    assert sorted((c["kind"], c["cents"]) for c in charges) == sorted(
        [("transfer_fee", 4500), ("misuse", 4000), ("misuse", 1000)]
    )

    outage = {"started_at": "2026-11-20T08:00:00+01:00", "ended_at": "2026-11-21T08:00:00+01:00"}
    path = f"/subscriptions/{sub}/outages"
    assert (await _api(portal, "POST", path, anna, {**outage, "cause": "our_software"}))[0] == 403
    assert (await _api(portal, "POST", path, admin, {**outage, "cause": "gremlins"}))[0] == 400
    assert (await _api(portal, "POST", path, admin, {**outage, "cause": "our_software"}))[0] == 201

    soon = {"cpi_percent": "3.1", "planned_on": "2026-12-01"}  # announced today, 23 Nov
    assert (await _api(portal, "POST", "/indexations", anna, soon))[0] == 403
    status, made = await _api(portal, "POST", "/indexations", admin, soon)
    assert (status, made["effective_on"]) == (201, "2026-12-23")  # a month after announcing
    assert (await _api(portal, "POST", "/indexations", admin, soon))[0] == 409
    bad = {"cpi_percent": 3.1, "planned_on": "2027-01-01"}  # a float: not exact
    assert (await _api(portal, "POST", "/indexations", admin, bad))[0] == 400

    status, _ = await _api(portal, "POST", "/invoicing/runs", admin, {"month": "2026-10"})
    assert status == 200
    (invoice,) = [
        r
        for r in await _rows(store, "invoices")
        if r["account_id"] == anna_id and r["kind"] == "invoice"
    ]
    path = f"/invoices/{invoice['id']}"
    assert (await _api(portal, "GET", path + "/payment", bob))[0] == 404
    status, state = await _api(portal, "GET", path + "/payment", anna)
    # Dated 1 Nov, due 15 Nov: overdue on 23 Nov; a reminder once, then paid in full.
    assert (status, state["stage"], state["paid_cents"]) == (200, "overdue", 0)
    assert (await _api(portal, "POST", path + "/reminders", anna, {}))[0] == 403
    status, state = await _api(portal, "POST", path + "/reminders", admin, {})
    assert (status, state["stage"], state["reminder_sent_on"]) == (201, "reminded", "2026-11-23")
    status, body = await _api(portal, "POST", path + "/reminders", admin, {})
    assert (status, body["error"]) == (409, "conflict")
    gross = state["outstanding_cents"]
    assert (await _api(portal, "POST", path + "/payments", anna, {"cents": gross}))[0] == 403
    status, state = await _api(portal, "POST", path + "/payments", admin, {"cents": gross})
    assert (status, state["stage"], state["outstanding_cents"]) == (201, "paid", 0)

    assert (await _api(portal, "GET", f"/accounts/{anna_id}/prepaid", bob))[0] == 404
    status, ledger = await _api(portal, "GET", f"/accounts/{anna_id}/prepaid", anna)
    assert (status, ledger["account_id"]) == (200, anna_id)
    cost = {"cents_per_kwh": "24.5"}
    assert (await _api(portal, "PUT", f"/accounts/{anna_id}/electricity-cost", anna, cost))[
        0
    ] == 403
    assert (await _api(portal, "PUT", f"/accounts/{anna_id}/electricity-cost", admin, cost))[
        0
    ] == 200
    lease = {"charge_point_id": seeded.charge_point, "rate_cents_per_kwh": "30"}
    status, body = await _api(portal, "PUT", f"/accounts/{anna_id}/lease-terms", admin, lease)
    assert (status, "not a lease driver" in body["detail"]) == (400, True)


async def test_new_plans_by_admins_checked_by_billing(env: Env) -> None:
    portal, seeded, _, _ = env
    anna, admin = seeded.tokens["anna"], seeded.tokens["admin"]
    plan = {
        "code": "CARD-BUNDLE-50",
        "name": "Card with 50 kWh",
        "kind": "card",
        "form": "fixed",
        "monthly_fee_cents": 1500,
        "bundle": {"energy_wh": 50_000},
        "overage": {"per_kwh_cents": "39.5"},
    }
    assert (await _api(portal, "POST", "/plans", anna, plan))[0] == 403
    for wrong in (
        {**plan, "form": "flexible"},  # a flexible plan has no fixed monthly fee
        {**plan, "kind": "charge_point"},  # only card plans have a bundle
        {**plan, "code": "lower case"},
        {**plan, "monthly_fee_cents": -1},
    ):
        status, body = await _api(portal, "POST", "/plans", admin, wrong)
        assert (status, body["error"]) == (400, "invalid"), wrong
    status, created = await _api(portal, "POST", "/plans", admin, plan)
    assert status == 201
    assert (created["code"], created["monthly_fee"]["cents"], created["bundle"]["energy_wh"]) == (
        "CARD-BUNDLE-50",
        1500,
        50_000,
    )
    assert created["overage"]["per_kwh_cents"] == "39.5"
    status, body = await _api(portal, "POST", "/plans", admin, {**plan, "monthly_fee_cents": 1})
    assert (status, body["error"]) == (409, "conflict")
    codes = [p["code"] for p in (await _api(portal, "GET", "/plans", anna))[1]["items"]]
    assert "CARD-BUNDLE-50" in codes
    status, view = await _api(
        portal,
        "POST",
        "/subscriptions",
        anna,
        {"plan": "CARD-BUNDLE-50", "card_id": seeded.cards["anna"]},
    )
    assert (status, view["plan_code"]) == (201, "CARD-BUNDLE-50")


async def test_withdrawal_within_the_cooling_off_period(env: Env) -> None:
    portal, seeded, _, clock = env
    store = _store(portal)
    anna, bob, admin = seeded.tokens["anna"], seeded.tokens["bob"], seeded.tokens["admin"]
    # Bob's card plan started in June: the 14 days are long gone.
    status, body = await _api(
        portal, "POST", f"/subscriptions/{seeded.subscriptions['bob_card']}/withdraw", bob, {}
    )
    assert (status, body["error"]) == (409, "refused")
    assert "cooling-off period ended" in body["detail"]
    status, view = await _api(
        portal,
        "POST",
        "/subscriptions",
        anna,
        {"plan": "CARD-BUNDLE-100", "card_id": seeded.cards["anna_xss"]},
    )
    sub = view["id"]
    assert (await _api(portal, "POST", f"/subscriptions/{sub}/accept", admin, {}))[0] == 200
    clock.now += timedelta(days=6)  # a card plan runs from its application: 6 days used
    before = await _rows(store, "subscriptions")
    assert (await _api(portal, "POST", f"/subscriptions/{sub}/withdraw", bob, {}))[0] == 404
    assert await _rows(store, "subscriptions") == before
    status, done = await _api(portal, "POST", f"/subscriptions/{sub}/withdraw", anna, {})
    assert status == 200
    assert (done["status"], done["ends_on"], done["used_days"]) == ("withdrawn", "2026-11-29", 6)
    assert done["charge_cents"] == 500  # €25 a month: 6/30 of it
    assert done["refund_due_by"] == "2026-12-13"
    row = await store.db.fetchrow(
        "SELECT status, ends_on, end_reason FROM subscriptions WHERE id = ?", sub
    )
    assert dict(row or {}) == {
        "status": "withdrawn",
        "ends_on": "2026-11-29",
        "end_reason": "withdrawal",
    }
    assert (await _api(portal, "POST", f"/subscriptions/{sub}/withdraw", anna, {}))[0] == 404
