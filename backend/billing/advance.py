"""Subscription fees billed in advance (art. 22.1: "bij vooruitbetaling te betalen").

The invoice made at the start of a month (the run of the month before, dated its 1st) carries:
- the new month's fee, in advance: the whole fee, or pro rata (1/30 per day, art. 22.1 a) when
  the service starts or ends within it as far as it is known then (ref `<contract>@<month>`);
- the settlement of the month just ended: what that month cost, as the service turned out
  (a start in the middle of it, a termination, a plan change), minus what its advance billed.
  A start mid-month is billed here pro rata, as the first payment; a termination after the
  advance is a credit here (art. 22.1, 6.4: outage credits go on the same invoice).
What an advance billed is passed in (`Context.fees_billed`, from the stored lines whose ref is
`<contract>@<month>`, for the month and the next: a month run after the next one was already
billed, out of order, bills no advance again). Documents made before fees were billed in
advance have no such lines, so the run that follows them bills the month just ended in full
besides the next month's advance (the one-time step from arrears to advance).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

from .calendar import Month
from .contracts import Contract
from .invoices import InvoiceLine, LineKind
from .money import Basis, Price, VatRate, VatSplit
from .prorata import month_fraction

if TYPE_CHECKING:
    from .account_month import Context


@dataclass(frozen=True, slots=True)
class MonthFee:
    fraction: Fraction
    price: Price
    plan_name: str


def fee_ref(contract: Contract, month: Month) -> str:
    return f"{contract.id}@{month}"


def month_fee(ctx: Context, contract: Contract, month: Month) -> MonthFee | None:
    """What `month` of the contract's service costs (None: no fixed fee, or not in service)."""
    service = contract.service
    if service is None or service.intersect(month.period) is None:
        return None
    first_day = max(month.first, service.start)
    plan = ctx.plan(contract, first_day)
    fraction = month_fraction(service, month)
    if not plan.has_fixed_fee or not fraction:
        return None
    return MonthFee(fraction, ctx.monthly_fee(contract, first_day).times(fraction), plan.name)


def rest_rate() -> VatRate:
    return VatRate.STANDARD


def _part(fraction: Fraction) -> str:
    return "" if fraction == 1 else f" ({fraction * 30} days x 1/30)"


def fee_lines(ctx: Context, contract: Contract) -> list[InvoiceLine]:
    month, target = ctx.month, contract.charge_point_id or contract.id
    lines = []
    due = month_fee(ctx, contract, month)
    billed = ctx.fees_billed.get(fee_ref(contract, month))
    if due is not None or billed is not None:
        basis = due.price.basis if due is not None else Basis.GROSS
        before = 0 if billed is None else (billed.gross if basis is Basis.GROSS else billed.net)
        rest = (due.price.cents if due is not None else 0) - before
        if rest:
            name = due.plan_name if due is not None else "Subscription"
            what = (f"{_part(due.fraction)}" if due is not None else "") + (
                ", credit for what the advance billed beyond the service" if rest < 0 else ""
            )
            text = f"{name} {month}{what}, {target}"
            rate = due.price.rate if due is not None else billed.rate if billed else rest_rate()
            lines.append(
                InvoiceLine(
                    LineKind.SUBSCRIPTION_FEE,
                    text,
                    Price(rest, basis, rate).split(),
                    ref=fee_ref(contract, month),
                )
            )
    upcoming = month.next()
    ahead = month_fee(ctx, contract, upcoming)
    known = ctx.fees_billed.get(fee_ref(contract, upcoming))  # months run out of order
    if ahead is not None and ahead.price.cents and known is None:
        text = f"{ahead.plan_name} {upcoming} in advance{_part(ahead.fraction)}, {target}"
        lines.append(
            InvoiceLine(
                LineKind.SUBSCRIPTION_FEE,
                text,
                ahead.price.split(),
                ref=fee_ref(contract, upcoming),
            )
        )
    return lines


def billed_fees(lines: list[tuple[str, VatSplit]]) -> dict[str, VatSplit]:
    """Sum stored fee lines per `<contract>@<month>` ref."""
    found: dict[str, VatSplit] = {}
    for ref, amount in lines:
        known = found.get(ref)
        found[ref] = (
            amount
            if known is None
            else VatSplit(
                known.net + amount.net,
                known.vat + amount.vat,
                known.gross + amount.gross,
                amount.rate,
            )
        )
    return found
