"""The driver and car a charge card names (`GET/PUT /api/v1/cards/{id}/vehicle`).

Stored beside the card (table card_vehicles, migration 0100); setting it takes the next
card-list version for the card's account, so the sites get it with their next card delta
(`ListedCard.vehicle`) and plan the sessions started with the card with this car.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..storage import Database, Queries, to_db
from .audit import AuditLog
from .cards import Cards, _changed, _next_version

_FIELDS = ("name", "battery_kwh", "max_power_kw", "phases", "target_soc")


@dataclass(frozen=True, slots=True)
class CardVehicle:
    card_id: int
    driver: str
    car: dict[str, Any]  # name, battery_kwh, max_power_kw, phases, target_soc, departures


class Vehicles:
    def __init__(self, db: Database, cards: Cards) -> None:
        self._db = db
        self._cards = cards

    async def get(self, card_id: int, scope: int | None = None) -> CardVehicle | None:
        await self._cards.get_card(card_id, scope)  # NotFound for another account's card
        row = await self._db.fetchrow("SELECT * FROM card_vehicles WHERE card_id = ?", card_id)
        return None if row is None else vehicle_of(row)

    async def put(
        self,
        card_id: int,
        scope: int | None,
        driver: str,
        car: dict[str, Any],
        *,
        now: datetime,
        actor: str,
    ) -> CardVehicle:
        card = await self._cards.get_card(card_id, scope)
        values = [car.get(name) for name in _FIELDS]
        values[0] = values[0] or ""
        departures = json.dumps(car.get("departures") or {}, sort_keys=True)
        async with self._db.transaction() as tx:
            await tx.execute("DELETE FROM card_vehicles WHERE card_id = ?", card_id)
            await tx.execute(
                "INSERT INTO card_vehicles (card_id, driver, name, battery_kwh, max_power_kw,"
                " phases, target_soc, departures, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                card_id,
                driver,
                *values,
                departures,
                to_db(now),
            )
            await _touch(tx, card_id, card.account_id)
            await AuditLog.add(
                tx,
                at=now,
                actor=actor,
                account_id=card.account_id,
                action="card.vehicle",
                subject=f"card:{card_id}",
                detail={"driver": driver, **{k: car.get(k) for k in _FIELDS}},
            )
        found = await self.get(card_id)
        assert found is not None
        return found


async def _touch(tx: Queries, card_id: int, account_id: int | None) -> None:
    """The card goes out again with the next delta of its account's sites."""
    version = await _next_version(tx)
    await tx.execute("UPDATE cards SET version = ? WHERE id = ?", version, card_id)
    await _changed(tx, card_id, version, account_id)


def vehicle_of(row: dict[str, Any]) -> CardVehicle:
    car = {name: row[name] for name in _FIELDS}
    car["departures"] = json.loads(row["departures"] or "{}")
    return CardVehicle(int(row["card_id"]), row["driver"], car)
