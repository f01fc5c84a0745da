"""The cards a run bills through: each with the subscription it belongs to (the newest) and
when it was blocked; and which cards are prepaid."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from ..billing.charges import CardRecord
from ..billing.contracts import Contract
from ..billing.plans import PlanKind
from ..storage import Queries, Row
from .stamps import moment


async def load_cards(
    db: Queries, contracts: Sequence[tuple[Row, Contract]]
) -> tuple[list[CardRecord], set[str]]:
    """Cards with a subscription (a card without one: its sessions are reported as of an
    unknown card), and the uids of prepaid cards."""
    by_card: dict[int, Contract] = {}
    for sub, of_sub in contracts:
        if sub["card_id"] is not None:
            by_card[int(sub["card_id"])] = of_sub  # rows come by id: the newest wins
    blocked: dict[int, datetime] = {}
    for row in await db.fetch(
        "SELECT subject, min(at) AS at FROM audit_log WHERE action IN ('card.lost', 'card.blocked')"
        " GROUP BY subject"
    ):
        blocked[int(row["subject"].removeprefix("card:"))] = moment(row["at"])
    cards, prepaid = [], set()
    for row in await db.fetch(
        "SELECT id, uid, account_id, kind, status FROM cards WHERE account_id IS NOT NULL"
    ):
        contract = by_card.get(int(row["id"]))
        if row["kind"] == "prepaid" or (contract and contract.plan.kind is PlanKind.PREPAID):
            prepaid.add(row["uid"])
        if contract is None:
            continue
        at = blocked.get(int(row["id"])) if row["status"] in ("lost", "blocked") else None
        cards.append(
            CardRecord(
                uid=row["uid"],
                account_id=str(row["account_id"]),
                contract_id=contract.id,
                blocked_at=at,
            )
        )
    return cards, prepaid
