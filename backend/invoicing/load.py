# ruff: noqa: S608  (SQL text is built from constant column lists only; values are bound)
"""A month's inputs from the store as backend.billing's `MonthInput`.

Ids become strings: accounts, subscriptions (contracts) and sessions by their row id; own
charge points by row id, roaming ones as "<operator>/<OCPP id>". Which sessions are loaded:
every session that started (Amsterdam time) from 3 months before the month to its end - the
month's own, the late ones no document accounts for yet, and the accounted ones a late
overage is compared with - plus, for flexible charge-point plans, the owner's own charging
before that (the idle-fee history). A session's network: roaming by its origin; "home" when
the card's account owns the charge point; else our own network.

Late items: a session of an earlier month is late only when that month's run was made before
(`invoice_runs`, read first, so a run that commits meanwhile is either seen whole - its
documents included - or not at all); otherwise it waits for its own month's run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from ..billing.advance import billed_fees
from ..billing.calendar import Month, local_date, local_midnight
from ..billing.charges import CardRecord, OneOffCharge
from ..billing.contracts import Contract
from ..billing.guest_usage import GuestOwner, GuestSetting
from ..billing.invoicer import MonthInput
from ..billing.invoices import Invoice, LineKind
from ..billing.money import Basis, Price, VatRate, VatSplit
from ..billing.outages import Outage, OutageCause
from ..billing.plans import PlanForm, PlanKind
from ..billing.sessions import ChargingSession, Network, SessionTariff
from ..storage import Queries, Row, to_db
from ..store.tariff_parts import TariffParts
from .contracts import load_contracts, load_plans
from .convert import domain_invoice
from .guests import load_unrecovered
from .indexations import load_indexations
from .lease import load_lease_drivers
from .queries import line, summary
from .switches import load_switches

LOOKBACK_MONTHS = 3  # art. 22.4: overage may be billed up to 3 months after use
PAGE = 50_000


@dataclass(frozen=True, slots=True)
class Loaded:
    month_input: MonthInput
    prepaid_sessions: tuple[ChargingSession, ...]  # this month's, for the prepaid ledger
    prepaid_accounts: dict[str, int]  # session id → account id of prepaid sessions
    prepaid_uids: frozenset[str]  # prepaid cards without a subscription are not "unknown"
    session_count: int
    run_at: datetime | None = None  # when this month's run was made (a re-run issues nothing)


def _utc(day: date) -> str:
    text = to_db(local_midnight(day))
    assert text is not None
    return text


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text)  # fixed-width UTC text with "Z" (storage.timefmt)


class _Tariffs:
    """One SessionTariff per distinct stored tariff (millions of sessions, few tariffs)."""

    def __init__(self) -> None:
        self._known: dict[TariffParts, SessionTariff] = {}

    def get(self, parts: TariffParts) -> SessionTariff:
        found = self._known.get(parts)
        if found is None:
            found = domain_tariff(parts)
            self._known[parts] = found
        return found


def domain_tariff(parts: TariffParts) -> SessionTariff:
    return SessionTariff(
        start_cents=Decimal(parts.start_cents),
        per_kwh_cents=Decimal(parts.per_kwh_cents),
        per_minute_cents=Decimal(parts.per_minute_cents),
        basis=Basis(parts.basis),
    )


_SESSION_SQL = (
    "SELECT s.id, s.card_id, s.account_id, s.charge_point_id, s.cp_ocpp_id, s.source, s.operator,"
    " s.id_tag, s.started_at, s.stopped_at, s.energy_wh, s.start_cents, s.per_kwh_cents,"
    " s.per_minute_cents, s.tariff_basis, c.uid, c.account_id AS card_account,"
    " cp.account_id AS cp_account, cp.fast FROM sessions s"
    " LEFT JOIN cards c ON c.id = s.card_id LEFT JOIN charge_points cp ON cp.id = s.charge_point_id"
)
# Only what passed the door: nothing waiting in (or rejected by) the review queue, and no
# foreign card's session (kept on the charge point owner's account, billed to nobody).
_CHECKED = " s.review IN ('none', 'accepted', 'corrected') AND s.flag IS NULL AND"


def _session(row: Row, tariffs: _Tariffs) -> ChargingSession:
    if row["source"] == "roaming":
        network, point = Network.ROAMING, f"{row['operator']}/{row['cp_ocpp_id']}"
    else:
        owner = row["cp_account"]
        home = owner is not None and owner == row["card_account"]
        network = Network.HOME if home else Network.OWN
        point = str(row["charge_point_id"]) if row["charge_point_id"] else row["cp_ocpp_id"]
    return ChargingSession(
        id=str(row["id"]),
        card_uid=row["uid"] or row["id_tag"] or "",
        charge_point_id=point,
        started_at=_moment(row["started_at"]),
        stopped_at=_moment(row["stopped_at"]),
        energy_wh=int(row["energy_wh"]),
        network=network,
        tariff=tariffs.get(TariffParts.of_session_row(row)),
        fast=bool(row["fast"]),
    )


async def _cards(
    db: Queries, contracts: Sequence[tuple[Row, Contract]]
) -> tuple[list[CardRecord], set[str]]:
    """Cards with the subscription they belong to (the newest) and when they were blocked."""
    by_card: dict[int, Contract] = {}
    for sub, of_sub in contracts:
        if sub["card_id"] is not None:
            by_card[int(sub["card_id"])] = of_sub  # rows come by id: the newest wins
    blocked: dict[int, datetime] = {}
    for row in await db.fetch(
        "SELECT subject, min(at) AS at FROM audit_log WHERE action IN ('card.lost', 'card.blocked')"
        " GROUP BY subject"
    ):
        blocked[int(row["subject"].removeprefix("card:"))] = _moment(row["at"])
    cards, prepaid = [], set()
    for row in await db.fetch(
        "SELECT id, uid, account_id, kind, status FROM cards WHERE account_id IS NOT NULL"
    ):
        contract = by_card.get(int(row["id"]))
        if row["kind"] == "prepaid" or (contract and contract.plan.kind is PlanKind.PREPAID):
            prepaid.add(row["uid"])
        if contract is None:
            continue  # no subscription: its sessions are reported as of an unknown card
        at = blocked.get(int(row["id"])) if row["status"] in ("lost", "blocked") else None
        cards.append(
            CardRecord(
                uid=row["uid"],
                account_id=str(row["account_id"]),
                contract_id=contract.id,
                blocked_at=at,
            )
        )
    return cards, prepaid


async def _charges(db: Queries, month: Month) -> list[OneOffCharge]:
    charges = []
    for row in await db.fetch(
        "SELECT o.id, o.account_id, o.fee_cents, o.fee_basis, o.created_at, c.uid"
        " FROM card_orders o LEFT JOIN cards c ON c.id = o.replaces_card_id"
        " WHERE o.status <> 'cancelled' AND o.fee_cents > 0 AND o.created_at >= ?"
        " AND o.created_at < ?",
        _utc(month.first),
        _utc(month.end),
    ):
        on = local_day(row["created_at"])
        charges.append(
            OneOffCharge(
                id=f"card-order:{row['id']}",
                account_id=str(row["account_id"]),
                on=on,
                kind=LineKind.LOST_CARD_FEE,
                description=f"Replacement for lost card {row['uid'] or ''}".strip(),
                price=Price(int(row["fee_cents"]), Basis(row["fee_basis"])),
            )
        )
    for row in await db.fetch(
        "SELECT id, account_id, on_day, kind, description, cents, basis, vat_rate"
        " FROM billing_charges WHERE on_day >= ? AND on_day < ?",
        month.first.isoformat(),
        month.end.isoformat(),
    ):
        charges.append(
            OneOffCharge(
                id=f"charge:{row['id']}",
                account_id=str(row["account_id"]),
                on=date.fromisoformat(row["on_day"]),
                kind=LineKind(row["kind"]),
                description=row["description"],
                price=Price(int(row["cents"]), Basis(row["basis"]), VatRate(row["vat_rate"])),
            )
        )
    return charges


def local_day(text: str) -> date:
    return local_date(_moment(text))


async def _outages(db: Queries, month: Month) -> list[Outage]:
    rows = await db.fetch(
        "SELECT id, subscription_id, started_at, ended_at, cause FROM outages"
        " WHERE ended_at >= ? AND ended_at < ?",
        _utc(month.first),
        _utc(month.end),
    )
    return [
        Outage(
            id=f"outage:{r['id']}",
            contract_id=str(r["subscription_id"]),
            started_at=_moment(r["started_at"]),
            ended_at=_moment(r["ended_at"]),
            cause=OutageCause(r["cause"]),
        )
        for r in rows
    ]


async def _guest_owners(db: Queries) -> list[GuestOwner]:
    """Owners of charge points that are or were open to guests, with each charge point's
    setting history (art. 28.5: a guest session is credited at the tariff of its start)."""
    rows = await db.fetch(
        "SELECT cp.id, cp.account_id, cp.guest_usage AS open_now, h.valid_from, h.guest_usage,"
        " t.start_cents, t.per_kwh_cents, t.per_minute_cents, t.basis, a.vat_number,"
        " g.electricity_cents_per_kwh FROM charge_points cp"
        " JOIN charge_point_tariffs h ON h.charge_point_id = cp.id"
        " LEFT JOIN tariffs t ON t.id = h.tariff_id JOIN accounts a ON a.id = cp.account_id"
        " LEFT JOIN guest_owner_settings g ON g.account_id = cp.account_id"
        " WHERE cp.id IN (SELECT charge_point_id FROM charge_point_tariffs WHERE guest_usage = 1)"
        " ORDER BY cp.account_id, cp.id, h.valid_from, h.id"
    )
    owners: dict[int, list[Row]] = {}
    for row in rows:
        owners.setdefault(int(row["account_id"]), []).append(row)
    found = []
    for account, settings in owners.items():
        history = tuple(
            GuestSetting(
                charge_point_id=str(r["id"]),
                valid_from=_moment(r["valid_from"]),
                guest_usage=bool(r["guest_usage"]),
                tariff=_setting_tariff(r),
            )
            for r in settings
        )
        # Without a history entry (none: every charge point has one) the owner's tariff would
        # apply: that of the owner's newest setting of a charge point open now.
        current = [r for r in settings if r["open_now"]] or settings
        first = settings[0]
        found.append(
            GuestOwner(
                account_id=str(account),
                charge_point_ids=frozenset(str(r["id"]) for r in settings),
                tariff=_setting_tariff(current[-1]),
                electricity_cents_per_kwh=Decimal(first["electricity_cents_per_kwh"] or "0"),
                vat_registered=bool(first["vat_number"]),
                history=history,
            )
        )
    return found


def _setting_tariff(row: Row) -> SessionTariff:
    if row["basis"] is None:  # no tariff set: guests charge for free
        return SessionTariff()
    return domain_tariff(TariffParts.of_tariff_row(row))


async def _previous(db: Queries, month: Month, window: tuple[str, str]) -> list[Invoice]:
    """Documents of this month's run (so a re-run issues nothing again) and the documents that
    account for any session in the window (so no session is billed twice)."""
    rows = await db.fetch(
        "SELECT id, number, account_id, document_kind, month, issued_on, due_on, status,"
        " net_cents, vat_cents, gross_cents, paid_cents, doc_key FROM invoices"
        " WHERE run_month = ? OR id IN (SELECT i.invoice_id FROM invoice_sessions i"
        " JOIN sessions s ON s.id = i.session_id WHERE s.started_at >= ? AND s.started_at < ?)",
        str(month),
        *window,
    )
    if not rows:
        return []
    ids = [int(r["id"]) for r in rows]
    lines: dict[int, list[Row]] = {i: [] for i in ids}
    accounted: dict[int, list[str]] = {i: [] for i in ids}
    for chunk in range(0, len(ids), 500):
        part = ids[chunk : chunk + 500]
        marks = ", ".join("?" for _ in part)
        for r in await db.fetch(
            f"SELECT invoice_id, position, kind, description, quantity, unit, vat_rate,"
            f" net_cents, vat_cents, gross_cents, ref FROM invoice_lines"
            f" WHERE invoice_id IN ({marks}) ORDER BY invoice_id, position",
            *part,
        ):
            lines[int(r["invoice_id"])].append(r)
        for r in await db.fetch(
            f"SELECT invoice_id, session_id FROM invoice_sessions WHERE invoice_id IN ({marks})"
            " ORDER BY session_id",
            *part,
        ):
            accounted[int(r["invoice_id"])].append(str(r["session_id"]))
    return [
        domain_invoice(
            summary(r),
            tuple(line(x) for x in lines[int(r["id"])]),
            r["doc_key"],
            tuple(accounted[int(r["id"])]),
        )
        for r in rows
    ]


async def runs_made(db: Queries, month: Month) -> dict[Month, datetime]:
    """The runs made of `month` and the months it may take late items from."""
    rows = await db.fetch(
        "SELECT month, run_at FROM invoice_runs WHERE month >= ? AND month <= ?",
        str(month.plus(-LOOKBACK_MONTHS)),
        str(month),
    )
    return {Month.parse(r["month"]): _moment(r["run_at"]) for r in rows}


async def _reimbursed(db: Queries, month: Month) -> frozenset[str]:
    """Sessions of the window a statement reimbursed already (statements before 0060 list
    theirs only as text)."""
    since = str(month.plus(-LOOKBACK_MONTHS))
    found = {
        str(r["session_id"])
        for r in await db.fetch(
            "SELECT session_id FROM reimbursed_sessions WHERE month >= ?", since
        )
    }
    for row in await db.fetch(
        "SELECT session_ids FROM lease_reimbursements WHERE month >= ?", since
    ):
        found.update(s for s in row["session_ids"].split(",") if s)
    return frozenset(found)


async def _fees_billed(db: Queries, month: Month) -> dict[str, VatSplit]:
    """What earlier runs billed for the fees of `month` and the next (art. 22.1,
    billing.advance)."""
    rows = await db.fetch(
        "SELECT ref, net_cents, vat_cents, gross_cents, vat_rate FROM invoice_lines"
        " WHERE kind = 'subscription_fee' AND (ref LIKE ? OR ref LIKE ?)",
        f"%@{month}",
        f"%@{month.next()}",
    )
    return billed_fees(
        [
            (
                r["ref"],
                VatSplit(
                    int(r["net_cents"]),
                    int(r["vat_cents"]),
                    int(r["gross_cents"]),
                    VatRate(r["vat_rate"]),
                ),
            )
            for r in rows
        ]
    )


async def _paid_out(db: Queries, month: Month) -> frozenset[str]:
    """Guest sessions of the window a credit note paid out already (its lines' refs)."""
    rows = await db.fetch(
        "SELECT l.ref FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id"
        " WHERE l.kind = 'guest_usage' AND i.month >= ?",
        str(month.plus(-LOOKBACK_MONTHS)),
    )
    return frozenset(r["ref"] for r in rows)


def _convert(
    rows: list[Row],
    month: Month,
    tariffs: _Tariffs,
    prepaid_uids: set[str],
    sessions: list[ChargingSession],
    prepaid: list[ChargingSession],
    accounts: dict[str, int],
    open_months: frozenset[Month],
) -> None:
    for row in rows:
        session = _session(row, tariffs)
        sessions.append(session)  # prepaid ones too: a guest's prepaid session pays its owner
        # A late prepaid session is deducted too ("session:<id>" entries are never doubled).
        due = session.month == month or (
            month.plus(-LOOKBACK_MONTHS) <= session.month < month
            and session.month not in open_months
        )
        if session.card_uid in prepaid_uids and due and row["card_account"]:
            prepaid.append(session)
            accounts[session.id] = int(row["card_account"])


async def load_month(db: Queries, month: Month) -> Loaded:
    runs = await runs_made(db, month)  # first: see the note on late items above
    open_months = frozenset(
        m for k in range(1, LOOKBACK_MONTHS + 1) if (m := month.plus(-k)) not in runs
    )
    plans = await load_plans(db)
    contracts = await load_contracts(db, plans)
    cards, prepaid_uids = await _cards(db, contracts)
    window = (_utc(month.plus(-LOOKBACK_MONTHS).first), _utc(month.end))
    tariffs = _Tariffs()
    count = 0
    sessions: list[ChargingSession] = []
    prepaid: list[ChargingSession] = []
    prepaid_accounts: dict[str, int] = {}
    after = 0
    while True:  # in pages, so a month of millions never holds all its raw rows at once
        page = await db.fetch(
            _SESSION_SQL
            + " WHERE"
            + _CHECKED
            + " s.started_at >= ? AND s.started_at < ? AND s.id > ? ORDER BY s.id LIMIT ?",
            *window,
            after,
            PAGE,
        )
        if not page:
            break
        after = int(page[-1]["id"])
        _convert(
            page, month, tariffs, prepaid_uids, sessions, prepaid, prepaid_accounts, open_months
        )
        count += len(page)
    history_points = [
        c.charge_point_id
        for _, c in contracts
        if c.charge_point_id
        and c.plan.kind is PlanKind.CHARGE_POINT
        and c.plan.form is PlanForm.FLEXIBLE
    ]
    for chunk in range(0, len(history_points), 500):
        part = history_points[chunk : chunk + 500]
        marks = ", ".join("?" for _ in part)
        history = await db.fetch(
            _SESSION_SQL
            + " WHERE"
            + _CHECKED
            + f" s.started_at < ? AND s.energy_wh > 0 AND s.charge_point_id IN ({marks})"
            " AND cp.account_id = c.account_id",
            window[0],
            *map(int, part),
        )
        _convert(
            history, month, tariffs, prepaid_uids, sessions, prepaid, prepaid_accounts, open_months
        )
        count += len(history)
    previous = await _previous(db, month, window)
    month_input = MonthInput(
        month=month,
        contracts=[c for _, c in contracts],
        cards=cards,
        sessions=sessions,
        switches=await load_switches(db, plans),
        charges=await _charges(db, month),
        outages=await _outages(db, month),
        guest_owners=await _guest_owners(db),
        unrecovered_guest_sessions=await load_unrecovered(db, window),
        lease_drivers=await load_lease_drivers(db),
        indexations=await load_indexations(db),
        previous=previous,
        open_months=open_months,
        reimbursed=await _reimbursed(db, month),
        paid_out=await _paid_out(db, month),
        fees_billed=await _fees_billed(db, month),
    )
    return Loaded(
        month_input=month_input,
        prepaid_sessions=tuple(prepaid),
        prepaid_accounts=prepaid_accounts,
        prepaid_uids=frozenset(prepaid_uids),
        session_count=count,
        run_at=runs.get(month),
    )
