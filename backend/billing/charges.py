"""One-off charges and charge cards: lost card (art. 21.6), transfer (12.2), misuse (8.2).

A card reported lost is blocked at that instant; every session started before the block is
the customer's (art. 21.6), one started at or after it (a charger that was offline and did not
know yet) is not billed to the customer but reported for follow-up.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from .calendar import local_date, require_aware
from .errors import BillingError, InvalidTransition
from .invoices import LineKind
from .money import Price, require_cents
from .plans import (
    LOST_CARD_REPLACEMENT_FEE,
    MISUSE_ADMIN_MINIMUM,
    MISUSE_DATA_PER_MB,
    TRANSFER_FEE,
)
from .sessions import ChargingSession


@dataclass(frozen=True, slots=True)
class OneOffCharge:
    id: str
    account_id: str
    on: date
    kind: LineKind
    description: str
    price: Price


@dataclass(frozen=True, slots=True)
class CardRecord:
    uid: str
    account_id: str
    contract_id: str  # the subscription (or prepaid agreement) the card belongs to
    blocked_at: datetime | None = None


def report_lost(
    card: CardRecord, at: datetime, *, order_replacement: bool, charge_id: str
) -> tuple[CardRecord, OneOffCharge | None]:
    """Block the card at once; a replacement card costs €7.50 incl. VAT."""
    require_aware(at, "lost-card report time")
    if card.blocked_at is not None:
        raise InvalidTransition(f"card {card.uid} is already blocked since {card.blocked_at}")
    blocked = replace(card, blocked_at=at)
    if not order_replacement:
        return blocked, None
    fee = OneOffCharge(
        charge_id,
        card.account_id,
        local_date(at),
        LineKind.LOST_CARD_FEE,
        f"Replacement for lost card {card.uid}",
        LOST_CARD_REPLACEMENT_FEE,
    )
    return blocked, fee


def billable_to_customer(session: ChargingSession, card: CardRecord) -> bool:
    return card.blocked_at is None or session.started_at < card.blocked_at


def transfer_charge(charge_id: str, account_id: str, on: date, contract_id: str) -> OneOffCharge:
    return OneOffCharge(
        charge_id,
        account_id,
        on,
        LineKind.TRANSFER_FEE,
        f"Contract transfer on moving ({contract_id})",
        TRANSFER_FEE,
    )


def misuse_charges(
    charge_id: str,
    account_id: str,
    on: date,
    *,
    costs_net: int,
    admin_net: int = MISUSE_ADMIN_MINIMUM.cents,
    excess_mb: int = 0,
) -> list[OneOffCharge]:
    """Costs we made + admin costs of at least €40 excl. VAT (+ €1.50/MB data misuse), art. 8.2."""
    for value, name in ((costs_net, "costs"), (admin_net, "admin costs"), (excess_mb, "MB")):
        if require_cents(value, name) < 0:
            raise BillingError(f"misuse {name} must not be negative")
    if admin_net < MISUSE_ADMIN_MINIMUM.cents:
        raise BillingError("misuse admin costs are at least €40 excl. VAT (art. 8.2)")
    charges = [
        OneOffCharge(
            f"{charge_id}:admin",
            account_id,
            on,
            LineKind.MISUSE,
            "Administration costs for misuse",
            Price.net(admin_net),
        ),
    ]
    if costs_net:
        charges.append(
            OneOffCharge(
                f"{charge_id}:costs",
                account_id,
                on,
                LineKind.MISUSE,
                "Costs caused by misuse",
                Price.net(costs_net),
            )
        )
    if excess_mb:
        charges.append(
            OneOffCharge(
                f"{charge_id}:data",
                account_id,
                on,
                LineKind.MISUSE,
                f"Data beyond the bundle by misuse: {excess_mb} MB",
                MISUSE_DATA_PER_MB.times(excess_mb),
            )
        )
    return charges
