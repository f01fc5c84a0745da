"""Lease drivers: a checked bank account and monthly home-charging reimbursement (seed 002).

The IBAN is checked by ISO 13616: country length and the mod-97 check digits. Home charging is
reimbursed per month of use (Amsterdam time) at the lease company's rate per kWh, for sessions
with the driver's cards at the driver's charge point from the day it became active (approved
installation) on. It is a payment on the lease company's behalf, not a supply: no VAT.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
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

    def __post_init__(self) -> None:
        if self.iban is not None:
            object.__setattr__(self, "iban", normalize_iban(self.iban))
        if exact(self.rate_cents_per_kwh, "reimbursement rate") < 0:
            raise BillingError("a reimbursement rate must not be negative")


@dataclass(frozen=True, slots=True)
class Reimbursement:
    account_id: str
    month: Month
    energy_wh: int
    cents: int
    iban: str | None
    session_ids: tuple[str, ...]

    @property
    def payable(self) -> bool:
        """Paid only to a checked bank account; otherwise kept until the driver enters one."""
        return self.iban is not None and self.cents > 0


def monthly_reimbursement(
    driver: LeaseDriver, sessions: Iterable[ChargingSession], month: Month
) -> Reimbursement | None:
    if driver.active_from is None:
        return None
    home = sorted(
        (
            s
            for s in sessions
            if s.month == month
            and s.charge_point_id == driver.charge_point_id
            and s.card_uid in driver.card_uids
            and s.local_day >= driver.active_from
        ),
        key=lambda s: (s.started_at, s.id),
    )
    if not home:
        return None
    energy = sum(s.energy_wh for s in home)
    cents = round_half_up(exact(driver.rate_cents_per_kwh) * Fraction(energy, 1000))
    return Reimbursement(
        driver.account_id, month, energy, cents, driver.iban, tuple(s.id for s in home)
    )
