"""Who holds each card: site.yaml's card entries and the residents set through the local API.

An API entry (source "site") stands before site.yaml's entry for the same card (source
"config"), as a site card does before site.yaml's cards; removing it shows site.yaml's again.
Cards are matched as OCPP does, case-insensitively. API entries live in the site's SQLite
file (store.py) and in memory, so that every page and API answer reads them without a hop.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from aiohttp import web

from ...config.console import Resident
from .store import ConsoleStore

SITE, CONFIG = "site", "config"


@dataclass(frozen=True, slots=True)
class Entry:
    person: Resident
    source: str


class ResidentBook:
    def __init__(self, configured: Mapping[str, Resident]) -> None:
        self._configured = dict(configured)
        self._set: dict[str, Resident] = {}
        self._store: ConsoleStore | None = None

    async def load(self, store: ConsoleStore) -> None:
        self._set = await store.residents()
        self._store = store

    def entries(self) -> dict[str, Entry]:
        """Every card's entry by card (as written in its entry), the API's over site.yaml's."""
        found = {uid: Entry(person, CONFIG) for uid, person in self._configured.items()}
        for uid, person in self._set.items():
            for other in [u for u in found if u.casefold() == uid.casefold()]:
                del found[other]
            found[uid] = Entry(person, SITE)
        return found

    def people(self) -> dict[str, Resident]:
        return {uid: entry.person for uid, entry in self.entries().items()}

    def get(self, card: str) -> Entry | None:
        for uid, entry in self.entries().items():
            if uid.casefold() == card.casefold():
                return entry
        return None

    async def put(self, person: Resident) -> Entry:
        """Add or replace the API's entry for the card (stored before it is answered)."""
        store = self._require()
        old = self._own(person.card)
        await store.save_resident(person)
        if old is not None and old != person.card:
            await store.drop_resident(old)
            del self._set[old]
        self._set[person.card] = person
        return Entry(person, SITE)

    async def remove(self, card: str) -> bool:
        """False when the API has set nothing for the card (site.yaml's stay: edit the file)."""
        own = self._own(card)
        if own is None:
            return False
        await self._require().drop_resident(own)
        del self._set[own]
        return True

    def _own(self, card: str) -> str | None:
        return next((uid for uid in self._set if uid.casefold() == card.casefold()), None)

    def _require(self) -> ConsoleStore:
        if self._store is None:
            raise RuntimeError("the resident list is not loaded")
        return self._store


RESIDENTS = web.AppKey("residents", ResidentBook)
