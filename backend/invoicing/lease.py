"""Lease drivers, stored (seed 002): reimbursement terms per driver, the run's input, and the
monthly reimbursements the run computed (backend.billing.lease keeps the rules).

A driver's cards are the cards of their account; their charge point must be their own (a
session there with their card is home charging). A month's statement is stored once: running
the month again adds and changes nothing. Each rate change is kept (`lease_driver_rates`), so a
late session is reimbursed at the rate in force when it started; each session is on one
statement only (`reimbursed_sessions`), whatever runs race.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from ..billing.errors import BillingError
from ..billing.invoicer import MonthRun
from ..billing.lease import LeaseDriver
from ..storage import Database, Queries, UniqueViolation, to_db
from ..store.audit import AuditLog
from ..store.errors import Conflict, Invalid, NotFound
from .models import ReimbursementGroupView, ReimbursementView


async def set_lease_driver(
    db: Database,
    account_id: int,
    charge_point_id: int,
    rate_cents_per_kwh: Decimal,
    iban: str | None,
    active_from: date | None,
    *,
    now: datetime,
    actor: str = "system",
) -> LeaseDriver:
    """Create or replace a lease driver's terms (IBAN checked by mod 97, normalized)."""
    if active_from is not None and not isinstance(active_from, date):
        raise Invalid("active_from must be a date")
    try:
        driver = LeaseDriver(
            str(account_id),
            frozenset(),
            str(charge_point_id),
            rate_cents_per_kwh,
            iban,
            active_from,
        )
    except BillingError as err:
        raise Invalid(str(err)) from err
    async with db.transaction() as tx:
        kind = await tx.fetchval("SELECT kind FROM accounts WHERE id = ?", account_id)
        if kind is None:
            raise NotFound(f"account {account_id} not found")
        if kind != "lease_driver":
            raise Invalid(f"account {account_id} is not a lease driver")
        owner = await tx.fetchval(
            "SELECT account_id FROM charge_points WHERE id = ?", charge_point_id
        )
        if owner is None or int(owner) != account_id:
            raise NotFound(f"charge point {charge_point_id} not found")
        values = (
            charge_point_id,
            str(rate_cents_per_kwh),
            driver.iban,
            active_from.isoformat() if active_from else None,
            to_db(now),
        )
        await tx.execute(
            "INSERT INTO lease_drivers (account_id, charge_point_id, rate_cents_per_kwh, iban,"
            " active_from, updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (account_id) DO"
            " UPDATE SET charge_point_id = ?, rate_cents_per_kwh = ?, iban = ?, active_from = ?,"
            " updated_at = ?",
            account_id,
            *values,
            *values,
        )
        await tx.execute(
            "INSERT INTO lease_driver_rates (account_id, since, rate_cents_per_kwh)"
            " VALUES (?, ?, ?) ON CONFLICT (account_id, since) DO UPDATE SET"
            " rate_cents_per_kwh = ?",
            account_id,
            to_db(now),
            str(rate_cents_per_kwh),
            str(rate_cents_per_kwh),
        )
        await AuditLog.add(
            tx,
            at=now,
            actor=actor,
            account_id=account_id,
            action="lease.terms",
            subject=f"account:{account_id}",
            detail={
                "charge_point_id": charge_point_id,
                "rate_cents_per_kwh": str(rate_cents_per_kwh),
                "iban_set": driver.iban is not None,
            },
        )
    return driver


