"""What the door keeps out of the monthly run, on both engines: a foreign card's session on a
charge point closed to it bills nobody, an implausible session waiting for review bills
nobody, a rejected one never does, and a corrected one is billed (late) at its corrected
values (issue 19 item 1: nothing unchecked is billed, nothing is lost)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from backend.billing.calendar import Month
from backend.store import Correction, SessionIn, Store
from tests.invoicing.world import World, build, local

pytestmark = pytest.mark.asyncio
RUN_JAN = datetime(2025, 2, 1, 3, 0, tzinfo=UTC)
RUN_FEB = datetime(2025, 3, 1, 3, 0, tzinfo=UTC)


async def _at(
    world: World,
    site_name: str,
    ocpp: str,
    tx: str,
    card: str,
    start: str,
    wh: float,
    meter: tuple[float, float],
) -> int:
    site_id = await world.store.db.fetchval("SELECT id FROM sites WHERE name = ?", site_name)
    site = await world.store.sites.get_site(int(site_id))
    began = local(start)
    item = SessionIn(ocpp, tx, 1, card, began, began + timedelta(hours=1), *meter, wh)
    (result,) = await world.store.sessions.ingest(site, [item], now=item.stopped_at)
    return result.session_id


async def _billed(world: World, account: int) -> set[str]:
    refs = set()
    for doc in await world.invoicing.list_invoices(account):
        refs |= {line.ref for line in (await world.invoicing.get_invoice(doc.id, None)).lines}
    return refs


async def test_unchecked_sessions_are_not_billed_until_decided(store: Store) -> None:
    world = await build(store)
    # Bob's pay-per-use card at Ann's charge point, closed to guests: 900 MWh claimed.
    foreign = await _at(
        world, "Ann's home", "ANN-CP", "f1", "BOB01", "2025-01-23 18:00", 9e8, (0, 9e8)
    )
    # Ann's card at Bob's guest charge point: 900 kWh against a 1 kWh meter difference …
    wrong = await _at(
        world, "Bob's drive", "BOB-CP", "w1", "ANN01", "2025-01-24 18:00", 900_000, (0, 1000)
    )
    # … and a meter that ran backwards.
    backwards = await _at(
        world, "Bob's drive", "BOB-CP", "w2", "BOB01", "2025-01-25 18:00", 0, (5000, 4000)
    )
    rows = {
        r["id"]: r
        for r in await store.db.fetch(
            "SELECT id, account_id, flag, review FROM sessions WHERE id IN (?, ?, ?)",
            foreign,
            wrong,
            backwards,
        )
    }
    assert (rows[foreign]["account_id"], rows[foreign]["flag"]) == (
        world.ids["ann"],
        "foreign_card",
    )
    assert rows[wrong]["review"] == rows[backwards]["review"] == "pending"

    await world.invoicing.run_month(Month.parse("2025-01"), now=RUN_JAN)
    for account in ("ann", "bob", "carl"):
        assert not {str(foreign), str(wrong), str(backwards)} & await _billed(
            world, world.ids[account]
        )
    (note,) = await world.invoicing.list_credit_notes(world.ids["bob"])
    credited = {line.ref for line in (await world.invoicing.get_invoice(note.id, None)).lines}
    assert str(wrong) not in credited  # the owner is not paid for an unchecked session either

    admin = "user:1"
    await store.review.correct(
        wrong, Correction(1000, 0, 1000, note="kWh typed as Wh"), now=RUN_JAN, actor=admin
    )
    await store.review.reject(backwards, now=RUN_JAN, actor=admin, reason="meter reset")
    await world.invoicing.run_month(Month.parse("2025-02"), now=RUN_FEB)
    # Corrected to 1 kWh: Bob is credited 30 ct for it, late, on February's credit note.
    assert await _credited(world, wrong) == [("late", 30)]
    for account in ("ann", "bob"):
        assert not {str(foreign), str(backwards)} & await _billed(world, world.ids[account])
    assert (
        await store.db.fetchval(
            "SELECT count(*) FROM sessions WHERE id IN (?, ?, ?)", foreign, wrong, backwards
        )
        == 3
    )  # nothing lost


async def _credited(world: World, session_id: int) -> list[tuple[str, int]]:
    found = []
    for note in await world.invoicing.list_credit_notes(world.ids["bob"]):
        detail = await world.invoicing.get_invoice(note.id, None)
        found += [
            (line.description.split(":")[0], line.gross_cents)
            for line in detail.lines
            if line.ref == str(session_id)
        ]
    return found
