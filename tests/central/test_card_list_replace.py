"""The local card list replaced by a full list from the cloud (a cloud restored from a backup):
cards not in it leave, its lower version is taken, and both survive a restart."""

from __future__ import annotations

from pathlib import Path

from custom_components.eflux.core.central.auth import CardBook
from custom_components.eflux.core.central.store import Store
from custom_components.eflux.core.domain import Card, CardListDelta, CardStatus


async def test_a_full_list_replaces_the_book_and_is_kept(tmp_path: Path) -> None:
    store = Store(tmp_path / "cards.sqlite")
    await store.open()
    try:
        book = CardBook(store)
        await book.apply(
            CardListDelta(0, 9, (Card("A", CardStatus.ACTIVE), Card("B", CardStatus.ACTIVE)))
        )
        await book.replace(
            CardListDelta(0, 4, (Card("A", CardStatus.BLOCKED), Card("C", CardStatus.ACTIVE)))
        )
        assert (book.version, book.get("b")) == (4, None)
        # A delta of the new history applies from the lower version on.
        assert await book.apply(CardListDelta(4, 5, (Card("D", CardStatus.ACTIVE),)))
        reloaded = CardBook(store)
        await reloaded.load()
        assert reloaded.version == 5
        assert sorted(reloaded.all(), key=lambda c: c.uid) == [
            Card("A", CardStatus.BLOCKED),
            Card("C", CardStatus.ACTIVE),
            Card("D", CardStatus.ACTIVE),
        ]
        await reloaded.replace(CardListDelta(0, 0, ()))  # a cloud with no cards at all
        emptied = CardBook(store)
        await emptied.load()
        assert (emptied.version, emptied.all()) == (0, [])
    finally:
        await store.close()
