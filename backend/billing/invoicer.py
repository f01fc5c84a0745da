"""The monthly run: plain inputs in, numbered documents out, no I/O (art. 9, 10, 12, 22, 26).

`run_month` builds, for one billing month (1st-last, Amsterdam time):
- per account one invoice: subscription fees (1/30 per day for a started month), the idle fee,
  plan-switch fees, sessions (own network at its tariff unless a bundle covers them, roaming
  passed on in full; home sessions are not billed), outage credits and one-off charges;
- per bundle contract with use beyond its (pro rata) bundle a separate overage invoice;
- per owner with guest sessions a credit note; per lease driver a reimbursement.
Fees are billed with the month's usage, in arrears: the invoice is dated the 1st of the next
month (a fixed recurring moment, art. 10.1) unless another date is given, and due 14 days later.

The run is a pure function of its inputs: the same inputs give the same documents and numbers,
whatever their order. Documents whose identity (account, month, kind, key) is already among
`previous` are not made again, so re-running a month with its own output as history issues
nothing new and takes no number.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from .bundles import allocate, allowance, price_overage
from .calendar import Month, local_date
from .charges import CardRecord, OneOffCharge, billable_to_customer
from .contracts import Contract
from .errors import BillingError
from .guest_usage import GuestOwner, guest_credit_note
from .idle_fee import idle_fee_fraction
from .invoices import (
    DocumentKind,
    Invoice,
    InvoiceDraft,
    InvoiceLine,
    LineKind,
    NumberState,
    assign_numbers,
    due_date,
)
from .lease import LeaseDriver, Reimbursement, monthly_reimbursement
from .money import format_eur
from .outages import Outage, compensated_days, compensation
from .plans import IDLE_FEE, PlanForm, PlanKind
from .prorata import month_fraction
from .sessions import ChargingSession, Network
from .switches import PlanSwitch, plan_on


@dataclass(frozen=True, slots=True)
class MonthInput:
    month: Month
    contracts: Sequence[Contract] = ()
    cards: Sequence[CardRecord] = ()
    sessions: Sequence[ChargingSession] = ()
    switches: Sequence[PlanSwitch] = ()
    charges: Sequence[OneOffCharge] = ()
    outages: Sequence[Outage] = ()
    guest_owners: Sequence[GuestOwner] = ()
    unrecovered_guest_sessions: frozenset[str] = frozenset()
    lease_drivers: Sequence[LeaseDriver] = ()
    previous: Sequence[Invoice] = ()


@dataclass(frozen=True, slots=True)
class Skipped:
    ref: str
    reason: str


@dataclass(frozen=True, slots=True)
class MonthRun:
    invoices: tuple[Invoice, ...]
    numbers: Mapping[str, int]
    reimbursements: tuple[Reimbursement, ...] = ()
    skipped: tuple[Skipped, ...] = field(default=())


def _unique_sessions(sessions: Sequence[ChargingSession]) -> list[ChargingSession]:
    """Sessions by id: an exact repeat counts once, a conflicting repeat is an error."""
    by_id: dict[str, ChargingSession] = {}
    for session in sessions:
        known = by_id.setdefault(session.id, session)
        if known != session:
            raise BillingError(f"session {session.id} appears twice with different data")
    return sorted(by_id.values(), key=lambda s: (s.started_at, s.id))


class _AccountMonth:
    """Collects one account's lines for the month."""

    def __init__(self, inp: MonthInput, sessions: list[ChargingSession]) -> None:
        self.inp, self.month, self.sessions = inp, inp.month, sessions
        self.skipped: list[Skipped] = []

    def contract_lines(self, contract: Contract) -> list[InvoiceLine]:
        service, month = contract.service, self.month
        if service is None or service.intersect(month.period) is None:
            return []
        plan = plan_on(contract, self.inp.switches, max(month.first, service.start))
        lines = []
        fraction = month_fraction(service, month)
        if plan.has_fixed_fee and fraction:
            part = "" if fraction == 1 else f" ({fraction * 30} days x 1/30)"
            lines.append(
                InvoiceLine(
                    LineKind.SUBSCRIPTION_FEE,
                    f"{plan.name} {month}{part}, {contract.charge_point_id or contract.id}",
                    plan.monthly_fee.times(fraction).split(),
                    ref=contract.id,
                )
            )
        if plan.kind is PlanKind.CHARGE_POINT and plan.form is PlanForm.FLEXIBLE:
            days = [
                s.local_day
                for s in self.sessions
                if s.charge_point_id == contract.charge_point_id and s.energy_wh > 0
            ]
            idle = idle_fee_fraction(service, days, month)
            if idle:
                lines.append(
                    InvoiceLine(
                        LineKind.IDLE_FEE,
                        f"No charging for more than 30 days ({month})",
                        IDLE_FEE.times(idle).split(),
                        ref=contract.id,
                    )
                )
        for switch in self.inp.switches:
            if switch.contract_id == contract.id and Month.of(switch.requested_on) == month:
                lines.append(
                    InvoiceLine(
                        LineKind.PLAN_SWITCH_FEE,
                        f"Plan change to {switch.new_plan.name} from {switch.effective_on}",
                        switch.fee.split(),
                        ref=f"{contract.id}:{switch.requested_on}",
                    )
                )
        for outage in sorted(self.inp.outages, key=lambda o: (o.ended_at, o.id)):
            if outage.contract_id != contract.id or outage.month != month:
                continue
            fee = plan_on(contract, self.inp.switches, local_date(outage.started_at)).monthly_fee
            credit = compensation(outage, fee)
            if credit.cents:
                lines.append(
                    InvoiceLine(
                        LineKind.OUTAGE_CREDIT,
                        f"Outage compensation, {compensated_days(outage)} day(s) ({outage.id})",
                        (-credit).split(),
                        ref=outage.id,
                    )
                )
        return lines

    def session_lines(
        self,
        sessions: list[ChargingSession],
        cards: Mapping[str, CardRecord],
        contracts: Mapping[str, Contract],
    ) -> tuple[list[InvoiceLine], dict[str, list[ChargingSession]]]:
        """Billed session lines, and the own-network sessions each bundle contract covers."""
        lines: list[InvoiceLine] = []
        bundled: dict[str, list[ChargingSession]] = {}
        for session in sessions:
            card = cards[session.card_uid]
            if session.network is Network.HOME:
                continue
            if not billable_to_customer(session, card):
                self.skipped.append(Skipped(session.id, "started after the card was blocked"))
                continue
            contract = contracts.get(card.contract_id)
            if contract is None:
                self.skipped.append(Skipped(session.id, f"unknown contract {card.contract_id}"))
                continue
            plan = plan_on(contract, self.inp.switches, session.local_day)
            if plan.kind is PlanKind.PREPAID:
                continue  # paid from the prepaid balance, not invoiced
            if plan.bundle is not None and session.network is Network.OWN:
                bundled.setdefault(contract.id, []).append(session)
                continue
            kwh = session.energy_wh / 1000
            text = (
                f"{session.network.value} session {session.charge_point_id} "
                f"{session.local_day} {kwh:.3f} kWh {session.connected_seconds // 60} min"
            )
            cost = session.cost()
            if cost.cents:  # a free session (no start fee, no energy, no time) bills nothing
                lines.append(InvoiceLine(LineKind.SESSION, text, cost.split(), session.id))
        return lines, bundled

    def overage_draft(
        self, contract: Contract, sessions: list[ChargingSession], issued_on: date
    ) -> InvoiceDraft | None:
        service, month = contract.service, self.month
        if service is None:
            return None
        plan = plan_on(contract, self.inp.switches, max(month.first, service.start))
        if plan.bundle is None:
            return None
        credit = allowance(plan.bundle, month_fraction(service, month))
        charges, expired = price_overage(allocate(sessions, credit), plan.overage, issued_on)
        for item in expired:
            reason = f"{item.component.value} overage older than 3 months"
            self.skipped.append(Skipped(item.session_id, reason))
        lines = tuple(
            InvoiceLine(
                LineKind.OVERAGE,
                f"Beyond the bundle {month}: {c.component.value}",
                c.price.split(),
                ref=f"{contract.id}:{c.component.value}",
                quantity=c.units,
                unit=c.component.unit,
            )
            for c in charges
        )
        if not lines:
            return None
        return InvoiceDraft(
            DocumentKind.OVERAGE_INVOICE,
            contract.account_id,
            month,
            issued_on,
            lines,
            due_date(issued_on),
            key=contract.id,
        )


