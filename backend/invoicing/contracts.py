# ruff: noqa: S608  (SQL text is built from constant column lists only; values are bound)
"""Plans and subscriptions as rows → backend.billing Plan and Contract values."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from ..billing.contracts import Contract, EndReason
from ..billing.money import Basis, Price
from ..billing.plans import Bundle, OverageRates, Plan, PlanForm, PlanKind
from ..storage import Queries, Row

_CONSUMER_KINDS = ("consumer", "lease_driver")
SUBSCRIPTION_COLUMNS = (
    "s.id, s.account_id, s.plan_code, s.card_id, s.charge_point_id, s.status, s.applied_on,"
    " s.accepted_on, s.starts_on, s.minimum_term_ends_on, s.notice_received_on, s.ends_on,"
    " s.end_reason, s.distance_contract, s.immediate_start, a.kind AS account_kind"
)


def plan_of(row: Row) -> Plan:
    bundle = None
    if any(
        row[k] is not None
        for k in ("bundle_energy_wh", "bundle_connected_minutes", "bundle_fast_energy_wh")
    ):
        bundle = Bundle(
            int(row["bundle_energy_wh"] or 0),
            int(row["bundle_connected_minutes"] or 0),
            int(row["bundle_fast_energy_wh"] or 0),
        )
    return Plan(
        row["code"],
        row["name"],
        PlanKind(row["kind"]),
        PlanForm(row["form"]),
        Price(int(row["monthly_fee_cents"]), Basis(row["fee_basis"])),
        bundle,
        OverageRates(
            Decimal(row["overage_per_kwh_cents"]),
            Decimal(row["overage_per_connected_hour_cents"]),
            Decimal(row["overage_per_fast_kwh_cents"]),
        ),
        row["duration_years"],
    )


async def load_plans(db: Queries) -> dict[str, Plan]:
    return {r["code"]: plan_of(r) for r in await db.fetch("SELECT * FROM plans ORDER BY code")}


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def contract_of(row: Row, plans: dict[str, Plan]) -> Contract:
    """A subscription row (joined with its account's kind) as the domain's contract."""
    applied = date.fromisoformat(row["applied_on"])
    starts = _day(row["starts_on"])
    accepted = _day(row["accepted_on"])
    if accepted is None and starts is not None:
        accepted = min(applied, starts)  # started subscriptions were accepted by their start
    return Contract(
        id=str(row["id"]),
        account_id=str(row["account_id"]),
        plan=plans[row["plan_code"]],
        applied_on=applied,
        is_consumer=row["account_kind"] in _CONSUMER_KINDS,
        distance_sale=bool(row["distance_contract"]),
        immediate_start=bool(row["immediate_start"]),
        accepted_on=accepted,
        starts_on=starts,
        minimum_term_end=_day(row["minimum_term_ends_on"]),
        notice_received_on=_day(row["notice_received_on"]),
        ends_on=_day(row["ends_on"]),
        end_reason=EndReason(row["end_reason"]) if row["end_reason"] else None,
        charge_point_id=str(row["charge_point_id"]) if row["charge_point_id"] else None,
    )


async def load_contracts(
    db: Queries, plans: dict[str, Plan], *, subscription_id: int | None = None
) -> list[tuple[Row, Contract]]:
    """Every subscription that is not rejected (or just one), with its domain contract."""
    sql = (
        f"SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions s JOIN accounts a"
        " ON a.id = s.account_id WHERE s.status <> 'rejected'"
    )
    args: list[object] = []
    if subscription_id is not None:
        sql += " AND s.id = ?"
        args.append(subscription_id)
    rows = await db.fetch(sql + " ORDER BY s.id", *args)
    return [(r, contract_of(r, plans)) for r in rows]
