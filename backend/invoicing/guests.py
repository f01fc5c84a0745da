"""Guest-usage inputs, stored (art. 28.7): what an owner pays for electricity, and the guest
sessions not recovered from the guest's MSP, whose payout that cost caps, and the owners of
charge points open to guests with their setting history. The cap itself is
backend.billing.guest_usage's; a flag counts only for a credit note not issued yet."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from ..billing.errors import BillingError
from ..billing.guest_usage import GuestOwner, GuestSetting
from ..billing.money import exact
from ..billing.sessions import SessionTariff
from ..storage import Database, Queries, Row, to_db
from ..store.audit import AuditLog
from ..store.errors import Conflict, Invalid, NotFound
from ..store.tariff_parts import TariffParts
from .load_sessions import domain_tariff
from .stamps import moment


async def set_electricity_cost(
    db: Database,
    account_id: int,
    cents_per_kwh: Decimal,
    *,
    now: datetime,
    actor: str = "system",
) -> None:
    """The owner's electricity price incl. VAT, in cents per kWh (replacing an earlier one)."""
    try:
        if exact(cents_per_kwh, "electricity cost") < 0:
            raise Invalid("an electricity cost must not be negative")
    except BillingError as err:
        raise Invalid(str(err)) from err
    async with db.transaction() as tx:
        if await tx.fetchval("SELECT id FROM accounts WHERE id = ?", account_id) is None:
            raise NotFound(f"account {account_id} not found")
        await tx.execute(
            "INSERT INTO guest_owner_settings (account_id, electricity_cents_per_kwh)"
            " VALUES (?, ?) ON CONFLICT (account_id) DO UPDATE SET electricity_cents_per_kwh = ?",
            account_id,
            str(cents_per_kwh),
            str(cents_per_kwh),
        )
        await AuditLog.add(
            tx,
            at=now,
            actor=actor,
            account_id=account_id,
            action="guest.electricity_cost",
            subject=f"account:{account_id}",
            detail={"cents_per_kwh": str(cents_per_kwh)},
        )


async def flag_unrecovered(
    db: Database, session_id: int, *, now: datetime, actor: str = "system"
) -> None:
    """Flag a guest session as not recovered (again: no change). Once its credit note is
    issued the payout stands: `Conflict`."""
    async with db.transaction() as tx:
        if await tx.fetchval("SELECT id FROM sessions WHERE id = ?", session_id) is None:
            raise NotFound(f"session {session_id} not found")
        paid = await tx.fetchval(
            "SELECT i.number FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id"
            " WHERE l.kind = 'guest_usage' AND l.ref = ?",
            str(session_id),
        )
        if paid is not None:
            raise Conflict(f"session {session_id} is already paid out on credit note {paid}")
        await tx.execute(
            "INSERT INTO guest_unrecovered_sessions (session_id, flagged_at) VALUES (?, ?)"
            " ON CONFLICT (session_id) DO NOTHING",
            session_id,
            to_db(now),
        )
        await AuditLog.add(
            tx,
            at=now,
            actor=actor,
            account_id=None,
            action="guest.unrecovered",
            subject=f"session:{session_id}",
            detail={},
        )


async def load_unrecovered(db: Queries, window: tuple[str, str]) -> frozenset[str]:
    rows = await db.fetch(
        "SELECT g.session_id FROM guest_unrecovered_sessions g JOIN sessions s"
        " ON s.id = g.session_id WHERE s.started_at >= ? AND s.started_at < ?",
        *window,
    )
    return frozenset(str(r["session_id"]) for r in rows)


async def load_guest_owners(db: Queries) -> list[GuestOwner]:
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
                valid_from=moment(r["valid_from"]),
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
