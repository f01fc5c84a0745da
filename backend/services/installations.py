"""An installation order's step, with what approval starts (seed 002 and the terms): the
charge point joins the customer's account (backend.store.installations) and, when the order
names a charge-point plan, that subscription is applied for on the order's day and accepted on
the approval's, so its start follows billing's rule (14 days of cooling-off for a consumer
unless an immediate start was asked, art. 29.1) — all in one transaction. The API, the portal
and the CLI move orders through `step` only."""

from __future__ import annotations

from datetime import date, datetime

from ..storage import Queries
from ..store import Step, Store, StoredOrder
from . import subscriptions


async def step(
    store: Store, order_id: int, action: Step, *, now: datetime, actor: str
) -> StoredOrder:
    async def start_subscription(
        tx: Queries, order: StoredOrder, charge_point_id: int, on: date
    ) -> int | None:
        if order.plan_code is None:
            return None
        sub_id = await subscriptions.apply_in(
            tx,
            order.account_id,
            order.plan_code,
            order.order.ordered_on,
            card_id=None,
            charge_point_id=charge_point_id,
            immediate_start=order.immediate_start,
            now=now,
            actor=actor,
        )
        await subscriptions.accept_in(tx, sub_id, on, now=now, actor=actor)
        return sub_id

    return await store.installations.step(
        order_id, action, now=now, actor=actor, on_approved=start_subscription
    )
