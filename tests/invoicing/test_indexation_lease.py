"""CPI indexations and lease-driver reimbursements loaded from the store into the monthly run,
on SQLite and PostgreSQL: exact amounts, who is indexed from when, hostile input, re-runs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from backend.billing.calendar import Month
from backend.invoicing import Invoicing
from backend.store import AccountKind, CardKind, SessionIn, Store
from backend.store.errors import Conflict, Invalid, NotFound
from tests.billing.factories import CP_FIXED
from tests.invoicing.world import local

pytestmark = pytest.mark.asyncio
NOW = datetime(2024, 1, 1, 9, 0, tzinfo=UTC)
IBAN = "NL91 ABNA 0417 1643 00"


def run_at(month: str) -> datetime:
    return datetime.combine(Month.parse(month).end, datetime.min.time(), UTC) + timedelta(hours=3)


async def fee_customer(store: Store, name: str, since: date) -> int:
    account = await store.accounts.create_account(AccountKind.CONSUMER, name, now=NOW)
    site = await store.sites.create_site(account.id, f"{name}'s home", now=NOW)
    cp = await store.sites.create_charge_point(account.id, f"{name}-CP", now=NOW, site_id=site.id)
    await store.plans.subscribe(
        account.id,
        CP_FIXED.code,
        applied_on=since,
        now=NOW,
        status="active",
        starts_on=since,
        charge_point_id=cp.id,
    )
    return account.id


async def fees(invoicing: Invoicing, account: int, month: str) -> list[int]:
    found = await invoicing.list_invoices(account, month=month)
    details = [await invoicing.get_invoice(i.id, account) for i in found]
    return [ln.gross_cents for d in details for ln in d.lines if ln.kind == "subscription_fee"]


async def test_indexation_from_the_next_billing_month_for_customers_of_over_3_months(
    store: Store,
) -> None:
    invoicing = Invoicing(store.db)
    await store.plans.save_plan(CP_FIXED, now=NOW)
    old = await fee_customer(store, "Olga", date(2024, 1, 1))
    new = await fee_customer(store, "Niek", date(2025, 2, 1))  # 2.5 months on 15 April
    # Published for 15 April; announced 1 March (over a month ahead): in force mid-April.
    await invoicing.record_indexation(Decimal("3.1"), date(2025, 4, 15), date(2025, 3, 1), now=NOW)
    for month in ("2025-04", "2025-05", "2025-06"):
        await invoicing.run_month(Month.parse(month), now=run_at(month))
    # The first run bills April (mid-month: not yet indexed) and May in advance (art. 22.1),
    # then each run the month after next: €12.50 x 1.031 = €12.8875.
    assert await fees(invoicing, old, "2025-04") == [1250, 1289]
    assert await fees(invoicing, old, "2025-05") == [1289]
    assert await fees(invoicing, old, "2025-06") == [1289]
    assert await fees(invoicing, new, "2025-04") == [1250, 1250]
    for month in ("2025-05", "2025-06"):
        assert await fees(invoicing, new, month) == [1250]
    before = await store.db.fetch("SELECT * FROM invoice_lines ORDER BY 1, 2")
    await invoicing.run_month(Month.parse("2025-05"), now=run_at("2025-06"))
    assert await store.db.fetch("SELECT * FROM invoice_lines ORDER BY 1, 2") == before


@pytest.mark.parametrize(
    ("cpi", "planned", "announced", "error"),
    [
        (3.1, date(2025, 4, 1), date(2025, 1, 1), Invalid),  # float: no exact money
        (Decimal("NaN"), date(2025, 4, 1), date(2025, 1, 1), Invalid),
        (Decimal("-100"), date(2025, 4, 1), date(2025, 1, 1), Invalid),
        ("3.1", date(2025, 4, 1), date(2025, 1, 1), Invalid),
        (Decimal("3.1"), "2025-04-01", date(2025, 1, 1), Invalid),
        (Decimal("2"), date(2026, 1, 1), date(2025, 1, 1), Conflict),  # the date is taken
    ],
)
async def test_hostile_indexations_are_refused_and_lose_nothing(
    store: Store,
    cpi: Any,
    planned: Any,
    announced: Any,
    error: type[Exception],
) -> None:
    invoicing = Invoicing(store.db)
    await invoicing.record_indexation(Decimal("1.5"), date(2026, 1, 1), date(2025, 11, 1), now=NOW)
    with pytest.raises(error):
        await invoicing.record_indexation(cpi, planned, announced, now=NOW)
    rows = await store.db.fetch("SELECT cpi_percent, planned_on FROM cpi_indexations")
    assert [(r["cpi_percent"], r["planned_on"]) for r in rows] == [("1.5", "2026-01-01")]


async def lease_world(store: Store) -> tuple[Invoicing, int, int]:
    driver = await store.accounts.create_account(AccountKind.LEASE_DRIVER, "Lea", now=NOW)
    await store.cards.create_card("LEA01", CardKind.SUBSCRIPTION, now=NOW, account_id=driver.id)
    site = await store.sites.create_site(driver.id, "Lea's drive", now=NOW)
    cp = await store.sites.create_charge_point(driver.id, "LEA-CP", now=NOW, site_id=site.id)
    sessions = [
        ("2025-01-05 18:00", 5_000),  # before the charge point was approved
        ("2025-01-12 18:00", 10_000),
        ("2025-01-31 23:30", 7_500),  # until 1 February: a January session
        ("2025-02-02 18:00", 4_000),
    ]
    for n, (start, wh) in enumerate(sessions):
        began = local(start)
        item = SessionIn(
            "LEA-CP",
            f"l{n}",
            1,
            "LEA01",
            began,
            began + timedelta(hours=2),
            0.0,
            float(wh),
            float(wh),
        )
        await store.sessions.ingest(site, [item], now=item.stopped_at)
    return Invoicing(store.db), driver.id, cp.id


async def test_lease_driver_is_reimbursed_home_charging_at_the_lease_rate(store: Store) -> None:
    invoicing, driver, cp = await lease_world(store)
    await invoicing.set_lease_driver(driver, cp, Decimal("22.5"), IBAN, date(2025, 1, 10), now=NOW)
    await invoicing.run_month(Month.parse("2025-01"), now=run_at("2025-01"))
    (january,) = await invoicing.list_reimbursements(driver, driver)
    # 10 + 7.5 kWh at 22.5 ct = 393.75 ct; the 5 January session predates the approval.
    assert (january.month, january.energy_wh, january.cents) == ("2025-01", 17_500, 394)
    assert (january.iban, january.rate_cents_per_kwh, january.payable) == (
        "NL91ABNA0417164300",
        Decimal("22.5"),
        True,
    )
    assert len(january.session_ids) == 2
    assert await invoicing.list_invoices(driver) == []  # home charging is not billed
    rows = await store.db.fetch("SELECT * FROM lease_reimbursements ORDER BY 1, 2")
    await invoicing.run_month(Month.parse("2025-01"), now=run_at("2025-02"))
    assert await store.db.fetch("SELECT * FROM lease_reimbursements ORDER BY 1, 2") == rows
    await invoicing.run_month(Month.parse("2025-02"), now=run_at("2025-02"))
    months = [(r.month, r.cents) for r in await invoicing.list_reimbursements(driver, None)]
    assert months == [("2025-01", 394), ("2025-02", 90)]
    with pytest.raises(NotFound):
        await invoicing.list_reimbursements(driver, driver + 1)


async def test_no_reimbursement_before_the_charge_point_is_active(store: Store) -> None:
    invoicing, driver, cp = await lease_world(store)
    await invoicing.set_lease_driver(driver, cp, Decimal("22.5"), None, None, now=NOW)
    await invoicing.run_month(Month.parse("2025-01"), now=run_at("2025-01"))
    assert await invoicing.list_reimbursements(driver, driver) == []


@pytest.mark.parametrize(
    ("case", "error"),
    [
        ("bad_iban", Invalid),
        ("check_digits", Invalid),
        ("negative_rate", Invalid),
        ("float_rate", Invalid),
        ("other_cp", NotFound),
        ("not_lease", Invalid),
        ("no_account", NotFound),
        ("text_date", Invalid),
    ],
)
async def test_hostile_lease_terms_are_refused_and_lose_nothing(
    store: Store,
    case: str,
    error: type[Exception],
) -> None:
    invoicing, driver, cp = await lease_world(store)
    await invoicing.set_lease_driver(driver, cp, Decimal("20"), IBAN, date(2025, 1, 1), now=NOW)
    other = await store.accounts.create_account(AccountKind.CONSUMER, "Oscar", now=NOW)
    other_cp = await store.sites.create_charge_point(other.id, "OSC-CP", now=NOW)
    args: dict[str, Any] = {
        "account": driver,
        "cp": cp,
        "rate": Decimal("30"),
        "iban": IBAN,
        "active": date(2025, 1, 1),
    }
    changed: dict[str, dict[str, Any]] = {
        "bad_iban": {"iban": "NL91 ABNA 0417 1643 0X'; DROP TABLE lease_drivers;--"},
        "check_digits": {"iban": "NL92ABNA0417164300"},
        "negative_rate": {"rate": Decimal("-1")},
        "float_rate": {"rate": 22.5},
        "other_cp": {"cp": other_cp.id},
        "not_lease": {"account": other.id, "cp": other_cp.id},
        "no_account": {"account": 999_999},
        "text_date": {"active": "2025-01-01"},
    }
    args.update(changed[case])
    with pytest.raises(error):
        await invoicing.set_lease_driver(
            args["account"], args["cp"], args["rate"], args["iban"], args["active"], now=NOW
        )
    rows = await store.db.fetch("SELECT account_id, rate_cents_per_kwh, iban FROM lease_drivers")
    assert [(int(r["account_id"]), r["rate_cents_per_kwh"], r["iban"]) for r in rows] == [
        (driver, "20", "NL91ABNA0417164300")
    ]
