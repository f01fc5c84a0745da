"""Issue 20.1: contracts and billing inputs through /api/v1 on both engines — applying for a
plan and the operator's acceptance, an installation's approval starting its plan, a consumer's
withdrawal, new plans, and what the run bills besides sessions (charges, outages, indexation,
lease terms, payments, reminders): administrators write, customers read their own (another
account's: 404), a rule refused changes nothing."""

from __future__ import annotations

from datetime import timedelta

from .apicalls import ANSWERS, Env, api, rows, store_of


async def test_apply_and_the_operator_accepts_or_rejects(env: Env) -> None:
    portal, seeded, _, _ = env
    store = store_of(portal)
    anna, bob, admin = seeded.tokens["anna"], seeded.tokens["bob"], seeded.tokens["admin"]
    cp = seeded.charge_point
    subscriptions = await rows(store, "subscriptions")
    for token, body, expected in (
        (bob, {"plan": "CP-FIXED-1Y", "charge_point_id": cp}, 404),  # Anna's charge point
        (bob, {"plan": "CARD-FLEX", "card_id": seeded.cards["anna"]}, 404),  # Anna's card
        (anna, {"plan": "CARD-FLEX"}, 400),  # a card plan names its card
        (anna, {"plan": "CP-FIXED-1Y", "card_id": seeded.cards["anna"]}, 400),
        (bob, {"plan": "CARD-FLEX", "account_id": seeded.accounts["anna"]}, 403),
        (anna, {"plan": "NO-SUCH-PLAN"}, 404),
    ):
        status, _ = await api(portal, "POST", "/subscriptions", token, body)
        assert status == expected, body
    assert await rows(store, "subscriptions") == subscriptions
    status, view = await api(
        portal, "POST", "/subscriptions", anna, {"plan": "CP-FIXED-1Y", "charge_point_id": cp}
    )
    assert (status, view["status"], view["starts_on"]) == (201, "applied", None)
    sub = view["id"]
    status, _ = await api(portal, "POST", f"/subscriptions/{sub}/accept", anna, {})
    assert status == 403
    # Accepted today (23 Nov): a consumer's charge-point plan starts after the 14 days.
    status, view = await api(portal, "POST", f"/subscriptions/{sub}/accept", admin, {})
    assert status == 200
    assert (view["status"], view["starts_on"], view["minimum_term_end"]) == (
        "accepted",
        "2026-12-08",
        "2027-12-08",
    )
    status, body = await api(portal, "POST", f"/subscriptions/{sub}/accept", admin, {})
    assert (status, body["error"]) == (409, "refused")
    status, view = await api(
        portal, "POST", "/subscriptions", bob, {"plan": "CARD-FLEX", "card_id": seeded.cards["bob"]}
    )
    assert status == 201
    status, _ = await api(portal, "POST", f"/subscriptions/{view['id']}/reject", admin, {})
    assert status == 200
    assert (await api(portal, "GET", f"/subscriptions/{view['id']}", bob))[0] == 404
    actions = [e.action for e in await store.audit.list(None, limit=200)]
    assert [a for a in actions if a.startswith("subscription.")] == [
        "subscription.apply",
        "subscription.accept",
        "subscription.apply",
        "subscription.reject",
    ]


