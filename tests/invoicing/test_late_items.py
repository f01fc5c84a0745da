"""Late items on SQLite and PostgreSQL: a session of an earlier month recorded after that
month's run goes on the next run, once, marked late with its own date and the prices of its
time; issued invoices and statements are never changed; months run out of order or at the same
time bill nothing twice."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from backend.billing.calendar import Month
from backend.invoicing import Invoicing
from backend.invoicing.load import load_month
from backend.invoicing.persist import load_numbers, persist_run
from backend.invoicing.run import compute
from backend.store import Conflict, SessionIn, Store
from tests.invoicing.test_indexation_lease import IBAN, lease_world, run_at
from tests.invoicing.test_run import snapshot
from tests.invoicing.world import build, local

pytestmark = pytest.mark.asyncio
JAN, FEB, MAR = Month(2025, 1), Month(2025, 2), Month(2025, 3)


async def billed_on(store: Store, session_id: int) -> list[str]:
    rows = await store.db.fetch(
        "SELECT i.number FROM invoice_sessions s JOIN invoices i ON i.id = s.invoice_id"
        " WHERE s.session_id = ? AND i.document_kind = 'invoice'",
        session_id,
    )
    return [r["number"] for r in rows]


async def test_late_session_on_the_next_invoice_after_the_month_own(store: Store) -> None:
    world = await build(store)
    inv, ann = world.invoicing, world.ids["ann"]
    await inv.run_month(JAN, now=run_at("2025-01"))
    (jan_doc, _) = await inv.list_invoices(ann, month="2025-01")
    january = await inv.get_invoice(jan_doc.id, ann)
    own = await world.roaming("ANN01", "2025-02-03 09:00", 30, 2_000)
    late = await world.roaming("ANN01", "2025-01-25 12:00", 30, 5_000)  # after January's run
    summary = await inv.run_month(FEB, now=run_at("2025-02"))
    assert summary.invoices == 1
    (feb_doc,) = await inv.list_invoices(ann, month="2025-02")
    sessions = [x for x in (await inv.get_invoice(feb_doc.id, ann)).lines if x.kind == "session"]
    # The month's own session first, then the late group; the late one keeps its own date and
    # the roaming tariff recorded with it: €0.35 + 5 kWh x €0.59 + 30 min x 2 ct.
    assert [(x.ref, x.gross_cents) for x in sessions] == [
        (str(own), 35 + 118 + 60),
        (str(late), 35 + 295 + 60),
    ]
    assert sessions[1].description.startswith("late: roaming session")
    assert "2025-01-25" in sessions[1].description
    assert not sessions[0].description.startswith("late")
    assert await inv.get_invoice(jan_doc.id, ann) == january  # issued: never changed
    assert await billed_on(store, late) == [feb_doc.number]
    before = await snapshot(store)
    again = await inv.run_month(FEB, now=run_at("2025-03"))
    assert (again.issued, again.run_at is not None) == (0, True)
    assert await snapshot(store) == before
    await inv.run_month(MAR, now=run_at("2025-03"))
    assert await billed_on(store, late) == [feb_doc.number]
    rows = await store.db.fetch("SELECT session_id, run_month FROM late_sessions")
    assert [(int(r["session_id"]), r["run_month"]) for r in rows] == [(late, "2025-02")]


async def guest_lines(store: Store, session_id: int) -> list[tuple[str, str, int]]:
    rows = await store.db.fetch(
        "SELECT i.number, l.description, l.gross_cents FROM invoice_lines l"
        " JOIN invoices i ON i.id = l.invoice_id WHERE l.kind = 'guest_usage' AND l.ref = ?",
        str(session_id),
    )
    return [(r["number"], r["description"], int(r["gross_cents"])) for r in rows]


async def test_late_guest_session_paid_to_the_owner_on_the_next_credit_note(store: Store) -> None:
    world = await build(store)
    inv, bob = world.invoicing, world.ids["bob"]
    await inv.run_month(JAN, now=run_at("2025-01"))
    (jan_note,) = await inv.list_credit_notes(bob)
    january = await inv.get_invoice(jan_note.id, bob)
    late = await world.at_bob("CARL01", "2025-01-26 18:00", 60, 10_000)  # after January's run
    await inv.run_month(FEB, now=run_at("2025-02"))
    (feb_note,) = await inv.list_credit_notes(bob, month="2025-02")
    # 10 kWh at Bob's guest tariff of 30 ct, on February's note (paid out with it, 15 April).
    assert await guest_lines(store, late) == [
        (feb_note.number, f"late: Guest session {late} at {await bob_cp(store)} 2025-01-26", 300)
    ]
    assert feb_note.due_on == date(2025, 4, 15)
    # Carl's card is prepaid: the late session is deducted from his balance by the same run.
    ledger = await inv.prepaid_ledger(world.ids["carl"], None)
    sessions = [(e.entry_id, e.cents) for e in ledger.entries if e.kind == "session"]
    assert sessions[1:] == [(f"session:{late}", -300)]
    assert ledger.balance_cents == 2000 - 300 - 300  # January's 10 kWh and the late 10 kWh
    assert await inv.get_invoice(jan_note.id, bob) == january
    await inv.run_month(MAR, now=run_at("2025-03"))
    assert len(await guest_lines(store, late)) == 1


async def bob_cp(store: Store) -> str:
    return str(await store.db.fetchval("SELECT id FROM charge_points WHERE ocpp_id = 'BOB-CP'"))


async def test_a_rerun_of_a_made_month_leaves_late_items_to_the_next_run(store: Store) -> None:
    world = await build(store)
    inv = world.invoicing
    await inv.run_month(JAN, now=run_at("2025-01"))
    await inv.run_month(FEB, now=run_at("2025-02"))
    late = await world.roaming("BOB01", "2025-01-27 12:00", 10, 1_000)  # Bob: no Feb invoice
    before = await snapshot(store)
    for month in (JAN, FEB):  # neither re-run may issue a new document for it
        assert (await inv.run_month(month, now=run_at("2025-03"))).issued == 0
    assert await snapshot(store) == before
    await inv.run_month(MAR, now=run_at("2025-03"))
    (mar,) = await inv.list_invoices(world.ids["bob"], month="2025-03")
    assert await billed_on(store, late) == [mar.number]


async def test_months_run_out_of_order_bill_each_session_once(store: Store) -> None:
    world = await build(store)
    inv, ann = world.invoicing, world.ids["ann"]
    await inv.run_month(FEB, now=run_at("2025-02"))  # January not run yet: its sessions wait
    (feb,) = await inv.list_invoices(ann, month="2025-02")
    feb_lines = (await inv.get_invoice(feb.id, ann)).lines
    assert {x.kind for x in feb_lines} == {"subscription_fee"}
    # Per contract February (nothing billed it before) and March in advance (art. 22.1).
    assert [x.ref.split("@")[1] for x in feb_lines] == ["2025-02", "2025-03"] * 2
    await inv.run_month(JAN, now=run_at("2025-02"))
    (jan, _) = await inv.list_invoices(ann, month="2025-01")
    jan_fees = [
        x.ref.split("@")[1]
        for x in (await inv.get_invoice(jan.id, ann)).lines
        if x.kind == "subscription_fee"
    ]
    assert jan_fees == ["2025-01", "2025-01"]  # February is billed already: no advance again
    jan_sessions = [
        x.ref for x in (await inv.get_invoice(jan.id, ann)).lines if x.kind == "session"
    ]
    assert len(jan_sessions) == 2
    await inv.run_month(MAR, now=run_at("2025-03"))
    for ref in jan_sessions:
        assert await billed_on(store, int(ref)) == [jan.number]
    assert await store.db.fetch("SELECT * FROM late_sessions") == []


async def test_runs_of_two_months_at_once_bill_a_late_session_once(schema_url: str) -> None:
    first, second = await Store.open(schema_url), await Store.open(schema_url)
    try:
        world = await build(first)
        await Invoicing(first.db).run_month(JAN, now=run_at("2025-01"))
        late = await world.roaming("ANN01", "2025-01-26 12:00", 20, 3_000)
        guest = await world.at_bob("CARL01", "2025-01-27 18:00", 60, 5_000)
        await asyncio.gather(
            Invoicing(first.db).run_month(FEB, now=run_at("2025-02")),
            Invoicing(second.db).run_month(MAR, now=run_at("2025-03")),
        )
        assert len(await billed_on(first, late)) == 1
        assert await first.db.fetchval("SELECT count(*) FROM late_sessions") == 1
        assert len(await guest_lines(first, guest)) == 1
        numbers = [
            r["number"]
            for r in await first.db.fetch(
                "SELECT number FROM invoices WHERE number LIKE 'F-%' ORDER BY number"
            )
        ]
        assert numbers == [f"F-2025-{n:06d}" for n in range(1, len(numbers) + 1)]
    finally:
        await first.close()
        await second.close()


async def late_home_session(store: Store, start: str, wh: int, received: datetime) -> int:
    site_id = await store.db.fetchval("SELECT id FROM sites WHERE name = ?", "Lea's drive")
    site = await store.sites.get_site(int(site_id))
    began = local(start)
    item = SessionIn(
        "LEA-CP",
        f"late-{start}",
        1,
        "LEA01",
        began,
        began + timedelta(hours=2),
        0.0,
        float(wh),
        float(wh),
    )
    (result,) = await store.sessions.ingest(site, [item], now=received)
    return result.session_id


async def test_late_home_session_reimbursed_next_month_at_the_rate_of_its_time(
    store: Store,
) -> None:
    invoicing, driver, cp = await lease_world(store)
    then = datetime(2024, 1, 1, 9, 0, tzinfo=UTC)
    await invoicing.set_lease_driver(driver, cp, Decimal("22.5"), IBAN, date(2025, 1, 10), now=then)
    await invoicing.run_month(JAN, now=run_at("2025-01"))
    (january,) = await invoicing.list_reimbursements(driver, None)
    # The lease company raises its rate from 1 February; a January session arrives after.
    await invoicing.set_lease_driver(
        driver,
        cp,
        Decimal("25"),
        IBAN,
        date(2025, 1, 10),
        now=datetime(2025, 1, 31, 23, 0, tzinfo=UTC),
    )
    late = await late_home_session(store, "2025-01-20 18:00", 2_000, run_at("2025-01"))
    await invoicing.run_month(FEB, now=run_at("2025-02"))
    first, feb = await invoicing.list_reimbursements(driver, None)
    assert first == january  # a made statement is never changed
    # February's own 4 kWh at 25 ct = 100 ct; late: January's 2 kWh at 22.5 ct = 45 ct.
    assert (feb.month, feb.energy_wh, feb.cents) == ("2025-02", 6_000, 145)
    assert [
        (g.usage_month, g.late, g.rate_cents_per_kwh, g.energy_wh, g.cents) for g in feb.groups
    ] == [
        ("2025-02", False, Decimal("25"), 4_000, 100),
        ("2025-01", True, Decimal("22.5"), 2_000, 45),
    ]
    assert late in feb.session_ids
    assert late not in january.session_ids
    before = await store.db.fetch("SELECT * FROM reimbursed_sessions ORDER BY 1")
    await invoicing.run_month(FEB, now=run_at("2025-03"))
    await invoicing.run_month(MAR, now=run_at("2025-03"))
    assert [r.month for r in await invoicing.list_reimbursements(driver, None)] == [
        "2025-01",
        "2025-02",
    ]
    assert await store.db.fetch("SELECT * FROM reimbursed_sessions ORDER BY 1") == before


async def test_a_statement_computed_before_another_run_committed_stores_nothing(
    store: Store,
) -> None:
    """The race of two months' runs made deterministic: both would reimburse the late session."""
    invoicing, driver, cp = await lease_world(store)
    await invoicing.set_lease_driver(
        driver, cp, Decimal("20"), IBAN, date(2025, 1, 10), now=datetime(2024, 1, 1, tzinfo=UTC)
    )
    await invoicing.run_month(JAN, now=run_at("2025-01"))
    late = await late_home_session(store, "2025-01-21 18:00", 3_000, run_at("2025-01"))
    numbers = await load_numbers(store.db)
    loaded = await load_month(store.db, MAR)  # February not run yet: it is still open
    stale = compute(loaded, numbers, None)
    assert any(late_id == str(late) for r in stale.reimbursements for late_id in r.session_ids)
    await invoicing.run_month(FEB, now=run_at("2025-02"))
    before = await store.db.fetch("SELECT * FROM reimbursed_sessions ORDER BY 1")
    with pytest.raises(Conflict, match="reimbursed by a concurrent run"):
        async with store.db.transaction() as tx:
            await persist_run(tx, loaded, stale, numbers, now=run_at("2025-03"))
    assert await store.db.fetch("SELECT * FROM reimbursed_sessions ORDER BY 1") == before
    await invoicing.run_month(MAR, now=run_at("2025-03"))  # the retry, on fresh data
    owners = await store.db.fetch(
        "SELECT month FROM reimbursed_sessions WHERE session_id = ?", late
    )
    assert [r["month"] for r in owners] == ["2025-02"]
