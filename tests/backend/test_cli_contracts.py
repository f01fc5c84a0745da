"""Issue 20.1: contracts and billing inputs as `eflux-backend` verbs on both engines: apply,
accept, withdraw (and what the run then bills), new plans, charges, outages, indexation, lease
terms, payments and reminders; refusals exit 1 with nothing changed."""

from __future__ import annotations

from backend.billing.calendar import Month
from backend.demo import PLANS
from backend.invoicing import Invoicing
from backend.store import AccountKind, CardKind, Store

from .clirun import cli, world
from .conftest import NOW


async def test_apply_and_accept_verbs(schema_url: str, store: Store) -> None:
    ids = await world(store)
    code, view, _ = await cli(
        schema_url,
        "subscription",
        "apply",
        "--account",
        str(ids["account"]),
        "--plan",
        "CP-FIXED-1Y",
        "--charge-point",
        str(ids["point"]),
        "--immediate-start",
        "--on",
        "2026-11-23",
    )
    assert (code, view["status"]) == (0, "applied")
    sub = str(view["id"])
    code, view, _ = await cli(schema_url, "subscription", "accept", sub, "--on", "2026-11-24")
    assert (code, view["starts_on"], view["minimum_term_end"]) == (0, "2026-11-24", "2027-11-24")
    code, _, err = await cli(schema_url, "subscription", "reject", sub, "--on", "2026-11-25")
    assert (code, "cannot reject when" in err) == (1, True)
    status = await store.db.fetchval("SELECT status FROM subscriptions WHERE id = ?", int(sub))
    assert status == "accepted"


async def test_billing_verbs(schema_url: str, store: Store) -> None:
    ids = await world(store)
    account, sub = str(ids["account"]), str(ids["sub"])
    code, made, _ = await cli(
        schema_url,
        "billing",
        "charge",
        "--account",
        account,
        "--kind",
        "transfer",
        "--subscription",
        sub,
    )
    assert (code, len(made["ids"])) == (0, 1)
    code, _, err = await cli(
        schema_url,
        "billing",
        "charge",
        "--account",
        account,
        "--kind",
        "misuse",
        "--admin-net-cents",
        "3000",
    )
    assert (code, "at least €40" in err) == (1, True)
    charges = await store.db.fetch("SELECT kind, cents FROM billing_charges")
    assert [(c["kind"], c["cents"]) for c in charges] == [("transfer_fee", 4500)]
    code, made, _ = await cli(
        schema_url,
        "billing",
        "outage",
        "--subscription",
        sub,
        "--from",
        "2026-11-20T08:00:00+01:00",
        "--to",
        "2026-11-21T08:00:00+01:00",
        "--cause",
        "our_software",
    )
    assert (code, made["id"] > 0) == (0, True)
    code, made, _ = await cli(
        schema_url,
        "billing",
        "indexation",
        "--cpi-percent",
        "3.1",
        "--planned-on",
        "2027-01-01",
        "--announced-on",
        "2026-12-15",
    )
    assert (code, made["effective_on"]) == (0, "2027-01-15")
    point = str(ids["point"])
    code, _, _ = await cli(
        schema_url,
        "billing",
        "lease-terms",
        "--account",
        account,
        "--charge-point",
        point,
        "--rate-cents-per-kwh",
        "30",
    )
    assert code == 0
    code, _, _ = await cli(
        schema_url, "billing", "electricity-cost", "--account", account, "--cents-per-kwh", "24.5"
    )
    assert code == 0
    code, ledger, _ = await cli(schema_url, "billing", "prepaid", "--account", account)
    assert (code, ledger["balance_cents"]) == (0, 0)

    await Invoicing(store.db).run_month(Month(2026, 10), now=NOW)
    invoice = await store.db.fetchval(
        "SELECT id FROM invoices WHERE account_id = ? AND kind = 'invoice'", ids["account"]
    )
    code, state, _ = await cli(
        schema_url, "billing", "payment-state", "--invoice", str(invoice), "--on", "2026-11-02"
    )
    assert (code, state["stage"]) == (0, "open")
    cents = str(state["outstanding_cents"])
    code, state, _ = await cli(
        schema_url, "billing", "payment", "--invoice", str(invoice), "--cents", cents
    )
    assert (code, state["stage"], state["outstanding_cents"]) == (0, "paid", 0)
    code, _, err = await cli(schema_url, "billing", "reminder", "--invoice", str(invoice))
    assert (code, "no reminder is due" in err) == (1, True)
    code, _, err = await cli(schema_url, "billing", "payment-state", "--invoice", "999999")
    assert (code, "not found" in err) == (1, True)


