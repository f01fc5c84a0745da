"""Guest sessions flagged as not recovered from the guest's MSP (art. 28.7), stored and loaded
into the run on SQLite and PostgreSQL: the payout is capped at the owner's electricity cost."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from backend.billing.calendar import Month
from backend.store import Store
from backend.store.errors import Conflict, Invalid, NotFound
from tests.invoicing.world import NOW, build

pytestmark = pytest.mark.asyncio
RUN_AT = datetime(2025, 2, 1, 3, 0, tzinfo=UTC)
JANUARY = Month.parse("2025-01")


async def payouts(world: Any) -> list[tuple[int, str]]:
    (note,) = await world.invoicing.list_credit_notes(world.ids["bob"])
    detail = await world.invoicing.get_invoice(note.id, world.ids["bob"])
    return [(ln.gross_cents, ln.description.split(", ", 1)[-1]) for ln in detail.lines]


async def test_unrecovered_guest_session_is_paid_at_most_the_owner_cost(store: Store) -> None:
    world = await build(store)
    short = await world.at_bob("ANN01", "2025-01-25 18:00", 60, 10_000)
    bob = world.ids["bob"]
    await world.invoicing.set_electricity_cost(bob, Decimal("25"), now=NOW)
    await world.invoicing.flag_unrecovered(short, now=NOW)
    await world.invoicing.flag_unrecovered(short, now=NOW)  # again: no change
    await world.invoicing.run_month(JANUARY, now=RUN_AT)
    lines = await payouts(world)
    # Ann 60 kWh and Carl 10 kWh at Bob's 30 ct as usual; the flagged 10 kWh at his 25 ct cost.
    assert [c for c, _ in lines] == [1800, 300, 250]
    assert lines[2][1] == "limited to electricity cost (art. 28.7)"
    before = await store.db.fetch("SELECT * FROM invoice_lines ORDER BY 1, 2")
    await world.invoicing.run_month(JANUARY, now=RUN_AT)
    assert await store.db.fetch("SELECT * FROM invoice_lines ORDER BY 1, 2") == before


async def test_a_flag_after_the_payout_is_refused(store: Store) -> None:
    world = await build(store)
    guest = await world.at_bob("ANN01", "2025-01-25 18:00", 60, 10_000)
    await world.invoicing.run_month(JANUARY, now=RUN_AT)
    with pytest.raises(Conflict):
        await world.invoicing.flag_unrecovered(guest, now=NOW)
    assert await store.db.fetch("SELECT * FROM guest_unrecovered_sessions") == []


@pytest.mark.parametrize(
    ("case", "error"),
    [
        ("no_session", NotFound),
        ("negative_cost", Invalid),
        ("float_cost", Invalid),
        ("nan_cost", Invalid),
        ("no_account", NotFound),
    ],
)
async def test_hostile_guest_inputs_are_refused_and_lose_nothing(
    store: Store,
    case: str,
    error: type[Exception],
) -> None:
    world = await build(store)
    bob = world.ids["bob"]
    await world.invoicing.set_electricity_cost(bob, Decimal("25"), now=NOW)
    cost: Any = {
        "negative_cost": Decimal("-1"),
        "float_cost": 0.25,
        "nan_cost": Decimal("NaN"),
    }.get(case, Decimal("20"))
    account = 999_999 if case == "no_account" else bob
    attempt = (
        world.invoicing.flag_unrecovered(999_999, now=NOW)
        if case == "no_session"
        else world.invoicing.set_electricity_cost(account, cost, now=NOW)
    )
    with pytest.raises(error):
        await attempt
    rows = await store.db.fetch(
        "SELECT account_id, electricity_cents_per_kwh FROM guest_owner_settings"
    )
    assert [(int(r["account_id"]), r["electricity_cents_per_kwh"]) for r in rows] == [(bob, "25")]
    assert await store.db.fetch("SELECT * FROM guest_unrecovered_sessions") == []
