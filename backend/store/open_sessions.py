"""Open (running) sessions: each site's latest snapshot, replaced whole, read in scope.

A site sends every open transaction it has, every sync round and when one starts, stops or
meters (throttled). The snapshot replaces the site's previous one in one transaction; one taken
earlier than the stored one (a late retry) changes nothing. Whether a row is live is judged by
when the back end last heard the site: quiet for `STALE_AFTER`, it is shown as "last seen".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..storage import Database, Queries, from_db, to_db
from .cards import normalise_uid
from .door import IMPLAUSIBLE, bill_to, implausible_open
from .models import Site
from .point_history import card_facts, point_at
from .sites import Sites

STALE_AFTER = timedelta(minutes=5)  # five missed 60 s sync rounds: the site is offline


@dataclass(frozen=True, slots=True)
class OpenSessionIn:
    """One open transaction as a site reports it."""

    charge_point_id: str  # the OCPP identity on the site
    connector_id: int
    transaction_id: str
    id_tag: str | None
    started_at: datetime
    energy_kwh: float
    power_w: float | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class OpenSession:
    site_id: int
    charge_point_id: int
    charge_point_name: str
    cp_ocpp_id: str
    connector_id: int
    transaction_id: str
    card_id: int | None
    card_label: str | None
    id_tag: str | None
    started_at: datetime
    energy_kwh: float
    power_w: int | None
    updated_at: datetime
    seen_at: datetime  # when the back end last received the site's snapshot
    live: bool  # False: the site has been quiet longer than STALE_AFTER
    flag: str | None = None  # foreign_card or implausible: not shown to the card's account


@dataclass(frozen=True, slots=True)
class SnapshotResult:
    stored: bool  # False: older than the snapshot already stored, ignored
    count: int


_INSERT = (
    "INSERT INTO open_sessions (site_id, charge_point_id, cp_ocpp_id, connector_id,"
    " transaction_id, id_tag, started_at, energy_wh, power_w, updated_at, flag)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
# Visible to the owner of the charge point, and to the account whose card charges unless the
# door flagged the session (a foreign card at a closed charge point, or implausible).
_SELECT = (
    "SELECT o.site_id, o.charge_point_id, c.name AS charge_point_name, o.cp_ocpp_id,"
    " o.connector_id, o.transaction_id, k.id AS card_id, k.label AS card_label,"
    " k.account_id AS card_account_id, o.id_tag,"
    " o.started_at, o.energy_wh, o.power_w, o.updated_at, s.received_at, o.flag"
    " FROM open_sessions o"
    " JOIN open_snapshots s ON s.site_id = o.site_id"
    " JOIN charge_points c ON c.id = o.charge_point_id"
    " LEFT JOIN cards k ON k.uid = o.id_tag"
)
_IN_SCOPE = " WHERE ((k.account_id = ? AND o.flag IS NULL) OR c.account_id = ?)"


class OpenSessions:
    def __init__(self, db: Database, sites: Sites) -> None:
        self._db = db
        self._sites = sites

    async def replace(
        self, site: Site, taken_at: datetime, items: list[OpenSessionIn], *, now: datetime
    ) -> SnapshotResult:
        """Make `items` the site's open sessions, unless a later snapshot is stored already."""
        async with self._db.transaction() as tx:
            # The upsert takes the site's row lock (PostgreSQL), so snapshots apply one by one.
            newer = await tx.fetchval(
                "INSERT INTO open_snapshots (site_id, taken_at, received_at) VALUES (?, ?, ?)"
                " ON CONFLICT (site_id) DO UPDATE SET taken_at = excluded.taken_at,"
                " received_at = excluded.received_at"
                " WHERE excluded.taken_at >= open_snapshots.taken_at RETURNING site_id",
                site.id,
                to_db(taken_at),
                to_db(now),
            )
            if newer is None:
                return SnapshotResult(stored=False, count=0)
            await tx.execute("DELETE FROM open_sessions WHERE site_id = ?", site.id)
            cps: dict[str, int] = {}
            rows = []
            for item in items:
                if item.charge_point_id not in cps:
                    cps[item.charge_point_id] = await self._sites.site_charge_point(
                        tx, site, item.charge_point_id, now
                    )
                flag = await _flag(tx, cps[item.charge_point_id], item, now)
                rows.append(_row(site.id, cps[item.charge_point_id], item, flag))
            if rows:
                await tx.executemany(_INSERT, rows)
        return SnapshotResult(stored=True, count=len(rows))

    async def list_open(
        self,
        scope: int | None,
        *,
        now: datetime,
        stale_after: timedelta = STALE_AFTER,
    ) -> list[OpenSession]:
        """Open sessions in scope (None: all), the oldest start first."""
        args: list[Any] = []
        sql = _SELECT
        if scope is not None:
            sql += _IN_SCOPE
            args += [scope, scope]
        rows = await self._db.fetch(sql + " ORDER BY o.started_at, o.id", *args)
        return [_open_session(row, scope, now, stale_after) for row in rows]

    async def snapshot_of(self, site_id: int) -> tuple[datetime, datetime] | None:
        """(taken_at, received_at) of the site's stored snapshot, None before the first."""
        row = await self._db.fetchrow(
            "SELECT taken_at, received_at FROM open_snapshots WHERE site_id = ?", site_id
        )
        if row is None:
            return None
        return _time(row["taken_at"]), _time(row["received_at"])


async def _flag(tx: Queries, cp_id: int, item: OpenSessionIn, now: datetime) -> str | None:
    """The door's rules for a running session (`door`): foreign_card, implausible or None."""
    point, _ = await point_at(tx, cp_id, item.started_at)
    card = await card_facts(tx, item.id_tag) if item.id_tag else None
    flag = bill_to(card, point).flag
    if flag is None and implausible_open(
        started_at=item.started_at, energy_wh=item.energy_kwh * 1000, point=point, now=now
    ):
        flag = IMPLAUSIBLE
    return flag


def _row(site_id: int, cp_id: int, item: OpenSessionIn, flag: str | None) -> tuple[Any, ...]:
    return (
        site_id,
        cp_id,
        item.charge_point_id,
        item.connector_id,
        item.transaction_id,
        normalise_uid(item.id_tag) if item.id_tag else None,
        to_db(item.started_at),
        round(item.energy_kwh * 1000),
        None if item.power_w is None else round(item.power_w),
        to_db(item.updated_at),
        flag,
    )


def _time(value: str) -> datetime:
    parsed = from_db(value)
    assert parsed is not None
    return parsed


def _open_session(
    row: dict[str, Any], scope: int | None, now: datetime, stale_after: timedelta
) -> OpenSession:
    seen = _time(row["received_at"])
    # A guest's card at the owner's charge point: the owner sees the uid, not the card's record.
    own_card = scope is None or row["card_account_id"] == scope
    return OpenSession(
        site_id=int(row["site_id"]),
        charge_point_id=int(row["charge_point_id"]),
        charge_point_name=str(row["charge_point_name"]),
        cp_ocpp_id=str(row["cp_ocpp_id"]),
        connector_id=int(row["connector_id"]),
        transaction_id=str(row["transaction_id"]),
        card_id=row["card_id"] if own_card else None,
        card_label=row["card_label"] if own_card else None,
        id_tag=row["id_tag"],
        started_at=_time(row["started_at"]),
        energy_kwh=int(row["energy_wh"]) / 1000,
        power_w=None if row["power_w"] is None else int(row["power_w"]),
        updated_at=_time(row["updated_at"]),
        seen_at=seen,
        live=now - seen <= stale_after,
        flag=row["flag"],
    )
