"""The batched ingest (backend/store/batch.py) judges every session as the one-session rules do.

One batch mixes what a site can send: sessions before and after a charge point's tariff and
guest setting changed, on a charge point the site reports for the first time, with the owner's
card, another account's card (at a closed and at an open charge point), a roaming-authorized
card, an unknown uid and none, an implausible one, the same key twice and keys stored before.
Each stored row is compared with what the per-session reference gives: `point_at` (the setting
in force at the start), `card_facts` + `bill_to` and `implausible`. Both engines.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from backend.store import AccountKind, CardKind, SessionIn, Store
from backend.store.door import bill_to, implausible
from backend.store.point_history import card_facts, point_at

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
CHANGED = NOW - timedelta(days=10)  # CP1 gets another tariff and opens to guests


def _session(
    cp: str, tx: str, tag: str | None, start: datetime, energy: float = 7000.0
) -> SessionIn:
    return SessionIn(cp, tx, 1, tag, start, start + timedelta(hours=2), 0.0, 7000.0, energy)


async def test_a_mixed_batch_is_judged_as_one_by_one(store: Store) -> None:
    owner = await store.accounts.create_account(AccountKind.CONSUMER, "Owner", now=NOW)
    other = await store.accounts.create_account(AccountKind.CONSUMER, "Other", now=NOW)
    day = await store.sites.create_tariff(owner.id, "Day", now=NOW, per_kwh_cents=Decimal(30))
    guest = await store.sites.create_tariff(
        owner.id, "Guest", now=NOW, per_kwh_cents=Decimal("35.5")
    )
    site = await store.sites.create_site(owner.id, "Home", now=NOW)
    cp = await store.sites.create_charge_point(
        owner.id, "CP1", now=NOW - timedelta(days=40), site_id=site.id, tariff_id=day.id
    )
    await store.sites.update_charge_point(
        cp.id, owner.id, now=CHANGED, actor="test", tariff_id=guest.id, guest_usage=True
    )
    for uid, account, roaming in (
        ("OWN1", owner.id, False),
        ("OTHER1", other.id, False),
        ("ROAM1", other.id, True),
        ("FREE1", None, False),
    ):
        await store.cards.create_card(
            uid, CardKind.SUBSCRIPTION, now=NOW, account_id=account, roaming_authorized=roaming
        )
    before, after = NOW - timedelta(days=20), NOW - timedelta(days=2)
    await store.sessions.ingest(site, [_session("CP1", "old-1", "own1", before)], now=NOW)
    batch = [
        _session("CP1", "a", "OWN1", before),
        _session("CP1", "b", "OWN1", after),
        _session("CP1", "c", "other1", before),  # closed to guests then: foreign_card
        _session("CP1", "d", "OTHER1", after),  # open then: billed to the guest
        _session("CP1", "e", "ROAM1", before),
        _session("CP1", "f", "NOPE", after),
        _session("CP1", "g", None, after),
        _session("CP1", "h", "FREE1", after),
        _session("CP1", "i", "OWN1", after, energy=9000.0),  # not the meter difference
        _session("CP-NEW", "j", "OWN1", after),  # registered on the spot
        _session("CP1", "k", "OWN1", NOW + timedelta(hours=1)),  # in the future
        _session("CP1", "a", "OWN1", before, energy=1.0),  # again in the batch: the first holds
        _session("CP1", "old-1", "OWN1", before),  # stored by an earlier batch
    ]
    results = await store.sessions.ingest(site, batch, now=NOW)

    assert [(r.transaction_id, r.created) for r in results] == [
        *((s.transaction_id, True) for s in batch[:11]),
        ("a", False),
        ("old-1", False),
    ]
    assert results[11].session_id == results[0].session_id
    again = await store.sessions.ingest(site, batch, now=NOW)  # a retried batch: all duplicates
    assert [(r.session_id, r.created) for r in again] == [(r.session_id, False) for r in results]

    for item, result in zip(batch[:11], results, strict=False):
        row = await store.db.fetchrow("SELECT * FROM sessions WHERE id = ?", result.session_id)
        assert row is not None
        async with store.db.transaction() as tx:
            cp_id = int(row["charge_point_id"])
            point, tariff = await point_at(tx, cp_id, item.started_at)
            card = await card_facts(tx, item.id_tag) if item.id_tag else None
        who = bill_to(card, point)
        reasons = implausible(
            started_at=item.started_at,
            stopped_at=item.stopped_at,
            energy_wh=item.energy_wh,
            meter_start_wh=item.meter_start_wh,
            meter_stop_wh=item.meter_stop_wh,
            point=point,
            now=NOW,
        )
        stored = (
            row["card_id"],
            row["account_id"],
            row["flag"],
            row["review"],
            row["review_reasons"],
            row["start_cents"],
            row["per_kwh_cents"],
            row["per_minute_cents"],
            row["tariff_basis"],
            row["energy_wh"],
        )
        expected = (
            who.card_id,
            who.account_id,
            who.flag,
            "pending" if reasons else "none",
            "; ".join(reasons),
            *tariff.columns(),
            round(item.energy_wh),
        )
        assert stored == expected, item.transaction_id

    by_tx = {r.transaction_id: r.session_id for r in results}
    flags = {tx: (await store.sessions.get_session(sid)) for tx, sid in by_tx.items()}
    assert flags["c"].flag == "foreign_card"  # the checks above are not all vacuous
    assert flags["d"].account_id == other.id
    assert flags["i"].review == "pending"
    assert flags["k"].review == "pending"
    assert (await store.sessions.get_session(by_tx["b"])).per_kwh_cents == Decimal("35.5")
    assert (await store.sessions.get_session(by_tx["a"])).per_kwh_cents == Decimal(30)


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_two_processes_register_a_new_charge_point_at_once(schema_url: str) -> None:
    """Two back ends (two pools) take batches of one site naming the same new charge point at
    the same moment (a batch retried on another process): both are stored, the charge point is
    registered once, and neither collides on its unique key."""
    first, second = await Store.open(schema_url), await Store.open(schema_url)
    try:
        owner = await first.accounts.create_account(AccountKind.CONSUMER, "Owner", now=NOW)
        site = await first.sites.create_site(owner.id, "Home", now=NOW)
        start = NOW - timedelta(days=1)
        batches = [
            [_session("CP-NEW", f"{name}{n}", None, start) for n in range(400)]
            for name in ("x", "y")
        ]
        done = await asyncio.gather(
            first.sessions.ingest(site, batches[0], now=NOW),
            second.sessions.ingest(site, batches[1], now=NOW),
        )
        assert all(r.created for results in done for r in results)
        assert (
            await first.db.fetchval("SELECT count(*) FROM charge_points WHERE ocpp_id = 'CP-NEW'")
            == 1
        )
        assert await first.sessions.count_for_site(site.id) == 800
    finally:
        await first.close()
        await second.close()
