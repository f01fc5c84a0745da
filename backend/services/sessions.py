# ruff: noqa: S608  (SQL text is built from constant column lists only; values are bound)
"""Sessions as the portal and /api/v1 show them: filtered by month, card and charge point
(newest first), their cost at the recorded tariff, a month's usage with daily totals, and the
same selection as CSV (GET /portal/sessions.csv, GET /api/v1/sessions.csv)."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from ..billing.calendar import Month, local_date, local_midnight
from ..billing.money import Basis
from ..billing.sessions import SessionTariff
from ..storage import Database, to_db
from ..store import SessionRecord
from ..store.rows import columns, records

_SESSION = columns(SessionRecord)
_VISIBLE = (
    " AND (account_id = ? OR charge_point_id IN"
    " (SELECT id FROM charge_points WHERE account_id = ?))"
)
MAX_ROWS = 5000  # one page/CSV; a month of a busy account stays far below


@dataclass(frozen=True, slots=True)
class SessionFilter:
    month: Month | None = None
    card_id: int | None = None
    charge_point_id: int | None = None
    own_charging: bool = False  # only sessions the account's cards charged (not guests')


def session_cost_cents(s: SessionRecord) -> int:
    """What the session cost at its recorded tariff, incl. VAT, in cents."""
    tariff = SessionTariff(
        s.start_cents, s.per_kwh_cents, s.per_minute_cents, Basis(s.tariff_basis)
    )
    return tariff.cost(s.energy_wh, s.stopped_at - s.started_at).split().gross


async def sessions_for(
    db: Database, scope: int | None, flt: SessionFilter, *, since: datetime | None = None
) -> list[SessionRecord]:
    """Sessions in scope (charged by the account or on its charge points), newest first."""
    args: list[Any] = []
    sql = f"SELECT {_SESSION} FROM sessions WHERE 1 = 1"
    if scope is not None and flt.own_charging:
        sql += " AND account_id = ?"
        args.append(scope)
    elif scope is not None:
        sql += _VISIBLE
        args += [scope, scope]
    if flt.month is not None:
        sql += " AND started_at >= ? AND started_at < ?"
        args += [to_db(local_midnight(flt.month.first)), to_db(local_midnight(flt.month.end))]
    if since is not None:
        sql += " AND started_at >= ?"
        args.append(to_db(since))
    if flt.card_id is not None:
        sql += " AND card_id = ?"
        args.append(flt.card_id)
    if flt.charge_point_id is not None:
        sql += " AND charge_point_id = ?"
        args.append(flt.charge_point_id)
    rows = await db.fetch(sql + " ORDER BY started_at DESC, id DESC LIMIT ?", *args, MAX_ROWS)
    return records(SessionRecord, rows)


@dataclass(frozen=True, slots=True)
class DayTotal:
    day: date
    energy_wh: int
    cost_cents: int


def daily_totals(sessions: list[SessionRecord], last_day: date, days: int) -> list[DayTotal]:
    """One entry per local day (oldest first), zero for days without sessions."""
    energy: dict[date, int] = defaultdict(int)
    cost: dict[date, int] = defaultdict(int)
    for s in sessions:
        day = local_date(s.started_at)
        energy[day] += s.energy_wh
        cost[day] += session_cost_cents(s)
    first = last_day - timedelta(days=days - 1)
    return [
        DayTotal(d, energy[d], cost[d]) for d in (first + timedelta(days=i) for i in range(days))
    ]


@dataclass(frozen=True, slots=True)
class Usage:
    """What the account's own cards charged in a month (guests on its charge points pay
    theirs), with a total per local day."""

    month: Month
    energy_wh: int
    cost_cents: int
    sessions: int
    days: list[DayTotal]


async def month_usage(db: Database, scope: int | None, month: Month) -> Usage:
    charged = await sessions_for(db, scope, SessionFilter(month, own_charging=True))
    last = month.end - timedelta(days=1)
    return Usage(
        month,
        sum(s.energy_wh for s in charged),
        sum(session_cost_cents(s) for s in charged),
        len(charged),
        daily_totals(charged, last, (last - month.first).days + 1),
    )


CSV_COLUMNS = (
    "session",
    "started_at_utc",
    "stopped_at_utc",
    "charge_point",
    "card",
    "energy_kwh",
    "cost_eur_incl_vat",
    "source",
)


def cell(value: str) -> str:
    """Text a spreadsheet would run as a formula is prefixed with a quote (CSV injection)."""
    return "'" + value if value[:1] in {"=", "+", "-", "@", "\t", "\r"} else value


def csv_text(rows: list[SessionRecord]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for s in rows:
        writer.writerow(
            [
                s.id,
                s.started_at.isoformat(),
                s.stopped_at.isoformat(),
                cell(s.cp_ocpp_id),
                cell(s.id_tag or ""),
                f"{Decimal(s.energy_wh) / 1000:.3f}",
                f"{Decimal(session_cost_cents(s)) / 100:.2f}",
                s.source.value,
            ]
        )
    return out.getvalue()


def csv_name(flt: SessionFilter) -> str:
    return f"sessions-{flt.month or 'all'}.csv"
