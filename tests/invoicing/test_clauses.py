"""Art. 28.5 through the store on both engines: the owner raises the guest tariff after a
guest's session; the credit note still pays what the guest paid (the tariff in force at the
session's start), and a session after the change is priced and credited at the new one.
(Issue 19: 35 → 70 ct after the session credited €7.00 while the guest paid €3.50.)"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from backend.billing.calendar import Month
from backend.store import Store
from tests.invoicing.world import build, local

pytestmark = pytest.mark.asyncio
RUN_AT = datetime(2025, 2, 1, 3, 0, tzinfo=UTC)


async def test_art_28_5_credit_at_the_tariff_of_the_sessions_start(store: Store) -> None:
    world = await build(store)  # Bob's guest charge point at 30 ct/kWh; Carl charged 10 kWh
    bob = world.ids["bob"]
    (point,) = await store.sites.list_charge_points(bob)
    dearer = await store.sites.create_tariff(
        bob, "guests 2", now=local("2025-01-25 12:00"), per_kwh_cents=Decimal(60)
    )
    await store.sites.update_charge_point(
        point.id, bob, now=local("2025-01-25 12:00"), actor="user:bob", tariff_id=dearer.id
    )
    after = await world.at_bob("CARL01", "2025-01-26 18:00", 60, 5_000)
    stored = await store.db.fetch(
        "SELECT id_tag, per_kwh_cents FROM sessions WHERE charge_point_id = ? ORDER BY id", point.id
    )
    assert [(r["id_tag"], Decimal(r["per_kwh_cents"])) for r in stored] == [
        ("ANN01", 30),
        ("BOB01", 30),
        ("CARL01", 30),
        ("CARL01", 60),
    ]  # what each guest pays
    await world.invoicing.run_month(Month.parse("2025-01"), now=RUN_AT)
    (note,) = await world.invoicing.list_credit_notes(bob)
    detail = await world.invoicing.get_invoice(note.id, bob)
    # Ann 60 kWh and Carl 10 kWh at 30 ct (before the change), Carl 5 kWh at 60 ct (after).
    assert [(line.ref, line.gross_cents) for line in detail.lines][-1] == (str(after), 300)
    assert [line.gross_cents for line in detail.lines] == [1800, 300, 300]
    ledger = await world.invoicing.prepaid_ledger(world.ids["carl"], None)
    assert sorted(-e.cents for e in ledger.entries if e.kind == "session") == [300, 300]