async def load_lease_drivers(db: Queries) -> list[LeaseDriver]:
    cards: dict[int, set[str]] = {}
    for row in await db.fetch(
        "SELECT c.account_id, c.uid FROM cards c JOIN lease_drivers d"
        " ON d.account_id = c.account_id"
    ):
        cards.setdefault(int(row["account_id"]), set()).add(row["uid"])
    rates: dict[int, list[tuple[datetime, Decimal]]] = {}
    for row in await db.fetch(
        "SELECT account_id, since, rate_cents_per_kwh FROM lease_driver_rates"
        " ORDER BY account_id, since"
    ):
        rates.setdefault(int(row["account_id"]), []).append(
            (datetime.fromisoformat(row["since"]), Decimal(row["rate_cents_per_kwh"]))
        )
    rows = await db.fetch(
        "SELECT account_id, charge_point_id, rate_cents_per_kwh, iban, active_from"
        " FROM lease_drivers ORDER BY account_id"
    )
    return [
        LeaseDriver(
            str(r["account_id"]),
            frozenset(cards.get(int(r["account_id"]), ())),
            str(r["charge_point_id"]),
            Decimal(r["rate_cents_per_kwh"]),
            r["iban"],
            date.fromisoformat(r["active_from"]) if r["active_from"] else None,
            tuple(rates.get(int(r["account_id"]), ())),
        )
        for r in rows
    ]


async def store_reimbursements(
    tx: Queries, run: MonthRun, drivers: Sequence[LeaseDriver], *, now: datetime
) -> None:
    rates = {d.account_id: str(d.rate_cents_per_kwh) for d in drivers}
    try:
        await tx.executemany(
            "INSERT INTO lease_reimbursements (account_id, month, energy_wh, cents,"
            " rate_cents_per_kwh, iban, session_ids, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    int(r.account_id),
                    str(r.month),
                    r.energy_wh,
                    r.cents,
                    rates[r.account_id],
                    r.iban,
                    ",".join(r.session_ids),
                    to_db(now),
                )
                for r in run.reimbursements
            ],
        )
    except UniqueViolation as err:
        raise Conflict("a statement of this month was stored by a concurrent run") from err
    await tx.executemany(
        "INSERT INTO reimbursement_groups (account_id, month, position, usage_month, late,"
        " rate_cents_per_kwh, energy_wh, cents) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                int(r.account_id),
                str(r.month),
                n,
                str(g.usage_month),
                int(g.late),
                str(g.rate_cents_per_kwh),
                g.energy_wh,
                g.cents,
            )
            for r in run.reimbursements
            for n, g in enumerate(r.groups, 1)
        ],
    )
    try:
        await tx.executemany(
            "INSERT INTO reimbursed_sessions (session_id, account_id, month) VALUES (?, ?, ?)",
            [
                (int(sid), int(r.account_id), str(r.month))
                for r in run.reimbursements
                for sid in r.session_ids
            ],
        )
    except UniqueViolation as err:
        raise Conflict("a session was reimbursed by a concurrent run") from err


_STATEMENT = (
    "SELECT account_id, month, energy_wh, cents, rate_cents_per_kwh, iban, session_ids,"
    " status, paid_on, payout_reference FROM lease_reimbursements"
)


async def statements(db: Queries, where: str, *args: object) -> list[ReimbursementView]:
    """Statements matching `where` (constant SQL text; values bound), with their groups."""
    rows = await db.fetch(f"{_STATEMENT} WHERE {where} ORDER BY month, account_id", *args)
    found = []
    for r in rows:
        groups = tuple(
            ReimbursementGroupView(
                g["usage_month"],
                bool(g["late"]),
                Decimal(g["rate_cents_per_kwh"]),
                int(g["energy_wh"]),
                int(g["cents"]),
            )
            for g in await db.fetch(
                "SELECT usage_month, late, rate_cents_per_kwh, energy_wh, cents"
                " FROM reimbursement_groups WHERE account_id = ? AND month = ?"
                " ORDER BY position",
                r["account_id"],
                r["month"],
            )
        )
        found.append(
            ReimbursementView(
                int(r["account_id"]),
                r["month"],
                int(r["energy_wh"]),
                int(r["cents"]),
                Decimal(r["rate_cents_per_kwh"]),
                r["iban"],
                tuple(int(s) for s in r["session_ids"].split(",") if s),
                groups,
                r["status"],
                date.fromisoformat(r["paid_on"]) if r["paid_on"] else None,
                r["payout_reference"],
            )
        )
    return found


async def list_reimbursements(
    db: Queries, account_id: int, scope: int | None
) -> list[ReimbursementView]:
    if scope is not None and scope != account_id:
        raise NotFound(f"account {account_id} not found")
    return await statements(db, "account_id = ?", account_id)
