"""Billing inputs as the API and the CLI record them, through backend.invoicing's functions
(the amounts and rules are backend.billing's): one-off charges made from their kind, and the
CPI indexation with the day it takes effect."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from ..billing.charges import OneOffCharge, misuse_charges, transfer_charge
from ..billing.indexation import Indexation
from ..invoicing import Invoicing
from ..storage import Database
from ..store import Invalid, NotFound

CHARGE_KINDS = ("transfer", "misuse")


@dataclass(frozen=True, slots=True)
class ChargeIn:
    kind: str  # transfer (names the subscription moved) or misuse
    on: date
    subscription_id: int | None = None
    costs_net_cents: int = 0
    admin_net_cents: int = 4000
    excess_mb: int = 0


def _charges(account_id: int, charge: ChargeIn) -> list[OneOffCharge]:
    if charge.kind == "transfer":
        if charge.subscription_id is None:
            raise Invalid("a transfer names the subscription moved (subscription_id)")
        return [transfer_charge("", str(account_id), charge.on, str(charge.subscription_id))]
    if charge.kind == "misuse":
        return misuse_charges(
            "",
            str(account_id),
            charge.on,
            costs_net=charge.costs_net_cents,
            admin_net=charge.admin_net_cents,
            excess_mb=charge.excess_mb,
        )
    raise Invalid(f"a charge is one of {', '.join(CHARGE_KINDS)}")


async def add_charges(
    db: Database, account_id: int, charge: ChargeIn, *, now: datetime
) -> list[int]:
    """The charge's lines for the invoice of its day's month (billing refuses, e.g., misuse
    admin costs under €40 excl. VAT, before anything is stored)."""
    lines = _charges(account_id, charge)
    if await db.fetchval("SELECT id FROM accounts WHERE id = ?", account_id) is None:
        raise NotFound(f"account {account_id} not found")
    if charge.subscription_id is not None:
        owner = await db.fetchval(
            "SELECT account_id FROM subscriptions WHERE id = ?", charge.subscription_id
        )
        if owner is None or int(owner) != account_id:
            raise NotFound(f"subscription {charge.subscription_id} not found")
    invoicing = Invoicing(db)
    return [await invoicing.add_charge(account_id, line, now=now) for line in lines]


async def record_indexation(
    db: Database, cpi_percent: Decimal, planned_on: date, announced_on: date, *, now: datetime
) -> tuple[int, date]:
    """The indexation's id and the day it takes effect (no sooner than a month after it was
    announced)."""
    new_id = await Invoicing(db).record_indexation(cpi_percent, planned_on, announced_on, now=now)
    return new_id, Indexation(cpi_percent, planned_on, announced_on).effective_on
