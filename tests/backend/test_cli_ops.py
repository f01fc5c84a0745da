"""Issue 20.1: the portal's operations as `eflux-backend` verbs, run through its main() (the
first also as its own process) against the test's database (a SQLite file, or a PostgreSQL
schema), each checked in the database after.
A refusal is one line on stderr and exit status 1, with nothing changed."""

from __future__ import annotations

import asyncio
import io
import json
import sys
from contextlib import redirect_stderr, redirect_stdout
from datetime import date, timedelta
from typing import Any

from backend.billing.calendar import Month, local_date
from backend.billing.plans import PlanForm
from backend.cli import main
from backend.demo import PLANS
from backend.invoicing import Invoicing
from backend.store import AccountKind, CardKind, CardStatus, SessionIn, Store

from .conftest import NOW


async def _process(url: str, *argv: str) -> tuple[int, Any, str]:
    """The verb as its own process (python -m backend.cli)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "backend.cli",
        "--database",
        url,
        *argv,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, json.loads(out) if out.strip() else None, err.decode()


def _main(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as stop:  # argparse refuses the command line
            code = int(stop.code or 0)
    return code, out.getvalue(), err.getvalue()


async def _cli(url: str, *argv: str) -> tuple[int, Any, str]:
    """The verb through `eflux-backend`'s main() with its own event loop and database
    connection (in a thread: a process per verb costs seconds on a loaded machine)."""
    code, out, err = await asyncio.to_thread(_main, ["--database", url, *argv])
    return code, json.loads(out) if out.strip() else None, err


async def _world(store: Store) -> dict[str, int]:
    for plan in PLANS:
        await store.plans.save_plan(plan, now=NOW)
    account = await store.accounts.create_account(AccountKind.LEASE_DRIVER, "Lea", now=NOW)
    card = await store.cards.create_card(
        "C0FFEE01", CardKind.SUBSCRIPTION, now=NOW, account_id=account.id
    )
    await store.cards.report_lost(card.id, None, now=NOW, actor="t", order_replacement=False)
    point = await store.sites.create_charge_point(account.id, "LEA-1", now=NOW, name="Drive")
    sub = await store.plans.subscribe(
        account.id,
        "CARD-BUNDLE-100",
        applied_on=date(2026, 2, 26),
        now=NOW,
        status="active",
        starts_on=date(2026, 3, 1),
        card_id=card.id,
    )
    return {"account": account.id, "card": card.id, "point": point.id, "sub": sub.id}


async def test_card_account_and_charge_point_verbs(schema_url: str, store: Store) -> None:
    ids = await _world(store)
    code, order, _ = await _process(schema_url, "card", "replace", "--card", str(ids["card"]))
    assert (code, order["replaces_card_id"], order["fee_cents"]) == (0, ids["card"], 750)
    code, _, err = await _process(schema_url, "card", "replace", "--card", str(ids["card"]))
    assert code == 1
    assert "ordered already" in err
    assert len(await store.cards.list_orders(None)) == 1

    account = str(ids["account"])
    code, _, err = await _cli(
        schema_url, "account", "set-iban", "--account", account, "--iban", "NL00 0000 0000 0000 00"
    )
    assert code == 1
    assert (await store.accounts.get_account(ids["account"])).iban is None
    code, out, _ = await _cli(
        schema_url, "account", "set-iban", "--account", account, "--iban", "nl91abna0417164300"
    )
    assert (code, out["iban"]) == (0, "NL91ABNA0417164300")

    point = str(ids["point"])
    code, _, err = await _cli(
        schema_url,
        "charge-point",
        "guest-usage",
        "--charge-point",
        point,
        "--open",
        "--per-kwh-cents",
        "80",
    )
    assert code == 1
    assert "art. 28.3" in err
    assert not (await store.sites.get_charge_point(ids["point"])).guest_usage
    code, out, _ = await _cli(
        schema_url,
        "charge-point",
        "guest-usage",
        "--charge-point",
        point,
        "--open",
        "--per-kwh-cents",
        "40",
    )
    assert (code, out["guest_usage"]) == (0, True)
    tariff = await store.sites.get_tariff(out["tariff_id"])
    assert str(tariff.per_kwh_cents) == "40"


async def test_subscription_and_installation_verbs(schema_url: str, store: Store) -> None:
    ids = await _world(store)
    code, plans, _ = await _cli(schema_url, "plans")
    assert code == 0
    flexible = [p["code"] for p in plans if p["form"] == PlanForm.FLEXIBLE.value]
    assert flexible == ["CARD-FLEX"]
    sub = str(ids["sub"])
    code, view, _ = await _cli(schema_url, "subscription", "show", sub, "--on", "2026-11-23")
    assert (code, view["status"], view["minimum_term_end"]) == (0, "active", "2026-04-01")
    code, record, _ = await _cli(
        schema_url, "subscription", "switch", sub, "--plan", "CARD-FLEX", "--on", "2026-11-23"
    )
    assert (code, record["effective_on"], record["fee_cents"]) == (0, "2026-12-01", 750)
    code, _, err = await _cli(
        schema_url, "subscription", "switch", sub, "--plan", "CARD-FLEX", "--on", "2026-11-24"
    )
    assert code == 1
    assert "switch" in err
    code, view, _ = await _cli(schema_url, "subscription", "notice", sub, "--on", "2026-11-23")
    assert (code, view["status"], view["ends_on"]) == (0, "notice_given", "2026-12-23")
    code, _, err = await _cli(schema_url, "subscription", "notice", sub, "--on", "2026-11-24")
    assert code == 1
    assert "cannot take notice" in err

    answers = ["--phases", "3", "--cable-mm2", "6", "--car-max-kw", "22", "--battery-kwh", "77"]
    code, advice, _ = await _cli(schema_url, "installation", "advise", *answers)
    assert (code, advice["power_kw"], advice["amps"]) == (0, "22", 32)
    code, order, _ = await _cli(
        schema_url,
        "installation",
        "order",
        "--account",
        str(ids["account"]),
        "--plan",
        "CP-FIXED-1Y",
        "--immediate-start",
        *answers,
    )
    assert (code, order["order"]["state"], order["plan_code"]) == (0, "ordered", "CP-FIXED-1Y")
    oid = str(order["id"])
    ordered_on = date.fromisoformat(order["order"]["ordered_on"])  # the verb's today

    def day(n: int) -> date:
        return ordered_on + timedelta(days=n)

    code, _, err = await _cli(
        schema_url,
        "installation",
        "step",
        oid,
        "--action",
        "approve",
        "--on",
        "2026-11-23",
        "--text",
        "LEA-2",
    )
    assert code == 1
    assert "cannot approve when ordered" in err
    steps = (
        ("schedule", day(0), ["--date", str(day(2))]),
        ("installed", day(2), ["--text", "tx-test"]),
        ("inspection", day(2), ["--date", str(day(5))]),
        ("approve", day(5), ["--text", "LEA-2"]),
    )
    for action, on, extra in steps:
        code, order, err = await _cli(
            schema_url, "installation", "step", oid, "--action", action, "--on", str(on), *extra
        )
        assert code == 0, err
    assert order["order"]["state"] == "approved"
    points = await store.sites.list_charge_points(ids["account"])
    assert sorted(p.ocpp_id for p in points) == ["LEA-1", "LEA-2"]
    # Approval started the order's plan for the new charge point, at once (immediate start).
    code, view, _ = await _cli(
        schema_url, "subscription", "show", str(order["subscription_id"]), "--on", str(day(5))
    )
    new_point = next(p for p in points if p.ocpp_id == "LEA-2")
    assert (code, view["charge_point_id"], view["starts_on"]) == (0, new_point.id, str(day(5)))
    code, listed, _ = await _cli(
        schema_url, "installation", "list", "--account", str(ids["account"])
    )
    assert (code, [o["id"] for o in listed]) == (0, [int(oid)])
    code, _, err = await _cli(schema_url, "installation", "show", "999")
    assert (code, "not found" in err) == (1, True)
    assert (await store.cards.get_card(ids["card"])).status is CardStatus.LOST


async def test_card_review_sessions_and_usage_verbs(schema_url: str, store: Store) -> None:
    ids = await _world(store)
    account = ids["account"]
    card = await store.cards.create_card(
        "C0FFEE02", CardKind.SUBSCRIPTION, now=NOW, account_id=account
    )
    site = await store.sites.create_site(account, "Home", now=NOW)
    await store.sites.create_charge_point(
        account, "LEA-H", now=NOW - timedelta(days=9), site_id=site.id
    )
    start = NOW - timedelta(days=2)
    ingested = await store.sessions.ingest(
        site,
        [
            SessionIn(
                "LEA-H", "ok", 1, "C0FFEE02", start, start + timedelta(hours=2), 0.0, 7400.0, 7400.0
            ),
            # 900 kWh against a 1 kWh meter difference: waits in the review queue
            SessionIn(
                "LEA-H",
                "odd",
                1,
                "C0FFEE02",
                start,
                start + timedelta(hours=1),
                0.0,
                1000.0,
                900_000.0,
            ),
        ],
        now=NOW,
    )
    odd = ingested[1].session_id
    for action, status in (("block", "blocked"), ("unblock", "active")):
        code, out, _ = await _cli(schema_url, "card", action, "--card", str(card.id))
        assert (code, out["status"]) == (0, status)
    code, out, _ = await _cli(
        schema_url, "card", "lost", "--card", str(card.id), "--no-replacement"
    )
    assert (code, out["card"]["status"], out["replacement_order"]) == (0, "lost", None)
    code, _, err = await _cli(schema_url, "card", "block", "--card", str(card.id))
    assert (code, "reported lost" in err) == (1, True)

    code, queue, _ = await _cli(schema_url, "review", "list")
    assert (code, [s["id"] for s in queue]) == (0, [odd])
    code, out, _ = await _cli(
        schema_url, "review", "reject", str(odd), "--reason", "meter says 1 kWh"
    )
    assert (code, out["review"]) == (0, "rejected")
    code, _, err = await _cli(schema_url, "review", "accept", str(odd))
    assert code == 1
    assert await store.db.fetchval("SELECT review FROM sessions WHERE id = ?", odd) == "rejected"

    month = str(Month.of(local_date(start)))
    code, _, _ = await _cli(schema_url, "sessions", "--account", str(account), "--month", "2026-13")
    assert code == 2  # argparse: not a month
    code, text, _ = await asyncio.to_thread(
        _main, ["--database", schema_url, "sessions", "--account", str(account), "--month", month]
    )
    rows = text.splitlines()
    assert rows[0].startswith("session,started_at_utc")
    assert sorted(r.split(",")[0] for r in rows[1:]) == sorted(str(s.session_id) for s in ingested)
    code, usage, _ = await _cli(schema_url, "usage", "--account", str(account), "--month", month)
    assert (code, usage["month"], usage["sessions"]) == (0, month, 2)
    assert usage["energy_wh"] == sum(d["energy_wh"] for d in usage["days"])


async def test_apply_and_accept_verbs(schema_url: str, store: Store) -> None:
    ids = await _world(store)
    code, view, _ = await _cli(
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
    code, view, _ = await _cli(schema_url, "subscription", "accept", sub, "--on", "2026-11-24")
    assert (code, view["starts_on"], view["minimum_term_end"]) == (0, "2026-11-24", "2027-11-24")
    code, _, err = await _cli(schema_url, "subscription", "reject", sub, "--on", "2026-11-25")
    assert (code, "cannot reject when" in err) == (1, True)
    status = await store.db.fetchval("SELECT status FROM subscriptions WHERE id = ?", int(sub))
    assert status == "accepted"


async def test_billing_verbs(schema_url: str, store: Store) -> None:
    ids = await _world(store)
    account, sub = str(ids["account"]), str(ids["sub"])
    code, made, _ = await _cli(
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
    code, _, err = await _cli(
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
    code, made, _ = await _cli(
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
    code, made, _ = await _cli(
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
    code, _, _ = await _cli(
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
    code, _, _ = await _cli(
        schema_url, "billing", "electricity-cost", "--account", account, "--cents-per-kwh", "24.5"
    )
    assert code == 0
    code, ledger, _ = await _cli(schema_url, "billing", "prepaid", "--account", account)
    assert (code, ledger["balance_cents"]) == (0, 0)

    await Invoicing(store.db).run_month(Month(2026, 10), now=NOW)
    invoice = await store.db.fetchval(
        "SELECT id FROM invoices WHERE account_id = ? AND kind = 'invoice'", ids["account"]
    )
    code, state, _ = await _cli(
        schema_url, "billing", "payment-state", "--invoice", str(invoice), "--on", "2026-11-02"
    )
    assert (code, state["stage"]) == (0, "open")
    cents = str(state["outstanding_cents"])
    code, state, _ = await _cli(
        schema_url, "billing", "payment", "--invoice", str(invoice), "--cents", cents
    )
    assert (code, state["stage"], state["outstanding_cents"]) == (0, "paid", 0)
    code, _, err = await _cli(schema_url, "billing", "reminder", "--invoice", str(invoice))
    assert (code, "no reminder is due" in err) == (1, True)
    code, _, err = await _cli(schema_url, "billing", "payment-state", "--invoice", "999999")
    assert (code, "not found" in err) == (1, True)


async def test_plans_add_verb(schema_url: str, store: Store) -> None:
    await _world(store)
    add = ["plans", "add", "--code", "CARD-50", "--name", "Card with 50 kWh", "--kind", "card"]
    code, _, err = await _cli(schema_url, *add, "--form", "flexible", "--monthly-fee-cents", "900")
    assert (code, "no fixed monthly fee" in err) == (1, True)
    code, plan, _ = await _cli(
        schema_url, *add, "--form", "fixed", "--monthly-fee-cents", "1500", "--bundle-kwh", "50"
    )
    assert (code, plan["bundle"]["energy_wh"], plan["monthly_fee"]["cents"]) == (0, 50_000, 1500)
    code, _, err = await _cli(schema_url, *add, "--form", "fixed", "--monthly-fee-cents", "1")
    assert (code, "exists already" in err) == (1, True)
    code, listed, _ = await _cli(schema_url, "plans")
    assert [p["monthly_fee"]["cents"] for p in listed if p["code"] == "CARD-50"] == [1500]


async def test_withdraw_verb(schema_url: str, store: Store) -> None:
    ids = await _world(store)
    code, _, err = await _cli(
        schema_url, "subscription", "withdraw", str(ids["sub"]), "--on", "2026-11-23"
    )
    assert (code, "cooling-off period ended" in err) == (1, True)
    code, view, _ = await _cli(
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
    code, done, _ = await _cli(
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
    code, view, _ = await _cli(schema_url, *apply, "--card", str(card.id), "--on", "2026-10-10")
    sub = str(view["id"])
    assert (await _cli(schema_url, "subscription", "accept", sub, "--on", "2026-10-10"))[0] == 0
    code, done, _ = await _cli(schema_url, "subscription", "withdraw", sub, "--on", "2026-10-16")
    assert (code, done["used_days"], done["charge_cents"]) == (0, 6, 500)
    await Invoicing(store.db).run_month(Month(2026, 10), now=NOW)
    lines = await store.db.fetch(
        "SELECT l.kind, l.gross_cents FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id"
        " WHERE i.account_id = ?",
        account.id,
    )
    fees = [line["gross_cents"] for line in lines if "fee" in line["kind"]]
    assert fees == [done["charge_cents"]]
