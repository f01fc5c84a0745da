# ruff: noqa: S608  (SQL text is built from constant column lists only; values are bound)
"""Sites (local installations), tariffs, charge points and the departures drivers set on them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from ..billing.errors import BillingError
from ..billing.guest_usage import PLATFORM_GUEST_MAXIMUM, check_guest_maximum
from ..billing.money import Basis
from ..billing.sessions import SessionTariff
from ..storage import Database, Queries, UniqueViolation, to_db
from .audit import AuditLog
from .errors import Conflict, Invalid, NotFound
from .models import ChargePoint, Departure, Site, Tariff
from .point_history import record_setting
from .rows import columns, one, page, record, records, scoped

_SITE = columns(Site)
_TARIFF = columns(Tariff)
_CP = columns(ChargePoint)
_DEP = columns(Departure)


@dataclass(frozen=True, slots=True)
class DepartureIn:
    departure_at: datetime
    connector_id: int = 1
    car: str | None = None
    soc_now: float | None = None
    target_soc: float = 100.0
    battery_kwh: float | None = None
    max_power_kw: float | None = None


class Sites:
    def __init__(self, db: Database, guest_maximum: SessionTariff = PLATFORM_GUEST_MAXIMUM) -> None:
        self._db = db
        self.guest_maximum = guest_maximum

    # ---- sites --------------------------------------------------------------------------------
    async def create_site(
        self, account_id: int, name: str, *, now: datetime, address: str | None = None
    ) -> Site:
        async with self._db.transaction() as tx:
            row = await tx.fetchrow(
                "INSERT INTO sites (account_id, name, address, created_at) VALUES (?, ?, ?, ?)"
                f" RETURNING {_SITE}",
                account_id,
                name,
                address,
                to_db(now),
            )
            assert row is not None
            await AuditLog.add(
                tx,
                at=now,
                actor="system",
                account_id=account_id,
                action="site.create",
                subject=f"site:{row['id']}",
            )
        return record(Site, row)

    async def get_site(self, site_id: int, scope: int | None = None) -> Site:
        return await one(self._db, Site, "sites", site_id, scope)

    async def list_sites(self, scope: int | None, *, limit: int = 50, after: int = 0) -> list[Site]:
        return await page(self._db, Site, "sites", scope, limit=limit, after=after)

    # ---- tariffs ------------------------------------------------------------------------------
    async def create_tariff(
        self,
        account_id: int | None,
        name: str,
        *,
        now: datetime,
        start_cents: Decimal = Decimal(0),
        per_kwh_cents: Decimal = Decimal(0),
        per_minute_cents: Decimal = Decimal(0),
        basis: str = "incl_vat",
    ) -> Tariff:
        row = await self._db.fetchrow(
            "INSERT INTO tariffs (account_id, name, start_cents, per_kwh_cents, per_minute_cents,"
            f" basis, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING {_TARIFF}",
            account_id,
            name,
            str(start_cents),
            str(per_kwh_cents),
            str(per_minute_cents),
            basis,
            to_db(now),
        )
        assert row is not None
        return record(Tariff, row)

    async def get_tariff(self, tariff_id: int, scope: int | None = None) -> Tariff:
        """A tariff of the caller's account, or a platform tariff (no account)."""
        args: list[Any] = [tariff_id]
        sql = f"SELECT {_TARIFF} FROM tariffs WHERE id = ?"
        if scope is not None:
            sql += " AND (account_id = ? OR account_id IS NULL)"
            args.append(scope)
        row = await self._db.fetchrow(sql, *args)
        if row is None:
            raise NotFound(f"tariff {tariff_id} not found")
        return record(Tariff, row)

    async def list_tariffs(
        self, scope: int | None, *, limit: int = 50, after: int = 0
    ) -> list[Tariff]:
        args: list[Any] = [after]
        sql = f"SELECT {_TARIFF} FROM tariffs WHERE id > ?"
        if scope is not None:
            sql += " AND (account_id = ? OR account_id IS NULL)"
            args.append(scope)
        return records(Tariff, await self._db.fetch(sql + " ORDER BY id LIMIT ?", *args, limit))

    async def tariffs_of_site(self, site_id: int) -> list[Tariff]:
        rows = await self._db.fetch(
            f"SELECT {_TARIFF} FROM tariffs WHERE id IN"
            " (SELECT tariff_id FROM charge_points WHERE site_id = ?) ORDER BY id",
            site_id,
        )
        return records(Tariff, rows)

    async def open_to_guests(self, site_id: int) -> bool:
        """Whether any charge point of the site takes guests (cards of other accounts)."""
        return bool(
            await self._db.fetchval(
                "SELECT count(*) FROM charge_points WHERE site_id = ? AND guest_usage = 1", site_id
            )
        )

    # ---- charge points ------------------------------------------------------------------------
    async def create_charge_point(
        self,
        account_id: int,
        ocpp_id: str,
        *,
        now: datetime,
        name: str | None = None,
        site_id: int | None = None,
        location: str | None = None,
        guest_usage: bool = False,
        tariff_id: int | None = None,
        fast: bool = False,
        max_power_kw: float | None = None,
    ) -> ChargePoint:
        try:
            async with self._db.transaction() as tx:
                await self._check_guest_tariff(tx, guest_usage, tariff_id)
                return await self._insert_cp(
                    tx,
                    account_id,
                    ocpp_id,
                    now,
                    name=name,
                    site_id=site_id,
                    location=location,
                    guest_usage=guest_usage,
                    tariff_id=tariff_id,
                    fast=fast,
                    max_power_kw=max_power_kw,
                )
        except UniqueViolation as err:
            raise Conflict(f"charge point {ocpp_id!r} exists already on this site") from err

    @staticmethod
    async def add_charge_point(
        tx: Queries, account_id: int, ocpp_id: str, now: datetime, *, name: str
    ) -> ChargePoint:
        """A charge point added inside the caller's transaction (an approved installation:
        no site yet, closed to guests); a taken OCPP id raises UniqueViolation there."""
        return await Sites._insert_cp(tx, account_id, ocpp_id, now, name=name)

    @staticmethod
    async def _insert_cp(
        tx: Queries, account_id: int, ocpp_id: str, now: datetime, **fields: Any
    ) -> ChargePoint:
        row = await tx.fetchrow(
            "INSERT INTO charge_points (account_id, site_id, ocpp_id, name, location, guest_usage,"
            " tariff_id, fast, max_power_kw, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            f" RETURNING {_CP}",
            account_id,
            fields.get("site_id"),
            ocpp_id,
            fields.get("name") or ocpp_id,
            fields.get("location"),
            int(bool(fields.get("guest_usage"))),
            fields.get("tariff_id"),
            int(bool(fields.get("fast"))),
            fields.get("max_power_kw"),
            to_db(now),
        )
        assert row is not None
        await record_setting(tx, int(row["id"]), row["tariff_id"], bool(row["guest_usage"]), now)
        await AuditLog.add(
            tx,
            at=now,
            actor="system",
            account_id=account_id,
            action="charge_point.create",
            subject=f"charge_point:{row['id']}",
        )
        return record(ChargePoint, row)

    async def site_charge_point(self, tx: Queries, site: Site, ocpp_id: str, now: datetime) -> int:
        """The id of a site's charge point; one the site reports first is registered on the spot
        (on the site owner's account). A site speaks only for its owner's charge points."""
        row = await tx.fetchrow(
            "SELECT id, account_id FROM charge_points WHERE site_id = ? AND ocpp_id = ?",
            site.id,
            ocpp_id,
        )
        if row is None:
            return (await self._insert_cp(tx, site.account_id, ocpp_id, now, site_id=site.id)).id
        if int(row["account_id"]) != site.account_id:
            raise Invalid(f"charge point {ocpp_id!r} is not this site's account's")
        return int(row["id"])

    async def _check_guest_tariff(
        self, tx: Queries, guest_usage: bool, tariff_id: int | None
    ) -> None:
        """A charge point open to guests asks no more than the platform maximum (art. 28.3)."""
        if not guest_usage or tariff_id is None:
            return
        row = await tx.fetchrow(
            "SELECT start_cents, per_kwh_cents, per_minute_cents, basis FROM tariffs WHERE id = ?",
            tariff_id,
        )
        if row is None:
            raise NotFound(f"tariff {tariff_id} not found")
        tariff = SessionTariff(
            Decimal(row["start_cents"]),
            Decimal(row["per_kwh_cents"]),
            Decimal(row["per_minute_cents"]),
            Basis(row["basis"]),
        )
        try:
            check_guest_maximum(tariff, self.guest_maximum)
        except BillingError as err:
            raise Invalid(str(err)) from err

    async def get_charge_point(self, cp_id: int, scope: int | None = None) -> ChargePoint:
        return await one(self._db, ChargePoint, "charge_points", cp_id, scope)

    async def list_charge_points(
        self, scope: int | None, *, limit: int = 50, after: int = 0, site_id: int | None = None
    ) -> list[ChargePoint]:
        args: list[Any] = [after]
        sql = scoped(f"SELECT {_CP} FROM charge_points WHERE id > ?", args, scope)
        if site_id is not None:
            sql += " AND site_id = ?"
            args.append(site_id)
        rows = await self._db.fetch(sql + " ORDER BY id LIMIT ?", *args, limit)
        return records(ChargePoint, rows)

    async def update_charge_point(
        self, cp_id: int, scope: int | None, *, now: datetime, actor: str, **changes: Any
    ) -> ChargePoint:
        """Change name, location, guest_usage, tariff_id or max_power_kw of a charge point in
        scope; a change of tariff or guest setting is kept in its history (point_history)."""
        current = await self.get_charge_point(cp_id, scope)
        allowed = {"name", "location", "guest_usage", "tariff_id", "max_power_kw"}
        values = {k: v for k, v in changes.items() if k in allowed}
        if "tariff_id" in values and values["tariff_id"] is not None:
            await self.get_tariff(int(values["tariff_id"]), current.account_id)
        if not values:
            return current
        if "guest_usage" in values:
            values["guest_usage"] = int(bool(values["guest_usage"]))
        assignments = ", ".join(f"{k} = ?" for k in values)
        guest = bool(values.get("guest_usage", current.guest_usage))
        tariff_id = values.get("tariff_id", current.tariff_id)
        async with self._db.transaction() as tx:
            await self._check_guest_tariff(tx, guest, tariff_id)
            await tx.execute(
                f"UPDATE charge_points SET {assignments} WHERE id = ?",
                *values.values(),
                cp_id,
            )
            if (guest, tariff_id) != (current.guest_usage, current.tariff_id):
                await record_setting(tx, cp_id, tariff_id, guest, now)
            await AuditLog.add(
                tx,
                at=now,
                actor=actor,
                account_id=current.account_id,
                action="charge_point.update",
                subject=f"charge_point:{cp_id}",
                detail=values,
            )
        return await self.get_charge_point(cp_id)

    async def set_guest_tariff(
        self,
        cp_id: int,
        scope: int | None,
        *,
        guest_usage: bool,
        start_cents: Decimal,
        per_kwh_cents: Decimal,
        per_minute_cents: Decimal,
        now: datetime,
        actor: str,
    ) -> ChargePoint:
        """Open (or close) a charge point to guests at a new tariff incl. VAT of its own, at
        most the platform maximum (art. 28.3; refused before anything is stored)."""
        point = await self.get_charge_point(cp_id, scope)
        tariff = SessionTariff(start_cents, per_kwh_cents, per_minute_cents, Basis.GROSS)
        try:
            check_guest_maximum(tariff, self.guest_maximum)
        except BillingError as err:
            raise Invalid(str(err)) from err
        created = await self.create_tariff(
            point.account_id,
            f"Guests at {point.name}"[:100],
            now=now,
            start_cents=start_cents,
            per_kwh_cents=per_kwh_cents,
            per_minute_cents=per_minute_cents,
        )
        return await self.update_charge_point(
            cp_id, scope, now=now, actor=actor, guest_usage=guest_usage, tariff_id=created.id
        )

    # ---- departures ---------------------------------------------------------------------------
    async def set_departure(
        self,
        cp_id: int,
        scope: int | None,
        request: DepartureIn,
        *,
        now: datetime,
        user_id: int | None,
    ) -> Departure:
        cp = await self.get_charge_point(cp_id, scope)
        row = await self._db.fetchrow(
            "INSERT INTO departures (charge_point_id, site_id, connector_id, departure_at, car,"
            " soc_now, target_soc, battery_kwh, max_power_kw, requested_by, created_at)"
            f" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING {_DEP}",
            cp.id,
            cp.site_id,
            request.connector_id,
            to_db(request.departure_at),
            request.car,
            request.soc_now,
            request.target_soc,
            request.battery_kwh,
            request.max_power_kw,
            user_id,
            to_db(now),
        )
        assert row is not None
        return record(Departure, row)

    async def departures_for_site(
        self, site_id: int, *, after: int = 0, limit: int = 100
    ) -> list[tuple[Departure, str]]:
        """Departures set since `after` on the site's charge points, with each one's OCPP id."""
        rows = await self._db.fetch(
            f"SELECT {', '.join('d.' + c for c in _DEP.split(', '))}, c.ocpp_id AS ocpp_id"
            " FROM departures d JOIN charge_points c ON c.id = d.charge_point_id"
            " WHERE d.site_id = ? AND d.id > ? ORDER BY d.id LIMIT ?",
            site_id,
            after,
            limit,
        )
        return [(record(Departure, row), str(row["ocpp_id"])) for row in rows]