async def test_approval_starts_the_orders_charge_point_plan(env: Env) -> None:
    portal, seeded, _, _ = env
    store, anna, admin = store_of(portal), seeded.tokens["anna"], seeded.tokens["admin"]
    for plan, expected in (("NO-SUCH-PLAN", 404), ("CARD-FLEX", 400)):
        status, _ = await api(
            portal, "POST", "/installation-orders", anna, {**ANSWERS, "plan": plan}
        )
        assert status == expected
    assert await rows(store, "installation_orders") == []
    status, order = await api(
        portal, "POST", "/installation-orders", anna, {**ANSWERS, "plan": "CP-FIXED-1Y"}
    )
    assert (status, order["plan_code"], order["subscription_id"]) == (201, "CP-FIXED-1Y", None)
    oid, subscriptions = order["id"], await rows(store, "subscriptions")
    path = f"/installation-orders/{oid}/steps"
    for step in (
        {"action": "schedule", "on": "2026-11-23", "date": "2026-11-24"},
        {"action": "installed", "on": "2026-11-24", "text": "tx-test"},
        {"action": "inspection", "on": "2026-11-24", "date": "2026-11-26"},
    ):
        assert (await api(portal, "POST", path, admin, step))[0] == 200
    # Approved on 26 Nov: the plan is applied for on the order's day, accepted today, and
    # (a consumer, no immediate start) starts after the 14 days of cooling-off.
    approve = {"action": "approve", "on": "2026-11-26", "text": "anna-carport"}
    status, order = await api(portal, "POST", path, admin, approve)
    assert status == 200
    sub = order["subscription_id"]
    assert sub is not None
    assert len(await rows(store, "subscriptions")) == len(subscriptions) + 1
    status, view = await api(portal, "GET", f"/subscriptions/{sub}", anna)
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
    store = store_of(portal)
    anna, bob, admin = seeded.tokens["anna"], seeded.tokens["bob"], seeded.tokens["admin"]
    anna_id, sub = seeded.accounts["anna"], seeded.subscriptions["anna_cp"]
    transfer = {"kind": "transfer", "subscription_id": sub}
    assert (await api(portal, "POST", f"/accounts/{anna_id}/charges", anna, transfer))[0] == 403
    for body, expected in (
        ({"kind": "transfer"}, 400),
        ({"kind": "misuse", "admin_net_cents": 3000}, 409),  # at least €40 excl. VAT
        ({"kind": "misuse", "costs_net_cents": 1.5}, 400),
    ):
        status, _ = await api(portal, "POST", f"/accounts/{anna_id}/charges", admin, body)
        assert status == expected, body
    assert await rows(store, "billing_charges") == []
    status, made = await api(portal, "POST", f"/accounts/{anna_id}/charges", admin, transfer)
    assert (status, len(made["ids"])) == (201, 1)
    misuse = {"kind": "misuse", "costs_net_cents": 1000}
    status, made = await api(portal, "POST", f"/accounts/{anna_id}/charges", admin, misuse)
    assert (status, len(made["ids"])) == (201, 2)
    charges = await rows(store, "billing_charges")
    assert sorted((c["kind"], c["cents"]) for c in charges) == sorted(
        [("transfer_fee", 4500), ("misuse", 4000), ("misuse", 1000)]
    )

    outage = {"started_at": "2026-11-20T08:00:00+01:00", "ended_at": "2026-11-21T08:00:00+01:00"}
    path = f"/subscriptions/{sub}/outages"
    assert (await api(portal, "POST", path, anna, {**outage, "cause": "our_software"}))[0] == 403
    assert (await api(portal, "POST", path, admin, {**outage, "cause": "gremlins"}))[0] == 400
    assert (await api(portal, "POST", path, admin, {**outage, "cause": "our_software"}))[0] == 201

    soon = {"cpi_percent": "3.1", "planned_on": "2026-12-01"}  # announced today, 23 Nov
    assert (await api(portal, "POST", "/indexations", anna, soon))[0] == 403
    status, made = await api(portal, "POST", "/indexations", admin, soon)
    assert (status, made["effective_on"]) == (201, "2026-12-23")  # a month after announcing
    assert (await api(portal, "POST", "/indexations", admin, soon))[0] == 409
    bad = {"cpi_percent": 3.1, "planned_on": "2027-01-01"}  # a float: not exact
    assert (await api(portal, "POST", "/indexations", admin, bad))[0] == 400

    status, _ = await api(portal, "POST", "/invoicing/runs", admin, {"month": "2026-10"})
    assert status == 200
    (invoice,) = [
        r
        for r in await rows(store, "invoices")
        if r["account_id"] == anna_id and r["kind"] == "invoice"
    ]
    path = f"/invoices/{invoice['id']}"
    assert (await api(portal, "GET", path + "/payment", bob))[0] == 404
    status, state = await api(portal, "GET", path + "/payment", anna)
    # Dated 1 Nov, due 15 Nov: overdue on 23 Nov; a reminder once, then paid in full.
    assert (status, state["stage"], state["paid_cents"]) == (200, "overdue", 0)
    assert (await api(portal, "POST", path + "/reminders", anna, {}))[0] == 403
    status, state = await api(portal, "POST", path + "/reminders", admin, {})
    assert (status, state["stage"], state["reminder_sent_on"]) == (201, "reminded", "2026-11-23")
    status, body = await api(portal, "POST", path + "/reminders", admin, {})
    assert (status, body["error"]) == (409, "conflict")
    gross = state["outstanding_cents"]
    assert (await api(portal, "POST", path + "/payments", anna, {"cents": gross}))[0] == 403
    status, state = await api(portal, "POST", path + "/payments", admin, {"cents": gross})
    assert (status, state["stage"], state["outstanding_cents"]) == (201, "paid", 0)

    assert (await api(portal, "GET", f"/accounts/{anna_id}/prepaid", bob))[0] == 404
    status, ledger = await api(portal, "GET", f"/accounts/{anna_id}/prepaid", anna)
    assert (status, ledger["account_id"]) == (200, anna_id)
    cost = {"cents_per_kwh": "24.5"}
    assert (await api(portal, "PUT", f"/accounts/{anna_id}/electricity-cost", anna, cost))[0] == 403
    assert (await api(portal, "PUT", f"/accounts/{anna_id}/electricity-cost", admin, cost))[
        0
    ] == 200
    lease = {"charge_point_id": seeded.charge_point, "rate_cents_per_kwh": "30"}
    status, body = await api(portal, "PUT", f"/accounts/{anna_id}/lease-terms", admin, lease)
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
    assert (await api(portal, "POST", "/plans", anna, plan))[0] == 403
    for wrong in (
        {**plan, "form": "flexible"},  # a flexible plan has no fixed monthly fee
        {**plan, "kind": "charge_point"},  # only card plans have a bundle
        {**plan, "code": "lower case"},
        {**plan, "monthly_fee_cents": -1},
    ):
        status, body = await api(portal, "POST", "/plans", admin, wrong)
        assert (status, body["error"]) == (400, "invalid"), wrong
    status, created = await api(portal, "POST", "/plans", admin, plan)
    assert status == 201
    assert (created["code"], created["monthly_fee"]["cents"], created["bundle"]["energy_wh"]) == (
        "CARD-BUNDLE-50",
        1500,
        50_000,
    )
    assert created["overage"]["per_kwh_cents"] == "39.5"
    status, body = await api(portal, "POST", "/plans", admin, {**plan, "monthly_fee_cents": 1})
    assert (status, body["error"]) == (409, "conflict")
    codes = [p["code"] for p in (await api(portal, "GET", "/plans", anna))[1]["items"]]
    assert "CARD-BUNDLE-50" in codes
    status, view = await api(
        portal,
        "POST",
        "/subscriptions",
        anna,
        {"plan": "CARD-BUNDLE-50", "card_id": seeded.cards["anna"]},
    )
    assert (status, view["plan_code"]) == (201, "CARD-BUNDLE-50")


