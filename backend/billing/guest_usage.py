"""Guest usage: owners open their charge point to guests and receive a credit note (art. 28).

- the owner sets a tariff (start, per kWh, per minute, incl. VAT) that may not exceed the
  platform maximum in any component (art. 28.3): a higher tariff is refused when set;
- a guest session is one at the owner's charge point with a card that is not the owner's,
  while the charge point was open to guests;
- the tariff in force when the session started is the one paid and credited (art. 28.5): an
  owner who changes the tariff afterwards changes nothing of it (`GuestSetting` history);
- one credit note per owner per month of use (Amsterdam time), paid out 1.5 months after that
  month: on the 15th of the second month after it (January → 15 March), moved to the next
  business day (art. 28.6);
- a session flagged as not recovered from the guest's MSP is paid out at most at the owner's
  actual electricity cost for its energy (art. 28.7);
- an owner with a VAT number gets the VAT shown (21 % within the amount); for an owner without
  one (most homeowners) the payout is outside the scope of VAT;
- late guest sessions (of an earlier month whose run was made, not in `open_months`, and on no
  credit note yet: not in `paid_out`) are paid with this month's credit note, after the
  month's own, as "late:" lines with their own date.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction

from .calendar import Month, next_business_day
from .errors import BillingError
from .invoices import DocumentKind, InvoiceDraft, InvoiceLine, LineKind
from .money import Basis, VatRate, VatSplit, exact, round_half_up
from .sessions import ChargingSession, SessionTariff

PAYOUT_DAY = 15

# The platform's cap on what an owner may ask guests (art. 28.3), incl. VAT.
PLATFORM_GUEST_MAXIMUM = SessionTariff(
    start_cents=Decimal(100),
    per_kwh_cents=Decimal(75),
    per_minute_cents=Decimal(10),
    basis=Basis.GROSS,
)


@dataclass(frozen=True, slots=True)
class GuestSetting:
    """A charge point's guest setting from `valid_from` on (until the next one)."""

    charge_point_id: str
    valid_from: datetime
    guest_usage: bool
    tariff: SessionTariff


@dataclass(frozen=True, slots=True)
class GuestOwner:
    account_id: str
    charge_point_ids: frozenset[str]
    tariff: SessionTariff  # without a history: the tariff of every guest session
    electricity_cents_per_kwh: Decimal  # what the owner pays for electricity, incl. VAT
    vat_registered: bool = False
    history: tuple[GuestSetting, ...] = ()  # per charge point, in any order

    def setting_at(self, charge_point_id: str, at: datetime) -> tuple[bool, SessionTariff]:
        """(open to guests, tariff) in force at `at`; before the first setting, the first."""
        own = sorted(
            (h for h in self.history if h.charge_point_id == charge_point_id),
            key=lambda h: h.valid_from,
        )
        if not own:
            return True, self.tariff
        found = own[0]
        for setting in own:
            if setting.valid_from <= at:
                found = setting
        return found.guest_usage, found.tariff


def validate_guest_tariff(tariff: SessionTariff, maximum: SessionTariff) -> SessionTariff:
    if tariff.basis is not Basis.GROSS or maximum.basis is not Basis.GROSS:
        raise BillingError("guest tariffs are set incl. VAT")
    for name in ("start_cents", "per_kwh_cents", "per_minute_cents"):
        if exact(getattr(tariff, name)) > exact(getattr(maximum, name)):
            raise BillingError(
                f"guest tariff {name} {getattr(tariff, name)} exceeds the platform maximum "
                f"{getattr(maximum, name)} (art. 28.3)"
            )
    return tariff


def check_guest_maximum(tariff: SessionTariff, maximum: SessionTariff) -> None:
    """Art. 28.3 for a tariff set in any basis: one excl. VAT is compared with VAT added."""
    factor = Fraction(100 + VatRate.STANDARD.percent, 100) if tariff.basis is Basis.NET else 1
    for name in ("start_cents", "per_kwh_cents", "per_minute_cents"):
        if exact(getattr(tariff, name)) * factor > exact(getattr(maximum, name)):
            raise BillingError(
                f"guest tariff {name} {getattr(tariff, name)} ({tariff.basis.value}) exceeds the"
                f" platform maximum {getattr(maximum, name)} incl. VAT (art. 28.3)"
            )


def payout_date(month: Month) -> date:
    target = month.plus(2)
    return next_business_day(date(target.year, target.month, PAYOUT_DAY))


def is_guest_session(
    session: ChargingSession, owner: GuestOwner, card_accounts: Mapping[str, str]
) -> bool:
    """At the owner's charge point with a card of someone else (or of another MSP)."""
    return (
        session.charge_point_id in owner.charge_point_ids
        and card_accounts.get(session.card_uid) != owner.account_id
    )


def guest_credit_note(
    owner: GuestOwner,
    sessions: Iterable[ChargingSession],
    card_accounts: Mapping[str, str],
    month: Month,
    issued_on: date,
    *,
    unrecovered: frozenset[str] = frozenset(),
    maximum: SessionTariff | None = None,
    paid_out: Collection[str] = (),
    open_months: Collection[Month] = (),
) -> InvoiceDraft | None:
    """The month's credit note for `owner`, or None without guest sessions."""
    if maximum is not None:
        validate_guest_tariff(owner.tariff, maximum)
    rate = VatRate.STANDARD if owner.vat_registered else VatRate.OUT_OF_SCOPE
    guest = sorted(
        (
            s
            for s in sessions
            if (s.month == month or (s.month < month and s.month not in open_months))
            and s.id not in paid_out
            and is_guest_session(s, owner, card_accounts)
        ),
        key=lambda s: (s.month != month, s.started_at, s.id),
    )
    lines = []
    for session in guest:
        open_to_guests, tariff = owner.setting_at(session.charge_point_id, session.started_at)
        if not open_to_guests:
            continue  # closed when it started: not a guest session (the door flags those)
        cents = tariff.cost(session.energy_wh, session.duration).cents
        text = f"Guest session {session.id} at {session.charge_point_id}"
        if session.month != month:
            text = f"late: {text} {session.local_day}"
        if session.id in unrecovered:
            cost_cap = round_half_up(
                exact(owner.electricity_cents_per_kwh) * Fraction(session.energy_wh, 1000)
            )
            if cost_cap < cents:
                cents, text = cost_cap, f"{text}, limited to electricity cost (art. 28.7)"
        amount = VatSplit.from_gross(cents, rate)
        lines.append(InvoiceLine(LineKind.GUEST_USAGE, text, amount, ref=session.id))
    if not lines:
        return None
    return InvoiceDraft(
        DocumentKind.CREDIT_NOTE,
        owner.account_id,
        month,
        issued_on,
        tuple(lines),
        payout_date(month),
    )
