"""The monthly run: plain inputs in, numbered documents out, no I/O (art. 9, 10, 12, 22, 26).

`run_month` builds, for one billing month (1st-last, Amsterdam time):
- per account one invoice: subscription fees (1/30 per day for a started month), the idle fee,
  plan-switch fees, sessions (own network at its tariff unless a bundle covers them, roaming
  passed on in full; home and prepaid sessions are not invoiced), outage credits and one-off
  charges;
- per bundle contract with use beyond its (pro rata) bundle a separate overage invoice;
- per owner with guest sessions a credit note; per lease driver a reimbursement.
Fees are billed in advance (art. 22.1, `advance`): the invoice is dated the 1st of the next
month (a fixed recurring moment, art. 10.1) unless another date is given, due 14 days later,
and carries that next month's fee with the settlement of the month's own (a start within it
pro rata, a termination as a credit); usage is billed in arrears on the same invoice.

Late sessions: a session of an earlier month that no earlier document accounts for (a roaming
record that arrived late) is billed on this month's invoice, marked "late"; if a bundle covered
it, the extra overage it causes in its own month goes on a separate overage invoice for that
month, within the 3-month limit. For that, pass the month's accounted sessions too.
Sessions of an earlier month in `open_months` (whose own run has not been made) are left to
that run: only what a made run could not see is late. Late lines follow the month's own.
Lease drivers' late home sessions go on this month's statement (see `lease`), unless
`reimbursed` lists them.
The idle fee needs the charge point's charging history: pass its earlier sessions as well.

The run is a pure function of its inputs: the same inputs give the same documents and numbers,
whatever their order. Documents whose identity (account, month, kind, key) is already among
`previous` are not made again, so re-running a month with its own output as history issues
nothing new and takes no number.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from .account_month import AccountMonth, Context, Skipped
from .calendar import Month
from .charges import CardRecord, OneOffCharge
from .contracts import Contract
from .errors import BillingError
from .guest_usage import GuestOwner, guest_credit_note
from .indexation import Indexation
from .invoices import (
    DocumentKind,
    Invoice,
    InvoiceDraft,
    LineKind,
    NumberState,
    assign_numbers,
    due_date,
)
from .lease import LeaseDriver, Reimbursement, monthly_reimbursement
from .money import VatSplit
from .outages import Outage
from .sessions import ChargingSession, Network
from .switches import PlanSwitch

__all__ = ["MonthInput", "MonthRun", "Skipped", "run_month"]


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
    indexations: Sequence[Indexation] = ()
    previous: Sequence[Invoice] = ()
    open_months: frozenset[Month] = frozenset()  # earlier months not run yet
    reimbursed: frozenset[str] = frozenset()  # sessions an earlier statement reimbursed
    paid_out: frozenset[str] = frozenset()  # guest sessions an earlier credit note paid
    # What earlier documents billed per "<contract>@<month>" (fees in advance, advance.py).
    fees_billed: Mapping[str, VatSplit] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MonthRun:
    invoices: tuple[Invoice, ...]
    numbers: Mapping[str, int]
    reimbursements: tuple[Reimbursement, ...] = ()
    skipped: tuple[Skipped, ...] = ()


def _unique_sessions(sessions: Sequence[ChargingSession]) -> list[ChargingSession]:
    """Sessions by id: an exact repeat counts once, a conflicting repeat is an error."""
    by_id: dict[str, ChargingSession] = {}
    for session in sessions:
        known = by_id.setdefault(session.id, session)
        if known != session:
            raise BillingError(f"session {session.id} appears twice with different data")
    return sorted(by_id.values(), key=lambda s: (s.started_at, s.id))


def _group[T](items: Iterable[T], key: Callable[[T], str]) -> dict[str, list[T]]:
    grouped: dict[str, list[T]] = {}
    for item in items:
        grouped.setdefault(key(item), []).append(item)
    return grouped


def _customer_since(contracts: Iterable[Contract]) -> dict[str, date]:
    since: dict[str, date] = {}
    for contract in contracts:
        day = contract.accepted_on or contract.applied_on
        since[contract.account_id] = min(day, since.get(contract.account_id, day))
    return since


def run_month(inp: MonthInput, numbers: NumberState, issued_on: date | None = None) -> MonthRun:
    month = inp.month
    issued_on = issued_on or month.end
    if issued_on < month.first:
        raise BillingError(f"an invoice for {month} cannot be dated {issued_on}")
    everything = _unique_sessions(inp.sessions)
    accounted = frozenset(sid for inv in inp.previous for sid in inv.draft.sessions)
    cards = {c.uid: c for c in inp.cards}
    charging_days: dict[str, list[date]] = {}
    for s in everything:
        if s.energy_wh > 0:
            charging_days.setdefault(s.charge_point_id, []).append(s.local_day)
    ctx = Context(
        month,
        issued_on,
        {c.id: c for c in inp.contracts},
        cards,
        _group(inp.switches, lambda w: w.contract_id),
        _group(inp.outages, lambda o: o.contract_id),
        charging_days,
        everything,
        accounted,
        inp.indexations,
        _customer_since(inp.contracts),
        inp.fees_billed,
    )
    billable = [
        s
        for s in everything
        if s.network is not Network.HOME
        and s.id not in accounted
        and (s.month == month or (s.month < month and s.month not in inp.open_months))
    ]
    billable.sort(key=lambda s: s.month != month)  # stable: the month's own, then late ones
    skipped = [
        Skipped(s.id, f"unknown card {s.card_uid}") for s in billable if s.card_uid not in cards
    ]
    sessions_of = _group(
        (s for s in billable if s.card_uid in cards), lambda s: cards[s.card_uid].account_id
    )
    contracts_of = _group(sorted(inp.contracts, key=lambda c: c.id), lambda c: c.account_id)
    charges_of = _group(inp.charges, lambda c: c.account_id)
    drafts: list[InvoiceDraft] = []
    for account in sorted(contracts_of.keys() | charges_of.keys()):
        work = AccountMonth(ctx, account)
        lines = [line for c in contracts_of.get(account, ()) for line in work.contract_lines(c)]
        lines += work.session_lines(sessions_of.get(account, ()))
        lines += work.charge_lines(charges_of.get(account, ()))
        if lines:
            drafts.append(
                InvoiceDraft(
                    DocumentKind.INVOICE,
                    account,
                    month,
                    issued_on,
                    tuple(lines),
                    due_date(issued_on),
                    sessions=tuple(work.accounted),
                )
            )
        drafts += work.overage_drafts()
        skipped += work.skipped
    at_point = _group(everything, lambda s: s.charge_point_id)
    card_accounts = {c.uid: c.account_id for c in inp.cards}
    paid_out = inp.paid_out | {
        line.ref
        for inv in inp.previous
        if inv.draft.kind is DocumentKind.CREDIT_NOTE
        for line in inv.lines
        if line.kind is LineKind.GUEST_USAGE
    }
    for owner in sorted(inp.guest_owners, key=lambda o: o.account_id):
        at_owner = [s for cp in sorted(owner.charge_point_ids) for s in at_point.get(cp, ())]
        note = guest_credit_note(
            owner,
            at_owner,
            card_accounts,
            month,
            issued_on,
            unrecovered=inp.unrecovered_guest_sessions,
            paid_out=paid_out,
            open_months=inp.open_months,
        )
        if note is not None:
            drafts.append(note)
    issued = {inv.draft.identity for inv in inp.previous}
    invoices, new_numbers = assign_numbers((d for d in drafts if d.identity not in issued), numbers)
    reimbursements = tuple(
        r
        for d in sorted(inp.lease_drivers, key=lambda d: d.account_id)
        if (
            r := monthly_reimbursement(
                d,
                at_point.get(d.charge_point_id, ()),
                month,
                reimbursed=inp.reimbursed,
                open_months=inp.open_months,
            )
        )
        is not None
    )
    return MonthRun(tuple(invoices), new_numbers, reimbursements, tuple(skipped))
