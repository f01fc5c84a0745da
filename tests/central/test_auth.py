"""Cards: the cloud's versioned local list, config cards, the cloud on demand, offline fallback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
import pytest_asyncio

from custom_components.eflux.core.central import AuthorizationSettings, CardListGap
from custom_components.eflux.core.central.auth import Authorizer, CardBook
from custom_components.eflux.core.central.store import Store
from custom_components.eflux.core.domain import Card, CardKind, CardListDelta, CardStatus
from sim.chargepoint import SimChargePoint

from .support import T0, FakeClock, central_config, eventually, running_central


class FakeCloud:
    """A remote authorizer that can be slow, broken or unaware of a card."""

    def __init__(self, cards: dict[str, Card]) -> None:
        self.cards = cards
        self.asked: list[str] = []
        self.delay = 0.0
        self.broken = False

    async def __call__(self, uid: str) -> Card | None:
        self.asked.append(uid)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.broken:
            raise ConnectionError("no internet")
        return self.cards.get(uid)


@pytest_asyncio.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = Store(tmp_path / "auth.sqlite")
    await opened.open()
    yield opened
    await opened.close()


async def authorizer(
    store: Store, clock: FakeClock, cloud: FakeCloud | None = None, **settings: object
) -> tuple[Authorizer, CardBook]:
    book = CardBook(store)
    await book.load()
    auth = Authorizer(
        replace(AuthorizationSettings(remote_timeout=0.2), **settings),
        book,
        store,
        clock,
        cloud,  # type: ignore[arg-type]
    )
    await auth.load()
    return auth, book


async def test_local_list_statuses_win_even_over_free_charging(store: Store) -> None:
    clock = FakeClock()
    auth, book = await authorizer(store, clock, free_charging=True)
    await book.apply(
        CardListDelta(
            0,
            3,
            (
                Card("OK", CardStatus.ACTIVE, expires_at=T0 + timedelta(days=30)),
                Card("GONE", CardStatus.LOST),
                Card("STOPPED", CardStatus.BLOCKED),
                Card("OLD", CardStatus.ACTIVE, expires_at=T0 - timedelta(days=1)),
                Card("POOR", CardStatus.ACTIVE, kind=CardKind.PREPAID, may_start=False),
            ),
        )
    )
    results = {
        uid: await auth.authorize(uid) for uid in ("ok", "GONE", "STOPPED", "OLD", "POOR", "NEW")
    }
    assert {uid: r.status for uid, r in results.items()} == {
        "ok": "Accepted",
        "GONE": "Blocked",
        "STOPPED": "Blocked",
        "OLD": "Expired",
        "POOR": "Blocked",
        "NEW": "Accepted",  # unknown: free charging decides
    }
    assert results["ok"].expires_at == T0 + timedelta(days=1)  # the charger re-checks daily
    assert results["NEW"].source == "free-charging"


async def test_the_cloud_is_asked_once_and_its_answer_cached(store: Store) -> None:
    clock = FakeClock()
    cloud = FakeCloud({"CLOUD-1": Card("CLOUD-1", CardStatus.ACTIVE)})
    auth, _ = await authorizer(store, clock, cloud)
    assert (await auth.authorize("CLOUD-1")).source == "remote"
    assert (await auth.authorize("CLOUD-1")).source == "cache"
    assert (await auth.authorize("STRANGER")).status == "Invalid"
    assert (await auth.authorize("STRANGER")).status == "Invalid"
    assert cloud.asked == ["CLOUD-1", "STRANGER"]
    clock.advance(minutes=6)  # unknown answers expire sooner than known ones
    await auth.authorize("STRANGER")
    await auth.authorize("CLOUD-1")
    assert cloud.asked == ["CLOUD-1", "STRANGER", "STRANGER"]
    restarted, _ = await authorizer(store, clock, cloud)
    assert (await restarted.authorize("CLOUD-1")).source == "cache"  # kept across a restart


@pytest.mark.parametrize("failure", ["slow", "broken"])
async def test_charging_never_waits_for_the_internet(store: Store, failure: str) -> None:
    clock = FakeClock()
    cloud = FakeCloud({"CLOUD-1": Card("CLOUD-1", CardStatus.ACTIVE)})
    auth, _ = await authorizer(store, clock, cloud)
    await auth.authorize("CLOUD-1")
    clock.advance(days=1)  # the cached answer is stale now
    cloud.delay, cloud.broken = (5.0, False) if failure == "slow" else (0.0, True)
    stale = await auth.authorize("CLOUD-1")
    assert (stale.status, stale.source) == ("Accepted", "stale-cache")
    assert (await auth.authorize("NEVER-SEEN")).status == "Invalid"
    free, _ = await authorizer(store, clock, cloud, free_charging=True)
    assert (await free.authorize("NEVER-SEEN-2")).status == "Accepted"


async def test_card_list_versions(store: Store) -> None:
    _, book = await authorizer(store, FakeClock())
    assert await book.apply(CardListDelta(0, 2, (Card("A", CardStatus.ACTIVE),)))
    assert not await book.apply(CardListDelta(0, 2, (Card("A", CardStatus.LOST),)))  # replayed
    with pytest.raises(CardListGap):
        await book.apply(CardListDelta(5, 6, ()))
    assert await book.apply(CardListDelta(1, 3, (Card("A", CardStatus.LOST),)))  # overlap is fine
    reloaded = CardBook(store)
    await reloaded.load()
    assert reloaded.version == 3
    assert reloaded.get("a") == Card("A", CardStatus.LOST)


async def test_deltas_reach_connected_chargers_and_a_lost_card_is_refused_at_once(
    tmp_path: Path,
) -> None:
    clock = FakeClock()
    async with running_central(central_config(tmp_path), clock) as central:
        await central.apply_card_delta(
            CardListDelta(0, 1, tuple(Card(f"C{i:03}", CardStatus.ACTIVE) for i in range(120)))
        )
        url = f"ws://127.0.0.1:{central.port}"
        sims = [
            SimChargePoint(url, f"LIST-{v}", v, clock=clock, meter_interval=3600)
            for v in ("1.6", "2.0.1")
        ]
        for sim in sims:
            await sim.start()
        # after boot each charger gets the whole list, in chunks of its message size (50)
        await eventually(
            lambda: all(len(s.local_list) == 120 and s.local_list_version == 1 for s in sims)
        )
        assert [p["updateType"] for p in sims[0].calls("SendLocalList")] == [
            "Full",
            "Differential",
            "Differential",
        ]
        assert await central.card_list_version() == 1
        await central.apply_card_delta(CardListDelta(1, 2, (Card("C007", CardStatus.LOST),)))
        assert (await central.authorize("C007")).status == "Blocked"
        await eventually(
            lambda: all(
                s.local_list["C007"] == "Blocked" and s.local_list_version == 2 for s in sims
            )
        )
        await eventually(lambda: all(s.calls("ClearCache") for s in sims))
        for sim in sims:
            await sim.close()
