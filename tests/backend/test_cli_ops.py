"""Issue 20.1: the portal's operations as `eflux-backend` verbs, run through its main() (the
first also as its own process) against the test's database (a SQLite file, or a PostgreSQL
schema), each checked in the database after. A refusal is one line on stderr and exit status 1,
with nothing changed. (Contracts and billing inputs: test_cli_contracts.py.)"""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

from backend.billing.calendar import Month, local_date
from backend.billing.plans import PlanForm
from backend.store import CardKind, CardStatus, SessionIn, Store

from .clirun import cli, process, run_main, world
from .conftest import NOW


async def test_card_account_and_charge_point_verbs(schema_url: str, store: Store) -> None:
    ids = await world(store)
    code, order, _ = await process(schema_url, "card", "replace", "--card", str(ids["card"]))
    assert (code, order["replaces_card_id"], order["fee_cents"]) == (0, ids["card"], 750)
    code, _, err = await process(schema_url, "card", "replace", "--card", str(ids["card"]))
    assert code == 1
    assert "ordered already" in err
    assert len(await store.cards.list_orders(None)) == 1

    account = str(ids["account"])
    code, _, err = await cli(
        schema_url, "account", "set-iban", "--account", account, "--iban", "NL00 0000 0000 0000 00"
    )
    assert code == 1
    assert (await store.accounts.get_account(ids["account"])).iban is None
    code, out, _ = await cli(
        schema_url, "account", "set-iban", "--account", account, "--iban", "nl91abna0417164300"
    )
    assert (code, out["iban"]) == (0, "NL91ABNA0417164300")

    point = str(ids["point"])
    code, _, err = await cli(
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
    code, out, _ = await cli(
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
    ids = await world(store)
    code, plans, _ = await cli(schema_url, "plans")
    assert code == 0
    flexible = [p["code"] for p in plans if p["form"] == PlanForm.FLEXIBLE.value]
    assert flexible == ["CARD-FLEX"]
    sub = str(ids["sub"])
    code, view, _ = await cli(schema_url, "subscription", "show", sub, "--on", "2026-11-23")
    assert (code, view["status"], view["minimum_term_end"]) == (0, "active", "2026-04-01")
    code, record, _ = await cli(
        schema_url, "subscription", "switch", sub, "--plan", "CARD-FLEX", "--on", "2026-11-23"
    )
    assert (code, record["effective_on"], record["fee_cents"]) == (0, "2026-12-01", 750)
    code, _, err = await cli(
        schema_url, "subscription", "switch", sub, "--plan", "CARD-FLEX", "--on", "2026-11-24"
    )
    assert code == 1
    assert "switch" in err
    code, view, _ = await cli(schema_url, "subscription", "notice", sub, "--on", "2026-11-23")
    assert (code, view["status"], view["ends_on"]) == (0, "notice_given", "2026-12-23")
    code, _, err = await cli(schema_url, "subscription", "notice", sub, "--on", "2026-11-24")
    assert code == 1
    assert "cannot take notice" in err

    answers = ["--phases", "3", "--cable-mm2", "6", "--car-max-kw", "22", "--battery-kwh", "77"]
    code, advice, _ = await cli(schema_url, "installation", "advise", *answers)
    assert (code, advice["power_kw"], advice["amps"]) == (0, "22", 32)
    code, order, _ = await cli(
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

    code, _, err = await cli(
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
        code, order, err = await cli(
            schema_url, "installation", "step", oid, "--action", action, "--on", str(on), *extra
        )
        assert code == 0, err
    assert order["order"]["state"] == "approved"
    points = await store.sites.list_charge_points(ids["account"])
    assert sorted(p.ocpp_id for p in points) == ["LEA-1", "LEA-2"]
    # Approval started the order's plan for the new charge point, at once (immediate start).
    code, view, _ = await cli(
        schema_url, "subscription", "show", str(order["subscription_id"]), "--on", str(day(5))
    )
    new_point = next(p for p in points if p.ocpp_id == "LEA-2")
    assert (code, view["charge_point_id"], view["starts_on"]) == (0, new_point.id, str(day(5)))
    code, listed, _ = await cli(
        schema_url, "installation", "list", "--account", str(ids["account"])
    )
    assert (code, [o["id"] for o in listed]) == (0, [int(oid)])
    code, _, err = await cli(schema_url, "installation", "show", "999")
    assert (code, "not found" in err) == (1, True)
    assert (await store.cards.get_card(ids["card"])).status is CardStatus.LOST


async def test_card_review_sessions_and_usage_verbs(schema_url: str, store: Store) -> None:
    ids = await world(store)
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
        code, out, _ = await cli(schema_url, "card", action, "--card", str(card.id))
        assert (code, out["status"]) == (0, status)
    code, out, _ = await cli(schema_url, "card", "lost", "--card", str(card.id), "--no-replacement")
    assert (code, out["card"]["status"], out["replacement_order"]) == (0, "lost", None)
    code, _, err = await cli(schema_url, "card", "block", "--card", str(card.id))
    assert (code, "reported lost" in err) == (1, True)

    code, queue, _ = await cli(schema_url, "review", "list")
    assert (code, [s["id"] for s in queue]) == (0, [odd])
    code, out, _ = await cli(
        schema_url, "review", "reject", str(odd), "--reason", "meter says 1 kWh"
    )
    assert (code, out["review"]) == (0, "rejected")
    code, _, err = await cli(schema_url, "review", "accept", str(odd))
    assert code == 1
    assert await store.db.fetchval("SELECT review FROM sessions WHERE id = ?", odd) == "rejected"

    month = str(Month.of(local_date(start)))
    code, _, _ = await cli(schema_url, "sessions", "--account", str(account), "--month", "2026-13")
    assert code == 2  # argparse: not a month
    code, text, _ = await asyncio.to_thread(
        run_main,
        ["--database", schema_url, "sessions", "--account", str(account), "--month", month],
    )
    rows = text.splitlines()
    assert rows[0].startswith("session,started_at_utc")
    assert sorted(r.split(",")[0] for r in rows[1:]) == sorted(str(s.session_id) for s in ingested)
    code, usage, _ = await cli(schema_url, "usage", "--account", str(account), "--month", month)
    assert (code, usage["month"], usage["sessions"]) == (0, month, 2)
    assert usage["energy_wh"] == sum(d["energy_wh"] for d in usage["days"])