async def test_withdrawal_within_the_cooling_off_period(env: Env) -> None:
    portal, seeded, _, clock = env
    store = store_of(portal)
    anna, bob, admin = seeded.tokens["anna"], seeded.tokens["bob"], seeded.tokens["admin"]
    # Bob's card plan started in June: the 14 days are long gone.
    status, body = await api(
        portal, "POST", f"/subscriptions/{seeded.subscriptions['bob_card']}/withdraw", bob, {}
    )
    assert (status, body["error"]) == (409, "refused")
    assert "cooling-off period ended" in body["detail"]
    status, view = await api(
        portal,
        "POST",
        "/subscriptions",
        anna,
        {"plan": "CARD-BUNDLE-100", "card_id": seeded.cards["anna_xss"]},
    )
    sub = view["id"]
    assert (await api(portal, "POST", f"/subscriptions/{sub}/accept", admin, {}))[0] == 200
    clock.now += timedelta(days=6)  # a card plan runs from its application: 6 days used
    before = await rows(store, "subscriptions")
    assert (await api(portal, "POST", f"/subscriptions/{sub}/withdraw", bob, {}))[0] == 404
    assert await rows(store, "subscriptions") == before
    status, done = await api(portal, "POST", f"/subscriptions/{sub}/withdraw", anna, {})
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
    assert (await api(portal, "POST", f"/subscriptions/{sub}/withdraw", anna, {}))[0] == 404