def run_month(inp: MonthInput, numbers: NumberState, issued_on: date | None = None) -> MonthRun:
    month = inp.month
    issued_on = issued_on or month.end
    if issued_on < month.first:
        raise BillingError(f"an invoice for {month} cannot be dated {issued_on}")
    sessions = [s for s in _unique_sessions(inp.sessions) if s.month == month]
    cards = {c.uid: c for c in inp.cards}
    contracts = {c.id: c for c in inp.contracts}
    work = _AccountMonth(inp, sessions)
    drafts: list[InvoiceDraft] = []
    accounts = sorted({c.account_id for c in inp.contracts} | {c.account_id for c in inp.charges})
    for session in sessions:
        if session.card_uid not in cards and session.network is not Network.HOME:
            work.skipped.append(Skipped(session.id, f"unknown card {session.card_uid}"))
    for account in accounts:
        own_contracts = sorted(
            (c for c in inp.contracts if c.account_id == account), key=lambda c: c.id
        )
        lines = [line for c in own_contracts for line in work.contract_lines(c)]
        own_sessions = [
            s for s in sessions if s.card_uid in cards and cards[s.card_uid].account_id == account
        ]
        session_lines, bundled = work.session_lines(own_sessions, cards, contracts)
        lines += session_lines
        for charge in sorted(inp.charges, key=lambda c: (c.on, c.id)):
            if charge.account_id == account and Month.of(charge.on) == month:
                lines.append(
                    InvoiceLine(
                        charge.kind, charge.description, charge.price.split(), ref=charge.id
                    )
                )
        if lines:
            drafts.append(
                InvoiceDraft(
                    DocumentKind.INVOICE,
                    account,
                    month,
                    issued_on,
                    tuple(lines),
                    due_date(issued_on),
                )
            )
        for contract_id, covered in sorted(bundled.items()):
            draft = work.overage_draft(contracts[contract_id], covered, issued_on)
            if draft is not None:
                drafts.append(draft)
    card_accounts = {c.uid: c.account_id for c in inp.cards}
    for owner in sorted(inp.guest_owners, key=lambda o: o.account_id):
        note = guest_credit_note(
            owner,
            sessions,
            card_accounts,
            month,
            issued_on,
            unrecovered=inp.unrecovered_guest_sessions,
        )
        if note is not None:
            drafts.append(note)
    issued = {inv.draft.identity for inv in inp.previous}
    invoices, new_numbers = assign_numbers((d for d in drafts if d.identity not in issued), numbers)
    reimbursements = tuple(
        r
        for d in sorted(inp.lease_drivers, key=lambda d: d.account_id)
        if (r := monthly_reimbursement(d, sessions, month)) is not None
    )
    return MonthRun(tuple(invoices), new_numbers, reimbursements, tuple(work.skipped))


def describe(invoice: Invoice) -> str:
    """A plain-text rendering (docs, logs, the CLI's dry run)."""
    totals = invoice.totals
    rows = [
        f"{invoice.draft.kind.value} {invoice.number} {invoice.draft.account_id} "
        f"{invoice.draft.period} dated {invoice.issued_on} due {invoice.draft.due_on}"
    ]
    for n, line in enumerate(invoice.lines, 1):
        a = line.amount
        rows.append(
            f"{n:3d} {line.description:<60} {format_eur(a.net):>12} "
            f"{format_eur(a.vat):>10} {format_eur(a.gross):>12}"
        )
    rows.append(
        f"    {'total':<60} {format_eur(totals.net):>12} {format_eur(totals.vat):>10} "
        f"{format_eur(totals.gross):>12}"
    )
    return "\n".join(rows)
