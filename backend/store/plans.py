# ruff: noqa: S608  (SQL text is built from constant column lists only; values are bound)
"""Plans and subscriptions as stored (the rules live in backend.billing; this is persistence)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from ..billing.plans import Plan
from ..storage import Database, to_db
from .errors import Invalid, NotFound
from .rows import scoped


@dataclass(frozen=True, slots=True)
class Subscription:
    id: int
    account_id: int
    plan_code: str
    card_id: int | None
    charge_point_id: int | None
    status: str
    applied_on: date
    starts_on: date | None
    ends_on: date | None


# A subscription in these states is a contract in force: the run bills it from its start date,
# so one without a start date could never be invoiced (it would be skipped silently).
NEEDS_START = frozenset({"accepted", "active", "notice_given", "ended"})

_SUB_COLS = (
    "id, account_id, plan_code, card_id, charge_point_id, status, applied_on, starts_on, ends_on"
)


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _subscription(row: dict[str, Any]) -> Subscription:
    return Subscription(
        int(row["id"]),
        int(row["account_id"]),
        row["plan_code"],
        row["card_id"],
        row["charge_point_id"],
        row["status"],
        date.fromisoformat(row["applied_on"]),
        _day(row["starts_on"]),
        _day(row["ends_on"]),
    )


class Plans:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def save_plan(self, plan: Plan, *, now: datetime) -> None:
        """Insert or replace a plan by its code."""
        bundle = plan.bundle
        values = (
            plan.name,
            plan.kind.value,
            plan.form.value,
            plan.monthly_fee.cents,
            plan.monthly_fee.basis.value,
            bundle.energy_wh if bundle else None,
            bundle.connected_minutes if bundle else None,
            bundle.fast_energy_wh if bundle else None,
            str(plan.overage.per_kwh_cents),
            str(plan.overage.per_connected_hour_cents),
            str(plan.overage.per_fast_kwh_cents),
            plan.duration_years,
        )
        async with self._db.transaction() as tx:
            exists = await tx.fetchval("SELECT code FROM plans WHERE code = ?", plan.code)
            if exists is None:
                await tx.execute(
                    "INSERT INTO plans (name, kind, form, monthly_fee_cents, fee_basis,"
                    " bundle_energy_wh, bundle_connected_minutes, bundle_fast_energy_wh,"
                    " overage_per_kwh_cents, overage_per_connected_hour_cents,"
                    " overage_per_fast_kwh_cents, duration_years, code, created_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    *values,
                    plan.code,
                    to_db(now),
                )
            else:
                await tx.execute(
                    "UPDATE plans SET name = ?, kind = ?, form = ?, monthly_fee_cents = ?,"
                    " fee_basis = ?, bundle_energy_wh = ?, bundle_connected_minutes = ?,"
                    " bundle_fast_energy_wh = ?, overage_per_kwh_cents = ?,"
                    " overage_per_connected_hour_cents = ?, overage_per_fast_kwh_cents = ?,"
                    " duration_years = ? WHERE code = ?",
                    *values,
                    plan.code,
                )

    async def list_plans(self) -> list[dict[str, Any]]:
        return await self._db.fetch("SELECT * FROM plans ORDER BY code")

    async def subscribe(
        self,
        account_id: int,
        plan_code: str,
        *,
        applied_on: date,
        now: datetime,
        status: str = "applied",
        starts_on: date | None = None,
        card_id: int | None = None,
        charge_point_id: int | None = None,
    ) -> Subscription:
        if status in NEEDS_START and starts_on is None:
            raise Invalid(
                f"a subscription that is {status} needs its start date (it could never"
                " be invoiced without one, art. 22.1)"
            )
        if await self._db.fetchval("SELECT code FROM plans WHERE code = ?", plan_code) is None:
            raise NotFound(f"plan {plan_code!r} not found")
        row = await self._db.fetchrow(
            "INSERT INTO subscriptions (account_id, plan_code, card_id, charge_point_id, status,"
            " applied_on, starts_on, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            f" RETURNING {_SUB_COLS}",
            account_id,
            plan_code,
            card_id,
            charge_point_id,
            status,
            applied_on.isoformat(),
            starts_on.isoformat() if starts_on else None,
            to_db(now),
        )
        assert row is not None
        return _subscription(row)

    async def list_subscriptions(
        self, scope: int | None, *, limit: int = 50, after: int = 0
    ) -> list[Subscription]:
        args: list[Any] = [after]
        sql = scoped(f"SELECT {_SUB_COLS} FROM subscriptions WHERE id > ?", args, scope)
        rows = await self._db.fetch(sql + " ORDER BY id LIMIT ?", *args, limit)
        return [_subscription(r) for r in rows]
