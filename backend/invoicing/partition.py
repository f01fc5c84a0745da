"""A month's run in partitions of the accounts, merged into exactly the documents one run of all
accounts makes (the pure rules are the bulk of a big run: partitions let several processes, on
one machine or several, share it).

A partition (`load.Part`: an account id range) reads everything small whole (contracts, cards,
guest owners, lease drivers, earlier documents) and only the sessions its accounts' documents
depend on (`load._scope`), runs backend.billing.run_month on that, and keeps only what belongs
to its accounts: their documents (unnumbered yet), their lease statements, the sessions not
billed that it reports on (each session's card account decides which partition reports it),
their prepaid deductions and late sessions. `merge` numbers all documents at once
(`assign_numbers` orders them by their identity, whatever partition made them) and orders the
skipped sessions as one run does: unknown cards first in billing order, then per account.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from ..billing.calendar import Month
from ..billing.errors import BillingError
from ..billing.invoicer import MonthRun, Skipped, run_month
from ..billing.invoices import DocumentKind, InvoiceDraft, assign_numbers
from ..billing.lease import LeaseDriver, Reimbursement
from ..billing.sessions import ChargingSession
from ..store.errors import Invalid
from .load import Loaded, Part
from .persist import ToStore

# Sort key of a skipped session whose card is unknown: the order run_month bills in (the
# month's own first, then late ones; by start, then id).
UnknownKey = tuple[bool, datetime, str]


@dataclass(frozen=True, slots=True)
class PartResult:
    part: Part
    drafts: tuple[InvoiceDraft, ...]
    reimbursements: tuple[Reimbursement, ...]
    unknown: tuple[tuple[UnknownKey, Skipped], ...]  # skipped: card unknown
    per_account: tuple[tuple[str, Skipped], ...]  # skipped by an account's rules, in order
    prepaid_refs: frozenset[str]  # skipped sessions of prepaid cards (settled by the ledger)
    earlier: frozenset[str]  # sessions of earlier months its invoices bill
    prepaid_sessions: tuple[ChargingSession, ...]
    prepaid_accounts: dict[str, int]
    lease_drivers: tuple[LeaseDriver, ...]  # every driver (the same in each part)
    run_at: datetime | None = None  # the month's run, when one was made before this load
    load_seconds: float = 0.0
    rules_seconds: float = 0.0


def compute_part(loaded: Loaded, issued_on: date | None, load_seconds: float = 0.0) -> PartResult:
    """Run the rules on one partition's load (`load_month(..., part)`) and keep its share."""
    scope = loaded.scope
    assert scope is not None, "a partition's load"
    inp = loaded.month_input
    month = inp.month
    began = time.perf_counter()
    try:
        run = run_month(inp, {}, issued_on)
    except BillingError as err:
        raise Invalid(str(err)) from err
    rules = time.perf_counter() - began

    def ours(account: str) -> bool:
        return scope.low <= int(account) <= scope.high

    drafts = tuple(i.draft for i in run.invoices if ours(i.draft.account_id))
    by_id = {s.id: s for s in inp.sessions}
    cards = {c.uid: c for c in inp.cards}
    unknown: list[tuple[UnknownKey, Skipped]] = []
    per_account: list[tuple[str, Skipped]] = []
    for item in run.skipped:
        if not scope.owns(loaded.card_accounts.get(item.ref)):
            continue
        session = by_id[item.ref]
        card = cards.get(session.card_uid)
        if card is None:
            key = (session.month != month, session.started_at, session.id)
            unknown.append((key, item))
        else:
            per_account.append((card.account_id, item))
    prepaid = {
        i.ref for _, i in [*unknown, *per_account] if by_id[i.ref].card_uid in loaded.prepaid_uids
    }
    earlier = frozenset(
        sid
        for d in drafts
        if d.kind is DocumentKind.INVOICE
        for sid in d.sessions
        if by_id[sid].local_day < month.first  # of an earlier month
    )
    return PartResult(
        part=Part(scope.low, scope.high, scope.first),
        drafts=drafts,
        reimbursements=tuple(r for r in run.reimbursements if ours(r.account_id)),
        unknown=tuple(unknown),
        per_account=tuple(per_account),
        prepaid_refs=frozenset(prepaid),
        earlier=earlier,
        prepaid_sessions=loaded.prepaid_sessions,
        prepaid_accounts=loaded.prepaid_accounts,
        lease_drivers=tuple(inp.lease_drivers),
        run_at=loaded.run_at,
        load_seconds=load_seconds,
        rules_seconds=rules,
    )


@dataclass(frozen=True, slots=True)
class Merged:
    run: MonthRun
    to_store: ToStore
    reported: tuple[tuple[str, str], ...]  # skipped sessions to report: (ref, reason)


def merge(month: Month, results: Iterable[PartResult], numbers: Mapping[str, int]) -> Merged:
    parts = sorted(results, key=lambda r: r.part.low)
    invoices, new_numbers = assign_numbers((d for r in parts for d in r.drafts), numbers)
    unknown = sorted((u for r in parts for u in r.unknown), key=lambda u: u[0])
    indexed = [(account, n, item) for r in parts for n, (account, item) in enumerate(r.per_account)]
    # Stable: an account's items keep their order (each account is in one part).
    indexed.sort(key=lambda a: a[0])
    skipped = tuple([item for _, item in unknown] + [item for _, _, item in indexed])
    prepaid = frozenset(ref for r in parts for ref in r.prepaid_refs)
    reimbursements = sorted(
        (x for r in parts for x in r.reimbursements), key=lambda x: x.account_id
    )
    drivers: Sequence[LeaseDriver] = parts[0].lease_drivers if parts else ()
    accounts: dict[str, int] = {}
    for r in parts:
        accounts.update(r.prepaid_accounts)
    return Merged(
        run=MonthRun(tuple(invoices), new_numbers, tuple(reimbursements), skipped),
        to_store=ToStore(
            month=month,
            earlier=frozenset(sid for r in parts for sid in r.earlier),
            # In the order one load reads them (by id): the ledger's entries are made in it.
            prepaid_sessions=tuple(
                sorted((s for r in parts for s in r.prepaid_sessions), key=lambda s: int(s.id))
            ),
            prepaid_accounts=accounts,
            lease_drivers=drivers,
        ),
        reported=tuple((s.ref, s.reason) for s in skipped if s.ref not in prepaid),
    )


def split(low: int, high: int, count: int) -> list[Part]:
    """`count` ranges of account ids covering low..high (the first reports on sessions of no
    account)."""
    count = max(1, min(count, high - low + 1))
    size = -(-(high - low + 1) // count)
    return [
        Part(start, min(start + size - 1, high), first=n == 0)
        for n, start in enumerate(range(low, high + 1, size))
    ]
