"""Lease drivers: a checked bank account and monthly home-charging reimbursement (seed 002).

The IBAN is checked by ISO 13616: country length and the mod-97 check digits. Home charging is
reimbursed per month of use (Amsterdam time) at the lease company's rate per kWh, for sessions
with the driver's cards at the driver's charge point from the day it became active (approved
installation) on. It is a payment on the lease company's behalf, not a supply: no VAT.

A month's statement also takes the late home sessions: sessions of an earlier month whose run
was already made (so that run could not see them) and that no statement reimbursed yet. They
are reimbursed at the rate in force when they started (the lease company's terms of that time)
and listed as a separate group per month of use; each group is rounded on its own.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction

from .calendar import Month
from .errors import BillingError
from .money import exact, round_half_up
from .sessions import ChargingSession

# IBAN lengths of the countries we pay out to (SEPA, the common ones); others are refused.
IBAN_LENGTHS = {
    "NL": 18,
    "BE": 16,
    "DE": 22,
    "LU": 20,
    "FR": 27,
    "AT": 20,
    "ES": 24,
    "IT": 27,
    "IE": 22,
    "PT": 25,
    "FI": 18,
    "DK": 18,
    "SE": 24,
    "NO": 15,
    "GB": 22,
    "CH": 21,
    "PL": 28,
}
_IBAN = re.compile(r"^[A-Z]{2}\d{2}[A-Z0-9]+$")


def normalize_iban(text: str) -> str:
    """The IBAN without spaces, upper case, if it is valid; else a clear error."""
    if not isinstance(text, str):
        raise BillingError("an IBAN is text")
    iban = re.sub(r"\s+", "", text).upper()
    if not _IBAN.match(iban):
        raise BillingError(f"not an IBAN: {text!r}")
    expected = IBAN_LENGTHS.get(iban[:2])
    if expected is None:
        raise BillingError(f"IBANs from {iban[:2]} are not accepted")
    if len(iban) != expected:
        raise BillingError(f"a {iban[:2]} IBAN has {expected} characters, this one {len(iban)}")
    digits = "".join(str(int(ch, 36)) for ch in iban[4:] + iban[:4])
    if int(digits) % 97 != 1:
        raise BillingError(f"IBAN {iban} fails its check digits (mod 97)")
    return iban


@dataclass(frozen=True, slots=True)
class LeaseDriver:
    account_id: str
    card_uids: frozenset[str]
    charge_point_id: str
    rate_cents_per_kwh: Decimal  # the lease company's reimbursement rate
    iban: str | None = None  # set (and checked) by the driver in the portal
    active_from: date | None = None  # the charge point's approval date
    # The rate's history, (in force from, rate) in time order; empty: always the current rate.
    rates: tuple[tuple[datetime, Decimal], ...] = ()

    def __post_init__(self) -> None:
        if self.iban is not None:
            object.__setattr__(self, "iban", normalize_iban(self.iban))
        for rate in (self.rate_cents_per_kwh, *(r for _, r in self.rates)):
            if exact(rate, "reimbursement rate") < 0:
                raise BillingError("a reimbursement rate must not be negative")

    def rate_at(self, moment: datetime) -> Decimal:
        """The rate in force at `moment`; before the first known terms, the first ones (the
        terms are entered after the approval they apply from)."""
        found = self.rates[0][1] if self.rates else self.rate_cents_per_kwh
        for since, rate in self.rates:
            if since > moment:
                break
            found = rate
        return found


@dataclass(frozen=True, slots=True)
class ReimbursedGroup:
    """Sessions of one month of use at one rate: one line of the statement."""

    usage_month: Month
    rate_cents_per_kwh: Decimal
    late: bool  # of an earlier month, after that month's run
    energy_wh: int
    cents: int
    session_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Reimbursement:
    account_id: str
    month: Month
    energy_wh: int
    cents: int
    iban: str | None
    session_ids: tuple[str, ...]
    groups: tuple[ReimbursedGroup, ...] = ()

    @property
    def payable(self) -> bool:
        """Paid only to a checked bank account; otherwise kept until the driver enters one."""
        return self.iban is not None and self.cents > 0


def monthly_reimbursement(
    driver: LeaseDriver,
    sessions: Iterable[ChargingSession],
    month: Month,
    *,
    reimbursed: Collection[str] = (),
    open_months: Collection[Month] = (),
) -> Reimbursement | None:
    """The statement of `month`: its own home sessions, plus late ones of earlier months that
    are not in `open_months` (not run yet: their own run takes them) nor `reimbursed`."""
    if driver.active_from is None:
        return None
    active_from = driver.active_from
    home = sorted(
        (
            s
            for s in sessions
            if s.charge_point_id == driver.charge_point_id
            and s.card_uid in driver.card_uids
            and s.local_day >= active_from
            and s.id not in reimbursed
            and (s.month == month or (s.month < month and s.month not in open_months))
        ),
        key=lambda s: (s.started_at, s.id),
    )
    if not home:
        return None
    grouped: dict[tuple[bool, Month, Decimal], list[ChargingSession]] = {}
    for s in home:
        key = (s.month != month, s.month, driver.rate_at(s.started_at))
        grouped.setdefault(key, []).append(s)
    groups = []
    for (late, usage, rate), items in sorted(grouped.items()):
        energy = sum(s.energy_wh for s in items)
        cents = round_half_up(exact(rate) * Fraction(energy, 1000))
        groups.append(ReimbursedGroup(usage, rate, late, energy, cents, tuple(s.id for s in items)))
    return Reimbursement(
        driver.account_id,
        month,
        sum(g.energy_wh for g in groups),
        sum(g.cents for g in groups),
        driver.iban,
        tuple(sid for g in groups for sid in g.session_ids),
        tuple(groups),
    )