async def test_plans_add_verb(schema_url: str, store: Store) -> None:
    await world(store)
    add = ["plans", "add", "--code", "CARD-50", "--name", "Card with 50 kWh", "--kind", "card"]
    code, _, err = await cli(schema_url, *add, "--form", "flexible", "--monthly-fee-cents", "900")
    assert (code, "no fixed monthly fee" in err) == (1, True)
    code, plan, _ = await cli(
        schema_url, *add, "--form", "fixed", "--monthly-fee-cents", "1500", "--bundle-kwh", "50"
    )
    assert (code, plan["bundle"]["energy_wh"], plan["monthly_fee"]["cents"]) == (0, 50_000, 1500)
    code, _, err = await cli(schema_url, *add, "--form", "fixed", "--monthly-fee-cents", "1")
    assert (code, "exists already" in err) == (1, True)
    code, listed, _ = await cli(schema_url, "plans")
    assert [p["monthly_fee"]["cents"] for p in listed if p["code"] == "CARD-50"] == [1500]


async def test_withdraw_verb(schema_url: str, store: Store) -> None:
    ids = await world(store)
    code, _, err = await cli(
        schema_url, "subscription", "withdraw", str(ids["sub"]), "--on", "2026-11-23"
    )
    assert (code, "cooling-off period ended" in err) == (1, True)
    code, view, _ = await cli(
        schema_url,
        "subscription",
        "apply",
        "--account",
        str(ids["account"]),
        "--plan",
        "PREPAID",
        "--on",
        "2026-11-23",
    )
    assert code == 0
    code, done, _ = await cli(
        schema_url, "subscription", "withdraw", str(view["id"]), "--on", "2026-11-24"
    )
    assert (code, done["status"], done["used_days"], done["charge_cents"]) == (0, "withdrawn", 0, 0)
    status = await store.db.fetchval("SELECT status FROM subscriptions WHERE id = ?", view["id"])
    assert status == "withdrawn"


async def test_withdrawn_days_are_billed_pro_rata_by_the_run(schema_url: str, store: Store) -> None:
    """What the withdrawal answers is what the month's run bills for the subscription."""
    account = await store.accounts.create_account(AccountKind.CONSUMER, "Wim", now=NOW)
    for plan in PLANS:
        await store.plans.save_plan(plan, now=NOW)
    card = await store.cards.create_card(
        "C0FFEE09", CardKind.SUBSCRIPTION, now=NOW, account_id=account.id
    )
    apply = ["subscription", "apply", "--account", str(account.id), "--plan", "CARD-BUNDLE-100"]
    code, view, _ = await cli(schema_url, *apply, "--card", str(card.id), "--on", "2026-10-10")
    sub = str(view["id"])
    assert (await cli(schema_url, "subscription", "accept", sub, "--on", "2026-10-10"))[0] == 0
    code, done, _ = await cli(schema_url, "subscription", "withdraw", sub, "--on", "2026-10-16")
    assert (code, done["used_days"], done["charge_cents"]) == (0, 6, 500)
    await Invoicing(store.db).run_month(Month(2026, 10), now=NOW)
    lines = await store.db.fetch(
        "SELECT l.kind, l.gross_cents FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id"
        " WHERE i.account_id = ?",
        account.id,
    )
    fees = [line["gross_cents"] for line in lines if "fee" in line["kind"]]
    assert fees == [done["charge_cents"]]
