"""Reimbursement payouts on SQLite and PostgreSQL: statements pending → paid (date, reference),
the admin route, `eflux-backend payouts` as a real process (list and SEPA-ready CSV), hostile
input refused with nothing changed, and paid statements untouched by later runs."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp.test_utils import TestServer

from backend.api import create_app
from backend.billing.calendar import Month
from backend.invoicing import Invoicing
from backend.invoicing.payouts import list_statements, mark_paid, payouts
from backend.store import AccountKind, CardKind, Role, SessionIn, Store
from backend.store.errors import Conflict, Invalid, NotFound
from tests.invoicing.test_cli import cli
from tests.invoicing.test_indexation_lease import IBAN, lease_world, run_at
from tests.invoicing.test_late_items import late_home_session
from tests.invoicing.world import local

pytestmark = pytest.mark.asyncio
THEN = datetime(2024, 1, 1, 9, 0, tzinfo=UTC)
PAID_AT = datetime(2025, 2, 12, 9, 0, tzinfo=UTC)
OTHER_IBAN = "BE68539007547034"


@dataclass
class Drivers:
    invoicing: Invoicing
    lea: int
    max: int
    max_cp: int


async def drivers(store: Store) -> Drivers:
    """Lea (IBAN, 17.5 kWh in January: €3.94) and "=Max" (no IBAN yet, 5 kWh: €1.00)."""
    invoicing, lea, lea_cp = await lease_world(store)
    await invoicing.set_lease_driver(
        lea, lea_cp, Decimal("22.5"), IBAN, date(2025, 1, 10), now=THEN
    )
    max_ = await store.accounts.create_account(AccountKind.LEASE_DRIVER, "=Max", now=THEN)
    await store.cards.create_card("MAX01", CardKind.SUBSCRIPTION, now=THEN, account_id=max_.id)
    site = await store.sites.create_site(max_.id, "Max's drive", now=THEN)
    cp = await store.sites.create_charge_point(max_.id, "MAX-CP", now=THEN, site_id=site.id)
    began = local("2025-01-15 19:00")
    item = SessionIn(
        "MAX-CP", "m1", 1, "MAX01", began, began + timedelta(hours=1), 0.0, 5_000.0, 5_000.0
    )
    await store.sessions.ingest(site, [item], now=item.stopped_at)
    await invoicing.set_lease_driver(
        max_.id, cp.id, Decimal("20"), None, date(2025, 1, 1), now=THEN
    )
    await invoicing.run_month(Month(2025, 1), now=run_at("2025-01"))
    return Drivers(invoicing, lea, max_.id, cp.id)


async def statement_rows(store: Store) -> list[dict[str, Any]]:
    return await store.db.fetch("SELECT * FROM lease_reimbursements ORDER BY 1, 2")


async def test_pending_then_paid_and_never_changed_by_later_runs(store: Store) -> None:
    d = await drivers(store)
    due = await payouts(store.db, "2025-01")
    assert [(p.account_id, p.cents, p.iban, p.status, p.payable) for p in due] == [
        (d.lea, 394, "NL91ABNA0417164300", "pending", True),
        (d.max, 100, None, "pending", False),
    ]
    paid = await mark_paid(store.db, d.lea, "2025-01", date(2025, 2, 10), "EFLUX-R-1", now=PAID_AT)
    assert (paid.status, paid.paid_on, paid.payout_reference, paid.cents) == (
        "paid",
        date(2025, 2, 10),
        "EFLUX-R-1",
        394,
    )
    again = await mark_paid(store.db, d.lea, "2025-01", date(2025, 2, 10), "EFLUX-R-1", now=PAID_AT)
    assert again == paid  # the same mark twice: a no-op
    with pytest.raises(Conflict, match="never changes"):
        await mark_paid(store.db, d.lea, "2025-01", date(2025, 2, 11), "EFLUX-R-1", now=PAID_AT)
    with pytest.raises(Conflict, match="not payable"):
        await mark_paid(store.db, d.max, "2025-01", date(2025, 2, 10), "EFLUX-R-2", now=PAID_AT)
    # Max enters his IBAN in the portal (accounts.iban): now his statement is payable to it.
    await store.accounts.set_iban(d.max, "be68 5390 0754 7034", now=PAID_AT, actor="max")
    (max_due,) = [p for p in await payouts(store.db, "2025-01") if p.account_id == d.max]
    assert (max_due.iban, max_due.payable) == (OTHER_IBAN, True)
    # A January session arrives late: it goes on February's statement; January stays as paid.
    before = await list_statements(store.db, d.lea, month="2025-01")
    await late_home_session(store, "2025-01-25 18:00", 2_000, PAID_AT)
    await d.invoicing.run_month(Month(2025, 2), now=run_at("2025-02"))
    assert await list_statements(store.db, d.lea, month="2025-01") == before
    (feb,) = await list_statements(store.db, d.lea, month="2025-02")
    assert [(g.usage_month, g.late, g.cents) for g in feb.groups] == [
        ("2025-02", False, 90),
        ("2025-01", True, 45),
    ]
    assert feb.status == "pending"
    assert [s.month for s in await list_statements(store.db, None, status="paid")] == ["2025-01"]


@pytest.mark.parametrize(
    ("case", "error"),
    [
        ("bad_month", Invalid),
        ("fullwidth_month", Invalid),
        ("future", Invalid),
        ("before_month_end", Invalid),
        ("long_reference", Invalid),
        ("control_reference", Invalid),
        ("unicode_reference", Invalid),
        ("datetime", Invalid),
        ("text_date", Invalid),
        ("no_statement", NotFound),
        ("other_account", NotFound),
    ],
)
async def test_hostile_marks_are_refused_and_change_nothing(
    store: Store,
    case: str,
    error: type[Exception],
) -> None:
    d = await drivers(store)
    before = await statement_rows(store)
    args: dict[str, Any] = {
        "account_id": d.lea,
        "month": "2025-01",
        "paid_on": date(2025, 2, 10),
        "reference": "EFLUX-R-1",
    }
    args.update(
        {
            "bad_month": {"month": "2025-13"},
            "fullwidth_month": {"month": "\uff12\uff10\uff12\uff15-01"},
            "future": {"paid_on": date(2025, 2, 13)},
            "before_month_end": {"paid_on": date(2025, 1, 30)},
            "long_reference": {"reference": "R" * 36},
            "control_reference": {"reference": "a\nb"},
            "unicode_reference": {"reference": "ré"},
            "datetime": {"paid_on": PAID_AT},
            "text_date": {"paid_on": "2025-02-10"},
            "no_statement": {"month": "2024-12"},
            "other_account": {"account_id": d.max + 1000},
        }[case]
    )
    with pytest.raises(error):
        await mark_paid(
            store.db,
            args["account_id"],
            args["month"],
            args["paid_on"],
            args["reference"],
            now=PAID_AT,
        )
    assert await statement_rows(store) == before


class Api:
    def __init__(self, base: str, http: aiohttp.ClientSession, tokens: dict[str, str]) -> None:
        self.base, self.http, self.tokens = base, http, tokens

    async def call(self, method: str, path: str, who: str, data: Any = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"}
        async with self.http.request(
            method, self.base + path, headers=headers, json=data
        ) as response:
            return response.status, json.loads(await response.read())


@pytest_asyncio.fixture
async def api(store: Store) -> AsyncIterator[tuple[Api, Drivers]]:
    d = await drivers(store)
    ops = await store.accounts.create_account(AccountKind.BUSINESS, "Ops", now=THEN)
    tokens = {}
    for who, account, role in (
        ("lea", d.lea, Role.CUSTOMER),
        ("max", d.max, Role.CUSTOMER),
        ("admin", ops.id, Role.ADMIN),
    ):
        user = await store.accounts.create_user(account, f"{who}@x.test", role, now=THEN)
        tokens[who] = (await store.accounts.create_user_token(user.id, "t", now=THEN)).secret
    server = TestServer(create_app(store, clock=lambda: PAID_AT), host="127.0.0.1")
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as http:
            yield Api(str(server.make_url("/api/v1")), http, tokens), d
    finally:
        await server.close()


async def test_admin_route_marks_paid_and_drivers_see_their_own(
    api: tuple[Api, Drivers],
    store: Store,
) -> None:
    client, d = api
    status, own = await client.call("GET", "/reimbursements", "lea")
    assert (status, [(s["account_id"], s["cents"]) for s in own["items"]]) == (200, [(d.lea, 394)])
    status, every = await client.call("GET", "/reimbursements?month=2025-01", "admin")
    assert [s["account_id"] for s in every["items"]] == [d.lea, d.max]
    path = f"/accounts/{d.lea}/reimbursements/2025-01/paid"
    body = {"paid_on": "2025-02-10", "reference": "EFLUX-R-1"}
    before = await statement_rows(store)
    assert (await client.call("POST", path, "lea", body))[0] == 403  # customers may not
    assert (
        await client.call("POST", f"/accounts/{d.lea}/reimbursements/2025-13/paid", "admin", body)
    )[0] == 400
    for bad in (
        {"paid_on": "10-02-2025", "reference": "x"},
        {"paid_on": "2025-02-10"},
        {**body, "extra": 1},
        {"paid_on": "2025-02-10", "reference": 7},
    ):
        assert (await client.call("POST", path, "admin", bad))[0] == 400
    assert (
        await client.call("POST", f"/accounts/{d.max}/reimbursements/2024-12/paid", "admin", body)
    )[0] == 404
    assert await statement_rows(store) == before
    status, paid = await client.call("POST", path, "admin", body)
    assert (status, paid["status"], paid["paid_on"], paid["payout_reference"]) == (
        200,
        "paid",
        "2025-02-10",
        "EFLUX-R-1",
    )
    status, err = await client.call("POST", path, "admin", {**body, "reference": "EFLUX-R-9"})
    assert (status, err["error"]) == (409, "conflict")
    status, pending = await client.call("GET", "/reimbursements?status=pending", "admin")
    assert [s["account_id"] for s in pending["items"]] == [d.max]
    assert (await client.call("GET", "/reimbursements?status=open", "admin"))[0] == 400


async def test_payouts_command_lists_what_is_due_and_exports_csv(
    schema_url: str,
    tmp_path: Any,
) -> None:
    store = await Store.open(schema_url)
    try:
        d = await drivers(store)
    finally:
        await store.close()
    code, out, err = await cli("payouts", "--month", "2025-01", "--database", schema_url)
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "2025-01: 2 statements, 1 payable now, € 3,94 due",
        f"  {d.lea} Lea: € 3,94 to NL91ABNA0417164300; due, reference EFLUX-R-2025-01-{d.lea}",
        f"  {d.max} =Max: € 1,00 to -; pending, not payable: no IBAN entered",
    ]
    store = await Store.open(schema_url)
    try:  # Max enters an IBAN: his statement becomes payable to it
        await Invoicing(store.db).set_lease_driver(
            d.max, d.max_cp, Decimal("20"), OTHER_IBAN, date(2025, 1, 1), now=PAID_AT
        )
    finally:
        await store.close()
    code, out, _ = await cli(
        "--database", schema_url, "payouts", "--month", "2025-01", "--csv", "-"
    )
    assert code == 0
    assert out.splitlines() == [
        "account_id,name,iban,amount,currency,end_to_end_id,remittance",
        f"{d.lea},Lea,NL91ABNA0417164300,3.94,EUR,EFLUX-R-2025-01-{d.lea},"
        "E-Flux home charging reimbursement 2025-01",
        f"{d.max},'=Max,BE68539007547034,1.00,EUR,EFLUX-R-2025-01-{d.max},"
        "E-Flux home charging reimbursement 2025-01",  # no spreadsheet formula from a name
    ]
    store = await Store.open(schema_url)
    try:
        await Invoicing(store.db).mark_reimbursement_paid(
            d.lea, "2025-01", date(2025, 2, 10), f"EFLUX-R-2025-01-{d.lea}", now=PAID_AT
        )
    finally:
        await store.close()
    target = tmp_path / "payouts.csv"
    code, out, _ = await cli(
        "payouts", "--month", "2025-01", "--csv", str(target), "--database", schema_url
    )
    assert code == 0
    assert out.splitlines()[0] == "2025-01: 2 statements, 1 payable now, € 1,00 due"
    assert f"paid 2025-02-10 (EFLUX-R-2025-01-{d.lea})" in out
    assert [line.split(",")[0] for line in target.read_text().splitlines()] == [
        "account_id",
        str(d.max),
    ]
    code, out, err = await cli("payouts", "--month", "2025-1", "--database", schema_url)
    assert (code, out) == (2, "")
    assert err.startswith("eflux-backend payouts: month must look like YYYY-MM")
