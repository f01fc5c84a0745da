"""The monthly run over the store, on SQLite and PostgreSQL: exact amounts, numbers, idempotence,
late sessions, the prepaid ledger and guest credit notes."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from backend.billing.calendar import Month
from backend.store import Store
from tests.invoicing.world import build

pytestmark = pytest.mark.asyncio
RUN_AT = datetime(2025, 2, 1, 3, 0, tzinfo=UTC)
TABLES = (
    "invoices",
    "invoice_lines",
    "invoice_sessions",
    "invoice_numbers",
    "prepaid_entries",
    "accounts",
)


async def snapshot(store: Store) -> dict[str, list[dict[str, Any]]]:
    return {t: await store.db.fetch(f"SELECT * FROM {t} ORDER BY 1, 2") for t in TABLES}


def amounts(detail: Any) -> list[tuple[str, int]]:
    return [(line.kind, line.gross_cents) for line in detail.lines]


async def test_january_to_the_cent(store: Store) -> None:
    world = await build(store)
    summary = await world.invoicing.run_month(Month.parse("2025-01"), now=RUN_AT)
    assert (summary.invoices, summary.overage_invoices, summary.credit_notes) == (1, 1, 1)
    assert summary.numbers == ("C-2025-000001 .. C-2025-000001", "F-2025-000001 .. F-2025-000002")
    ann = world.ids["ann"]
    (invoice, overage) = await world.invoicing.list_invoices(ann)
    assert (invoice.number, invoice.kind, invoice.period) == ("F-2025-000001", "invoice", "2025-01")
    assert (invoice.issued_on, invoice.due_on) == (date(2025, 2, 1), date(2025, 2, 15))
    detail = await world.invoicing.get_invoice(invoice.id, ann)
    assert amounts(detail) == [
        ("subscription_fee", 667),  # 16/30 of €12.50 (contracts in id order)
        ("subscription_fee", 1250),  # February in advance (art. 22.1)
        ("subscription_fee", 1064),  # 16/30 of €19.95
        ("subscription_fee", 1995),  # February in advance
        ("session", 745),  # €0.35 + 10 kWh x €0.59 + 60 min x 2 ct
        ("session", 1425),  # 31 Jan 23:30 - 1 Feb 01:15: a January session
        ("lost_card_fee", 750),
    ]
    assert (invoice.net_cents, invoice.vat_cents, invoice.gross_cents) == (6526, 1370, 7896)
    assert [(v.rate, v.net_cents, v.vat_cents) for v in detail.vat] == [("standard", 6526, 1370)]
    assert detail.customer_address == "Kerkstraat 1, Utrecht"
    over = await world.invoicing.get_invoice(overage.id, ann)
    assert (overage.kind, amounts(over)) == ("overage_invoice", [("overage", 233), ("overage", 20)])
    (note,) = await world.invoicing.list_credit_notes(world.ids["bob"])
    note_detail = await world.invoicing.get_invoice(note.id, world.ids["bob"])
    # Ann's 60 kWh and Carl's prepaid 10 kWh at 30 ct; Bob's own charging is not a guest's.
    assert amounts(note_detail) == [("guest_usage", 1800), ("guest_usage", 300)]
    assert note.due_on == date(2025, 3, 17)  # 15 March 2025 is a Saturday
    assert [v.rate for v in note_detail.vat] == ["out_of_scope"]
    assert await world.invoicing.list_invoices(world.ids["bob"]) == []
    ledger = await world.invoicing.prepaid_ledger(world.ids["carl"], world.ids["carl"])
    assert (ledger.balance_cents, ledger.may_start_session) == (1700, True)
    assert [(e.kind, e.cents) for e in ledger.entries] == [("top_up", 2000), ("session", -300)]


async def test_rerun_changes_nothing(store: Store) -> None:
    world = await build(store)
    month = Month.parse("2025-01")
    await world.invoicing.run_month(month, now=RUN_AT)
    before = await snapshot(store)
    again = await world.invoicing.run_month(month, now=RUN_AT.replace(hour=5))
    assert (again.issued, again.numbers, again.invoiced_gross_cents) == (0, (), 0)
    assert await snapshot(store) == before


async def test_late_session_billed_once_next_month(store: Store) -> None:
    world = await build(store)
    await world.invoicing.run_month(Month.parse("2025-01"), now=RUN_AT)
    late = await world.roaming("ANN01", "2025-01-25 12:00", 30, 5_000)  # arrives after the run
    again = await world.invoicing.run_month(Month.parse("2025-01"), now=RUN_AT)
    assert again.issued == 0
    february = await world.invoicing.run_month(Month.parse("2025-02"), now=RUN_AT)
    assert february.invoices == 1
    ann = world.ids["ann"]
    (feb,) = await world.invoicing.list_invoices(ann, month="2025-02")
    lines = (await world.invoicing.get_invoice(feb.id, ann)).lines
    late_lines = [x for x in lines if x.ref == str(late)]
    assert [(x.description.startswith("late: "), x.gross_cents) for x in late_lines] == [
        (True, 35 + 295 + 60)
    ]
    assert feb.number == "F-2025-000003"  # straight after January's two
    await world.invoicing.run_month(Month.parse("2025-03"), now=RUN_AT)
    billed = await store.db.fetch(
        "SELECT invoice_id FROM invoice_sessions WHERE session_id = ?", late
    )
    assert len(billed) == 1


async def test_plan_switch_fee_on_the_invoice_of_its_month(store: Store) -> None:
    from backend.store import Invalid

    world = await build(store)
    ann, sub = world.ids["ann"], world.ids["cp_sub"]
    switch = await world.invoicing.switch_plan(sub, "cp-flex", date(2025, 2, 10), ann, now=RUN_AT)
    assert (switch.effective_on, switch.fee_cents) == (date(2025, 3, 1), 750)
    with pytest.raises(Invalid, match="one switch per month"):
        await world.invoicing.switch_plan(sub, "cp-fixed", date(2025, 2, 28), ann, now=RUN_AT)
    with pytest.raises(Exception, match="not found"):
        await world.invoicing.switch_plan(
            sub, "cp-flex", date(2025, 2, 11), world.ids["bob"], now=RUN_AT
        )
    for month in ("2025-01", "2025-02", "2025-03"):
        await world.invoicing.run_month(Month.parse(month), now=RUN_AT)
    (feb_doc,) = await world.invoicing.list_invoices(ann, month="2025-02")
    (mar_doc,) = await world.invoicing.list_invoices(ann, month="2025-03")
    feb = await world.invoicing.get_invoice(feb_doc.id, ann)
    mar = await world.invoicing.get_invoice(mar_doc.id, ann)
    assert [x.gross_cents for x in feb.lines if x.kind == "plan_switch_fee"] == [750]
    # February's fees went in advance on January's invoice; this one bills March in advance:
    # the card's only, the charge point is on the flexible plan (no fixed fee) from March.
    assert [x.gross_cents for x in feb.lines if x.kind == "subscription_fee"] == [1995]
    assert [x.gross_cents for x in mar.lines if x.kind == "subscription_fee"] == [1995]


async def test_payments_and_reminder(store: Store) -> None:
    from backend.store import Conflict

    world = await build(store)
    await world.invoicing.run_month(Month.parse("2025-01"), now=RUN_AT)
    ann = world.ids["ann"]
    invoice = (await world.invoicing.list_invoices(ann))[0]
    inv = world.invoicing
    assert (await inv.payment_state(invoice.id, ann, date(2025, 2, 15))).stage == "open"
    assert (await inv.payment_state(invoice.id, ann, date(2025, 2, 16))).stage == "overdue"
    with pytest.raises(Conflict):
        await inv.send_reminder(invoice.id, date(2025, 2, 14), now=RUN_AT)
    reminded = await inv.send_reminder(invoice.id, date(2025, 2, 16), now=RUN_AT)
    assert (reminded.stage, reminded.reminder_due_on) == ("reminded", date(2025, 3, 2))
    late = await inv.payment_state(invoice.id, ann, date(2025, 3, 3))
    assert (late.stage, late.may_suspend, late.late_payment_cents) == ("defaulted", True, 4000)
    paid = await inv.record_payment(invoice.id, 7896, now=datetime(2025, 3, 4, tzinfo=UTC))
    assert (paid.stage, paid.outstanding_cents) == ("paid", 0)
    assert (await inv.list_invoices(ann))[0].status == "paid"


async def test_outage_credit_and_transfer_charge_from_the_store(store: Store) -> None:
    from backend.billing.charges import transfer_charge
    from backend.billing.outages import OutageCause
    from backend.store import Invalid, NotFound
    from tests.invoicing.world import local

    world = await build(store)
    ann, inv = world.ids["ann"], world.invoicing
    sub = world.ids["cp_sub"]
    await inv.record_outage(
        sub,
        local("2025-01-20 08:00"),
        local("2025-01-21 14:00"),
        OutageCause.OUR_SOFTWARE,
        now=RUN_AT,
    )  # 30 h: 1.25 days (6.4)
    await inv.record_outage(
        sub,
        local("2025-01-22 08:00"),
        local("2025-01-22 19:00"),
        OutageCause.OUR_SOFTWARE,
        now=RUN_AT,
    )  # 11 h: nothing
    await inv.record_outage(
        sub,
        local("2025-01-23 08:00"),
        local("2025-01-25 08:00"),
        OutageCause.CHARGER_HARDWARE,
        now=RUN_AT,
    )  # not ours: nothing
    with pytest.raises(Invalid):
        await inv.record_outage(
            sub,
            local("2025-01-23 08:00"),
            local("2025-01-22 08:00"),
            OutageCause.OUR_SOFTWARE,
            now=RUN_AT,
        )
    with pytest.raises(NotFound):
        await inv.record_outage(
            999_999,
            local("2025-01-23 08:00"),
            local("2025-01-24 08:00"),
            OutageCause.OUR_SOFTWARE,
            now=RUN_AT,
        )
    await inv.add_charge(
        ann, transfer_charge("t1", str(ann), date(2025, 1, 28), str(sub)), now=RUN_AT
    )
    await inv.run_month(Month.parse("2025-01"), now=RUN_AT)
    (invoice, _) = await inv.list_invoices(ann)
    lines = (await inv.get_invoice(invoice.id, ann)).lines
    assert [
        (x.kind, x.gross_cents) for x in lines if x.kind in ("outage_credit", "transfer_fee")
    ] == [("outage_credit", -52), ("transfer_fee", 4500)]
    assert invoice.gross_cents == 7896 - 52 + 4500
