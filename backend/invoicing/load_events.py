"""The month's one-off events from the store: charges (replacement cards, transfer, misuse,
interest and collection costs) and the outages that ended in it."""

from __future__ import annotations

from datetime import date

from ..billing.calendar import Month
from ..billing.charges import OneOffCharge
from ..billing.invoices import LineKind
from ..billing.money import Basis, Price, VatRate
from ..billing.outages import Outage, OutageCause
from ..storage import Queries
from .stamps import local_day, moment, utc_text


async def load_charges(db: Queries, month: Month) -> list[OneOffCharge]:
    charges = []
    for row in await db.fetch(
        "SELECT o.id, o.account_id, o.fee_cents, o.fee_basis, o.created_at, c.uid"
        " FROM card_orders o LEFT JOIN cards c ON c.id = o.replaces_card_id"
        " WHERE o.status <> 'cancelled' AND o.fee_cents > 0 AND o.created_at >= ?"
        " AND o.created_at < ?",
        utc_text(month.first),
        utc_text(month.end),
    ):
        charges.append(
            OneOffCharge(
                id=f"card-order:{row['id']}",
                account_id=str(row["account_id"]),
                on=local_day(row["created_at"]),
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


async def load_outages(db: Queries, month: Month) -> list[Outage]:
    rows = await db.fetch(
        "SELECT id, subscription_id, started_at, ended_at, cause FROM outages"
        " WHERE ended_at >= ? AND ended_at < ?",
        utc_text(month.first),
        utc_text(month.end),
    )
    return [
        Outage(
            id=f"outage:{r['id']}",
            contract_id=str(r["subscription_id"]),
            started_at=moment(r["started_at"]),
            ended_at=moment(r["ended_at"]),
            cause=OutageCause(r["cause"]),
        )
        for r in rows
    ]
