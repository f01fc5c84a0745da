"""The store on both engines: migrations, scoping, tokens, cards and the card-list delta."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

import pytest

from backend.storage import apply_migrations, migration_files
from backend.store import (
    AccountKind,
    CardKind,
    CardStatus,
    Conflict,
    NotFound,
    Role,
    SessionIn,
    SessionSource,
    Store,
)

from .conftest import NOW


async def _account(store: Store, name: str = "Ann") -> int:
    return (await store.accounts.create_account(AccountKind.CONSUMER, name, now=NOW)).id


async def test_migrations_are_applied_once(store: Store) -> None:
    assert await apply_migrations(store.db) == []
    versions = await store.db.fetch("SELECT version FROM schema_migrations ORDER BY version")
    assert [r["version"] for r in versions] == [n for n, _ in migration_files()]


async def test_scope_hides_other_accounts_like_missing_ids(store: Store) -> None:
    ann, bob = await _account(store, "Ann"), await _account(store, "Bob")
    card = await store.cards.create_card("04aa", CardKind.SUBSCRIPTION, now=NOW, account_id=ann)
    assert (await store.cards.get_card(card.id, ann)).uid == "04AA"
    with pytest.raises(NotFound):
        await store.cards.get_card(card.id, bob)
    assert await store.cards.list_cards(bob) == []
    assert [c.id for c in await store.cards.list_cards(None)] == [card.id]


async def test_tokens_are_hashed_and_expire_and_revoke(store: Store) -> None:
    ann = await _account(store)
    user = await store.accounts.create_user(
        ann, "Ann@Example.org", Role.CUSTOMER, now=NOW, password="s3cret!"
    )
    issued = await store.accounts.create_user_token(
        user.id, "app", now=NOW, expires_at=NOW + timedelta(days=1)
    )
    stored = await store.db.fetch("SELECT token_hash, prefix FROM api_tokens")
    assert issued.secret not in str(stored)
    principal = await store.accounts.authenticate(issued.secret, now=NOW)
    assert principal is not None
    assert principal.account_id == ann
    assert not principal.is_admin
    assert await store.accounts.authenticate(issued.secret + "x", now=NOW) is None
    assert await store.accounts.authenticate(issued.secret, now=NOW + timedelta(days=2)) is None
    await store.accounts.revoke_token(issued.id, now=NOW)
    assert await store.accounts.authenticate(issued.secret, now=NOW) is None
    assert (await store.accounts.verify_password("ann@example.org", "s3cret!")) == user
    assert await store.accounts.verify_password("ann@example.org", "wrong") is None
    with pytest.raises(Conflict):
        await store.accounts.create_user(ann, "ann@example.org", Role.ADMIN, now=NOW)


async def test_lost_card_is_blocked_audited_and_replacement_ordered(store: Store) -> None:
    ann = await _account(store)
    card = await store.cards.create_card("04BB", CardKind.SUBSCRIPTION, now=NOW, account_id=ann)
    lost, order = await store.cards.report_lost(card.id, ann, now=NOW, actor="user:1")
    assert lost.status is CardStatus.LOST
    assert lost.version > card.version
    assert order is not None
    assert order.fee_cents == 750
    assert order.fee_basis == "incl_vat"
    actions = [e.action for e in await store.audit.list(ann)]
    assert "card.lost" in actions
    assert "card_order.create" in actions
    with pytest.raises(Conflict):
        await store.cards.report_lost(card.id, ann, now=NOW, actor="user:1")
    with pytest.raises(Conflict):
        await store.cards.set_status(card.id, ann, CardStatus.ACTIVE, now=NOW, actor="user:1")


async def test_card_delta_per_account_with_moves_and_full_resync(store: Store) -> None:
    ann, bob = await _account(store, "Ann"), await _account(store, "Bob")
    a1 = await store.cards.create_card("A1", CardKind.SUBSCRIPTION, now=NOW, account_id=ann)
    await store.cards.create_card("B1", CardKind.SUBSCRIPTION, now=NOW, account_id=bob)
    first = await store.cards.delta(ann, 0)
    assert [c.uid for c in first.cards] == ["A1"]
    assert first.version >= a1.version
    assert (await store.cards.delta(ann, first.version)).cards == []
    await store.cards.set_status(a1.id, None, CardStatus.BLOCKED, now=NOW, actor="admin")
    blocked = await store.cards.delta(ann, first.version)
    assert [(c.uid, c.status) for c in blocked.cards] == [("A1", CardStatus.BLOCKED)]
    await store.cards.set_status(a1.id, None, CardStatus.ACTIVE, now=NOW, actor="admin")
    await store.cards.assign(a1.id, bob, now=NOW, actor="admin")
    moved = await store.cards.delta(ann, blocked.version)
    assert [(c.uid, c.status) for c in moved.cards] == [("A1", CardStatus.BLOCKED)]
    for_bob = await store.cards.delta(bob, 0)
    assert {(c.uid, c.status) for c in for_bob.cards} == {
        ("A1", CardStatus.ACTIVE),
        ("B1", CardStatus.ACTIVE),
    }


async def test_prepaid_card_below_minimum_may_not_start(store: Store) -> None:
    ann = await _account(store)
    await store.cards.create_card("P1", CardKind.PREPAID, now=NOW, account_id=ann)
    assert [c.may_start for c in (await store.cards.delta(ann, 0)).cards] == [False]


def _session(tx: str, cp: str = "CP1", tag: str | None = "A1") -> SessionIn:
    return SessionIn(cp, tx, 1, tag, NOW, NOW + timedelta(hours=1), 100.0, 7500.4, 7400.4)


async def test_ingest_is_idempotent_and_registers_new_charge_points(store: Store) -> None:
    ann = await _account(store)
    site = await store.sites.create_site(ann, "Home", now=NOW)
    await store.cards.create_card("A1", CardKind.SUBSCRIPTION, now=NOW, account_id=ann)
    first = await store.sessions.ingest(
        site, [_session("1"), _session("2"), _session("1")], now=NOW
    )
    assert [r.created for r in first] == [True, True, False]
    assert first[0].session_id == first[2].session_id
    again = await store.sessions.ingest(site, [_session("2"), _session("3", cp="CP2")], now=NOW)
    assert [r.created for r in again] == [False, True]
    rows = await store.sessions.list_sessions(ann)
    assert [(s.cp_ocpp_id, s.transaction_id) for s in rows] == [
        ("CP1", "1"),
        ("CP1", "2"),
        ("CP2", "3"),
    ]
    assert rows[0].energy_wh == 7400
    assert rows[0].card_id is not None
    assert len(await store.sites.list_charge_points(ann)) == 2


async def test_roaming_sessions_are_idempotent_per_operator(store: Store) -> None:
    ann = await _account(store)
    await store.cards.create_card("A1", CardKind.SUBSCRIPTION, now=NOW, account_id=ann)
    parts = {
        "start_cents": Decimal("35"),
        "per_kwh_cents": Decimal("59.5"),
        "per_minute_cents": Decimal("1"),
    }
    first = await store.sessions.add_roaming("NL-ABC", _session("77", "EVSE1"), now=NOW, **parts)
    again = await store.sessions.add_roaming("NL-ABC", _session("77", "EVSE1"), now=NOW, **parts)
    other = await store.sessions.add_roaming("NL-XYZ", _session("77", "EVSE1"), now=NOW, **parts)
    assert (first.created, again.created, other.created) == (True, False, True)
    assert again.session_id == first.session_id
    stored = await store.sessions.get_session(first.session_id, ann)
    assert stored.source is SessionSource.ROAMING
    assert (stored.operator, stored.per_kwh_cents) == ("NL-ABC", Decimal("59.5"))


async def test_concurrent_card_changes_reach_a_polling_site_in_full(store: Store) -> None:
    """Versions commit in order: a site polling while cards change never skips a change."""
    ann = await _account(store)
    cards = [
        await store.cards.create_card(f"C{n}", CardKind.SUBSCRIPTION, now=NOW, account_id=ann)
        for n in range(12)
    ]
    seen: dict[str, CardStatus] = {}
    version = 0
    done = asyncio.Event()

    async def poll() -> None:
        nonlocal version
        while True:
            finished = done.is_set()
            delta = await store.cards.delta(ann, version)
            seen.update({c.uid: c.status for c in delta.cards})
            version = delta.version
            if finished:
                return
            await asyncio.sleep(0)

    async def flip(card_id: int, rounds: int) -> None:
        for n in range(rounds):
            status = CardStatus.BLOCKED if n % 2 == 0 else CardStatus.ACTIVE
            await store.cards.set_status(card_id, ann, status, now=NOW, actor="t")

    poller = asyncio.create_task(poll())
    await asyncio.gather(*(flip(c.id, 3 + c.id % 2) for c in cards))
    done.set()
    await poller
    final = {c.uid: c.status for c in await store.cards.list_cards(ann)}
    assert seen == final
    assert set(final.values()) == {CardStatus.ACTIVE, CardStatus.BLOCKED}
