"""Guest usage in the monthly report: which sessions E-Flux bills to residents' own E-Flux
cards, and the month's expected credit note to the association (the terms' art. 28).

From what the cloud last told the site (the site config the cloud link keeps in the site's
SQLite file, `GET /sync/config`: the charge points with `guest_usage` and their tariffs, and the
card list of the site's account), the site judges as the back end does
(backend/billing/guest_usage.py):

- a guest session is one at a charge point open to guests, with a card that is not one of the
  account's own (not on the cloud's list as the account's: another account's card is listed
  blocked, a guest's or a roaming card not at all); a session without a card is none;
- it is credited at the charge point's guest tariff: start + per kWh + per minute (the
  duration in whole seconds), rounded once to cents, the amount incl. VAT;
- the month's credit note is paid out from the 15th of the second month after (January → 15
  March; the next business day when that is none).

What the site cannot know, and so the note is "expected": a tariff changed during the month
(the site knows today's; the cloud credits each session at the tariff of its start), sessions
the cloud refused or still reviews, late sessions of earlier months, and sessions the guest's
provider did not pay (art. 28.7: paid out at most at the owner's electricity cost).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from ...domain import SessionRecord

PAYOUT_DAY = 15
CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class GuestTariff:
    start_cents: Decimal
    per_kwh_cents: Decimal
    per_minute_cents: Decimal

    def cents(self, record: SessionRecord) -> int:
        wh = Decimal(round(record.energy_kwh * 1000))
        seconds = Decimal(round((record.stopped_at - record.started_at).total_seconds()))
        exact = (
            self.start_cents + self.per_kwh_cents * wh / 1000 + self.per_minute_cents * seconds / 60
        )
        return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


FREE = GuestTariff(Decimal(0), Decimal(0), Decimal(0))  # open without a tariff: guests free


@dataclass(frozen=True, slots=True)
class GuestUsage:
    """The cloud's word as last synced: charge points open to guests and the account's cards."""

    open_points: Mapping[str, GuestTariff]  # OCPP id -> guest tariff
    own_cards: frozenset[str]  # casefolded uids

    def tariff_of(self, record: SessionRecord) -> GuestTariff | None:
        """The guest tariff a session is credited at; None when it is no guest session."""
        if record.card is None or record.card.casefold() in self.own_cards:
            return None
        return self.open_points.get(record.charge_point_id)

    def euros(self, record: SessionRecord) -> Decimal | None:
        tariff = self.tariff_of(record)
        return None if tariff is None else Decimal(tariff.cents(record)) / 100


@dataclass(frozen=True, slots=True)
class CreditNote:
    month: str
    sessions: int
    energy_kwh: Decimal
    amount: Decimal  # euros incl. VAT
    payout_from: date


def guest_usage(config: Mapping[str, Any] | None, own_cards: Iterable[str]) -> GuestUsage | None:
    """None before the site heard from the cloud (no stored config)."""
    if config is None:
        return None
    tariffs = {
        t.get("id"): _tariff(t) for t in config.get("tariffs") or [] if isinstance(t, Mapping)
    }
    open_points = {
        str(cp["ocpp_id"]): tariffs.get(cp.get("tariff_id")) or FREE
        for cp in config.get("charge_points") or []
        if isinstance(cp, Mapping) and cp.get("guest_usage") and cp.get("ocpp_id")
    }
    return GuestUsage(open_points, frozenset(uid.casefold() for uid in own_cards))


def _tariff(data: Mapping[str, Any]) -> GuestTariff:
    try:
        parts = [
            Decimal(str(data.get(k) or 0))
            for k in ("start_cents", "per_kwh_cents", "per_minute_cents")
        ]
    except InvalidOperation:
        return FREE
    if any(not p.is_finite() or p < 0 for p in parts):
        return FREE
    return GuestTariff(*parts)


def credit_note(usage: GuestUsage, month: str, records: Iterable[SessionRecord]) -> CreditNote:
    count, energy, cents = 0, Decimal(0), 0
    for record in records:
        tariff = usage.tariff_of(record)
        if tariff is None:
            continue
        count += 1
        energy += Decimal(str(record.energy_kwh))
        cents += tariff.cents(record)
    return CreditNote(month, count, energy, (Decimal(cents) / 100).quantize(CENT), payout(month))


def payout(month: str) -> date:
    year, number = int(month[:4]), int(month[5:7]) + 2
    if number > 12:
        year, number = year + 1, number - 12
    return date(year, number, PAYOUT_DAY)
