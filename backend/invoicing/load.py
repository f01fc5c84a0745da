"""A month's inputs from the store as backend.billing's `MonthInput` - all accounts', or one
partition's (`Part`, see `partition`).

Late items: a session of an earlier month is late only when that month's run was made before
(`invoice_runs`, read first, so a run that commits meanwhile is either seen whole - its
documents included - or not at all); otherwise it waits for its own month's run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ..billing.calendar import Month
from ..billing.charges import CardRecord, OneOffCharge
from ..billing.contracts import Contract
from ..billing.guest_usage import GuestOwner
from ..billing.invoicer import MonthInput
from ..billing.lease import LeaseDriver
from ..billing.plans import PlanForm, PlanKind
from ..billing.sessions import ChargingSession
from ..storage import Database, Row
from . import history
from .contracts import load_contracts, load_plans
from .guests import load_guest_owners, load_unrecovered
from .indexations import load_indexations
from .lease import load_lease_drivers
from .load_cards import load_cards
from .load_events import load_charges, load_outages
from .load_sessions import LOOKBACK_MONTHS, Lookups, Scope, Sessions
from .stamps import utc_text
from .switches import load_switches

__all__ = ["LOOKBACK_MONTHS", "Loaded", "Part", "history_points", "load_month", "window_of"]


@dataclass(frozen=True, slots=True)
class Part:
    """Accounts `low`..`high` (ids); `first`: the partition that reports on sessions of no
    account."""

    low: int
    high: int
    first: bool = True


@dataclass(frozen=True, slots=True)
class Loaded:
    month_input: MonthInput
    prepaid_sessions: tuple[ChargingSession, ...]  # this month's, for the prepaid ledger
    prepaid_accounts: dict[str, int]  # session id → account id of prepaid sessions
    prepaid_uids: frozenset[str]  # prepaid cards without a subscription are not "unknown"
    session_count: int
    run_at: datetime | None = None  # when this month's run was made (a re-run issues nothing)
    scope: Scope | None = None  # a partition's: which sessions it reports on
    card_accounts: dict[str, int | None] = field(default_factory=dict)  # with a scope only


def window_of(month: Month) -> tuple[str, str]:
    """The stored-text bounds of the sessions a run of `month` reads (see load_sessions)."""
    return (utc_text(month.plus(-LOOKBACK_MONTHS).first), utc_text(month.end))


def history_points(contracts: list[tuple[Row, Contract]]) -> list[str]:
    """Charge points whose owner's earlier charging the idle fee needs (flexible plans), each
    once."""
    points = (
        c.charge_point_id
        for _, c in contracts
        if c.charge_point_id
        and c.plan.kind is PlanKind.CHARGE_POINT
        and c.plan.form is PlanForm.FLEXIBLE
    )
    return list(dict.fromkeys(points))


def _scope(
    part: Part,
    lookups: Lookups,
    contracts: list[tuple[Row, Contract]],
    owners: list[GuestOwner],
    drivers: list[LeaseDriver],
) -> Scope:
    """What partition `part` must read to compute its accounts' documents exactly as a run of
    all accounts does: its cards' sessions, those of cards whose contract is its own, every
    session at a charge point one of its rules looks at (contracts' for the idle fee, guest
    owners' for the credit note, lease drivers' for the statement); the first partition also
    those of no card account."""

    def mine(account: str) -> bool:
        return part.low <= int(account) <= part.high

    cards = {
        card
        for card, (_, account) in lookups.cards.items()
        if (part.low <= account <= part.high if account is not None else part.first)
    }
    cards |= {
        int(s["card_id"]) for s, c in contracts if s["card_id"] is not None and mine(c.account_id)
    }
    points = {
        int(c.charge_point_id) for _, c in contracts if c.charge_point_id and mine(c.account_id)
    }
    points |= {int(p) for o in owners if mine(o.account_id) for p in o.charge_point_ids}
    points |= {int(d.charge_point_id) for d in drivers if mine(d.account_id)}
    return Scope(part.low, part.high, frozenset(cards), frozenset(points), part.first)


def _narrowed(
    part: Part, contracts: list[Contract], cards: list[CardRecord], charges: list[OneOffCharge]
) -> tuple[list[Contract], list[OneOffCharge]]:
    """A partition's contracts - its accounts' and those its accounts' cards belong to (the
    plan of a session's card) - and its accounts' one-off charges."""

    def mine(account: str) -> bool:
        return part.low <= int(account) <= part.high

    via_cards = {c.contract_id for c in cards if mine(c.account_id)}
    return (
        [c for c in contracts if mine(c.account_id) or c.id in via_cards],
        [c for c in charges if mine(c.account_id)],
    )


async def load_month(db: Database, month: Month, part: Part | None = None) -> Loaded:
    runs = await history.runs_made(db, month)  # first: see the note on late items above
    open_months = frozenset(
        m for k in range(1, LOOKBACK_MONTHS + 1) if (m := month.plus(-k)) not in runs
    )
    plans = await load_plans(db)
    contracts = await load_contracts(db, plans)
    cards, prepaid_uids = await load_cards(db, contracts)
    window = window_of(month)
    owners = await load_guest_owners(db)
    drivers = await load_lease_drivers(db)
    points = history_points(contracts)
    lookups = Lookups()
    await lookups.read(db)
    scope = None
    if part is not None:
        scope = _scope(part, lookups, contracts, owners, drivers)
        points = [p for p in points if int(p) in scope.points]
    sessions = Sessions(month, open_months, frozenset(prepaid_uids), lookups, scope)
    await sessions.load(db, db.engine, window, points)
    charges = await load_charges(db, month)
    of_contracts = [c for _, c in contracts]
    if part is not None:  # only its accounts' invoices are made (fees, charges: not all)
        of_contracts, charges = _narrowed(part, of_contracts, cards, charges)
    month_input = MonthInput(
        month=month,
        contracts=of_contracts,
        cards=cards,
        sessions=sessions.all,
        switches=await load_switches(db, plans),
        charges=charges,
        outages=await load_outages(db, month),
        guest_owners=owners,
        unrecovered_guest_sessions=await load_unrecovered(db, window),
        lease_drivers=drivers,
        indexations=await load_indexations(db),
        previous=await history.previous_documents(db, month, window),
        open_months=open_months,
        reimbursed=await history.reimbursed(db, month),
        paid_out=await history.paid_out(db, month),
        fees_billed=await history.fees_billed(db, month),
    )
    return Loaded(
        month_input=month_input,
        prepaid_sessions=tuple(sessions.prepaid),
        prepaid_accounts=sessions.prepaid_accounts,
        prepaid_uids=frozenset(prepaid_uids),
        session_count=sessions.count,
        run_at=runs.get(month),
        scope=scope,
        card_accounts=sessions.card_accounts,
    )
