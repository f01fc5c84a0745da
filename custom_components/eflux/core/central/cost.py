"""What a 2.0.1 session costs, shown on the charger: TransactionEventResponse `totalCost` at
the end, CostUpdated every `interval` during the session (OCPP 2.0.1 I02/I03).

Prices come from the site (`CentralSystem.set_price_source`: the controller's price book, the
tariff overridden by pushed prices), per kWh in the site's currency. The cost is the stored
register readings of the session, each step priced at the moment it began, so a restart or a
late sample changes nothing. A charger showing another currency (TariffCostCtrlr.Currency) is
set to ours; one that refuses gets no costs rather than wrong ones.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from . import records
from .errors import CentralError
from .model import MeterSample, Transaction

if TYPE_CHECKING:
    from .hub import ChargerHub
    from .v201 import V201Session

_LOGGER = logging.getLogger(__name__)
PriceSource = Callable[[datetime], Decimal | None]  # per kWh in force at a moment
CENT = Decimal("0.01")
CURRENCY = "TariffCostCtrlr.Currency"


def session_cost(
    tx: Transaction, samples: Sequence[MeterSample], price_at: PriceSource
) -> Decimal | None:
    """The session's energy, step by step between register readings, each priced at its
    start; None when a step falls in an hour without a price."""
    points: list[tuple[datetime, float]] = []
    if tx.meter_start_wh is not None:
        points.append((tx.started_at, tx.meter_start_wh))
    points += sorted(
        (s.timestamp, s.energy_wh)
        for s in samples
        if s.energy_wh is not None and s.timestamp >= tx.started_at
    )
    if tx.stopped_at is not None and tx.meter_stop_wh is not None:
        points.append((tx.stopped_at, tx.meter_stop_wh))
    total = Decimal(0)
    for (at, wh), (_, next_wh) in itertools.pairwise(points):
        step = Decimal(str(next_wh)) - Decimal(str(wh))
        if step <= 0:  # no energy, or a register reset (flagged by the ledger)
            continue
        price = price_at(at)
        if price is None:
            return None
        total += step / 1000 * price
    return total.quantize(CENT, ROUND_HALF_UP)


class CostBook:
    """The site's prices as the central system sees them, and which chargers show costs."""

    def __init__(self, currency: str, interval: float) -> None:
        self.currency = currency
        self.interval = interval  # seconds between CostUpdated; 0: only the total at the end
        self.price_at: PriceSource | None = None
        self.refused: set[str] = set()  # chargers that keep another currency

    def enabled(self, cp_id: str) -> bool:
        return self.price_at is not None and cp_id not in self.refused

    async def cost(self, hub: ChargerHub, tx: Transaction) -> Decimal | None:
        if self.price_at is None or not self.enabled(tx.charge_point_id):
            return None
        samples = await hub.store.read(lambda db: records.transaction_samples(db, tx.record_id))
        return session_cost(tx, samples, self.price_at)

    async def agree_currency(self, session: V201Session) -> bool:
        """Make the charger show our currency; False when it will not."""
        cp_id = session.id
        if cp_id in self.refused:
            return False
        shown = session.hub.state(cp_id).configuration.get(CURRENCY)
        if shown is None:
            values = await session.get_variables([("TariffCostCtrlr", "Currency")])
            shown = values.get(CURRENCY, self.currency)  # not reported: it shows ours
            await session.hub.save_configuration(cp_id, {CURRENCY: shown})
        if shown.upper() == self.currency.upper():
            return True
        statuses = await session.set_variables([("TariffCostCtrlr", "Currency", self.currency)])
        if statuses and statuses[0] == "Accepted":
            await session.hub.save_configuration(cp_id, {CURRENCY: self.currency})
            return True
        _LOGGER.warning(
            "%s shows costs in %s and keeps it (%s): no costs sent", cp_id, shown, statuses
        )
        self.refused.add(cp_id)
        return False


async def send_cost_updates(hub: ChargerHub, book: CostBook) -> None:
    """CostUpdated for every open session on a connected 2.0.1 charger (one pass)."""
    for cp_id, session in list(hub.sessions.items()):
        if session.ocpp_version != "2.0.1" or session.closed or not book.enabled(cp_id):
            continue
        for tx in hub.ledger.open_transactions(cp_id):
            try:
                if not await book.agree_currency(session):
                    break
                cost = await book.cost(hub, tx)
                if cost is not None:
                    await session.request(
                        "CostUpdated", {"totalCost": float(cost), "transactionId": tx.id}
                    )
            except CentralError as err:
                _LOGGER.info("%s: CostUpdated for %s failed: %s", cp_id, tx.id, err)


async def cost_updates(hub: ChargerHub, book: CostBook) -> None:
    """Every `book.interval` seconds while the central system runs."""
    if book.interval <= 0:
        return
    while True:
        await asyncio.sleep(book.interval)
        try:
            await send_cost_updates(hub, book)
        except Exception:
            _LOGGER.exception("cost updates failed")
