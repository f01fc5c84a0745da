# ruff: noqa: S608  (SQL text is built from constant column lists only; values are bound)
"""Charging sessions: batches from a site's sync (idempotent), and reading them back.

The idempotency key is (origin, charge point OCPP id, transaction id), origin being the site
("site:<id>") or a roaming operator; a retried or duplicated batch finds its rows there and
changes nothing. A whole batch is one transaction: a batch refused half-way stores nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from ..storage import Database, Queries, to_db
from . import batch as batch_sql
from .cards import normalise_uid
from .door import BillTo, PointFacts, bill_to, implausible
from .errors import NotFound
from .models import SessionRecord, SessionSource, Site
from .rows import columns, record, records
from .sites import Sites
from .tariff_parts import TariffParts

_SESSION = columns(SessionRecord)


@dataclass(frozen=True, slots=True)
class SessionIn:
    """A finished session as a site reports it (the local outbox's payload)."""

    charge_point_id: str  # the OCPP identity on the site
    transaction_id: str
    connector_id: int
    id_tag: str | None
    started_at: datetime
    stopped_at: datetime
    meter_start_wh: float
    meter_stop_wh: float
    energy_wh: float
    stop_reason: str | None = None
    energy_flagged: bool = False


@dataclass(frozen=True, slots=True)
class IngestResult:
    charge_point_id: str
    transaction_id: str
    session_id: int
    created: bool  # False: a duplicate of a session already stored


class Sessions:
    def __init__(self, db: Database, sites: Sites) -> None:
        self._db = db
        self._sites = sites

    async def ingest(
        self, site: Site, batch: list[SessionIn], *, now: datetime
    ) -> list[IngestResult]:
        """Store a site's batch once; duplicates (in the batch or from before) are reported.

        Each session is checked at the door (`door`): whom it is billed to, and whether it is
        plausible (else it waits in the review queue)."""
        if not batch:
            return []
        engine = self._db.engine
        origin = f"site:{site.id}"
        received = str(to_db(now))  # once, not per session
        async with self._db.transaction() as tx:
            uids = {normalise_uid(s.id_tag) for s in batch if s.id_tag}
            cards = await batch_sql.cards_by_uid(tx, engine, uids)
            cps = await self._site_points(tx, site, {s.charge_point_id for s in batch}, now)
            points = await batch_sql.PointsAt.load(tx, engine, set(cps.values()))
            rows: dict[batch_sql.Key, tuple[Any, ...]] = {}
            for item in batch:
                key = (item.charge_point_id, item.transaction_id)
                if key in rows:
                    continue  # the first of a key in the batch is the one stored
                point, tariff = points.at(cps[item.charge_point_id], item.started_at)
                card = cards.get(normalise_uid(item.id_tag or ""))
                where = _Where(origin, site.id, point.id, SessionSource.OWN_NETWORK, None)
                checked = _Checked(bill_to(card, point), _reasons(item, point, now))
                rows[key] = _row(where, item, checked, tariff, received)
            stored = await batch_sql.insert_rows(tx, engine, origin, list(rows.values()))
        results, seen = [], set()
        for item in batch:
            key = (item.charge_point_id, item.transaction_id)
            session_id, created = stored[key]
            results.append(IngestResult(*key, session_id, created and key not in seen))
            seen.add(key)
        return results

    async def _site_points(
        self, tx: Queries, site: Site, ocpp_ids: set[str], now: datetime
    ) -> dict[str, int]:
        """The batch's charge points in one query; one reported for the first time (rare) is
        registered by `Sites.site_charge_point`, which also refuses another account's."""
        known = await batch_sql.site_points(tx, self._db.engine, site.id, ocpp_ids)
        if not ocpp_ids <= known.keys() and self._db.engine == "postgresql":
            # Another process may be registering the same new charge point for this site (a
            # batch retried elsewhere): wait for it, then look again, rather than collide on
            # the unique key (a 500). SQLite has one writer: no race.
            await tx.execute("SELECT pg_advisory_xact_lock(7008, ?::int)", site.id)
            known = await batch_sql.site_points(tx, self._db.engine, site.id, ocpp_ids)
        found = {}
        for ocpp_id in sorted(ocpp_ids):
            if ocpp_id in known and known[ocpp_id][1] == site.account_id:
                found[ocpp_id] = known[ocpp_id][0]
            else:
                found[ocpp_id] = await self._sites.site_charge_point(tx, site, ocpp_id, now)
        return found

    async def add_roaming(
        self,
        operator: str,
        item: SessionIn,
        *,
        now: datetime,
        start_cents: Decimal,
        per_kwh_cents: Decimal,
        per_minute_cents: Decimal,
        basis: str = "incl_vat",
    ) -> IngestResult:
        """A session of one of our cards at another operator's charge point (passed on in full).

        `basis`: the parts are incl. VAT, or excl. VAT (an OCPI CDR's prices)."""
        tariff = TariffParts.of_decimals(start_cents, per_kwh_cents, per_minute_cents, basis)
        where = _Where(f"roaming:{operator}", None, None, SessionSource.ROAMING, operator)
        uids = {normalise_uid(item.id_tag)} if item.id_tag else set()
        engine = self._db.engine
        async with self._db.transaction() as tx:
            cards = await batch_sql.cards_by_uid(tx, engine, uids)
            card = cards.get(normalise_uid(item.id_tag or ""))
            who = BillTo(card.id, card.account_id) if card else BillTo(None, None)
            checked = _Checked(who, _reasons(item, None, now))
            row = _row(where, item, checked, tariff, str(to_db(now)))
            stored = await batch_sql.insert_rows(tx, engine, where.origin, [row])
        session_id, created = stored[(item.charge_point_id, item.transaction_id)]
        return IngestResult(item.charge_point_id, item.transaction_id, session_id, created)

    async def get_session(self, session_id: int, scope: int | None = None) -> SessionRecord:
        row = await self._db.fetchrow(*_scoped_session(session_id, scope))
        if row is None:
            raise NotFound(f"session {session_id} not found")
        return record(SessionRecord, row)

    async def list_sessions(
        self,
        scope: int | None,
        *,
        limit: int = 50,
        after: int = 0,
        charge_point_id: int | None = None,
        site_id: int | None = None,
    ) -> list[SessionRecord]:
        """Sessions the account charged, or that ran on its charge points; oldest first."""
        args: list[Any] = [after]
        sql = f"SELECT {_SESSION} FROM sessions WHERE id > ?"
        if scope is not None:
            sql += _VISIBLE
            args += [scope, scope]
        if charge_point_id is not None:
            sql += " AND charge_point_id = ?"
            args.append(charge_point_id)
        if site_id is not None:
            sql += " AND site_id = ?"
            args.append(site_id)
        rows = await self._db.fetch(sql + " ORDER BY id LIMIT ?", *args, limit)
        return records(SessionRecord, rows)

    async def count_for_site(self, site_id: int) -> int:
        return int(
            await self._db.fetchval("SELECT count(*) FROM sessions WHERE site_id = ?", site_id)
        )


_VISIBLE = (
    " AND (account_id = ? OR charge_point_id IN"
    " (SELECT id FROM charge_points WHERE account_id = ?))"
)


def _scoped_session(session_id: int, scope: int | None) -> tuple[Any, ...]:
    sql = f"SELECT {_SESSION} FROM sessions WHERE id = ?"
    if scope is None:
        return (sql, session_id)
    return (sql + _VISIBLE, session_id, scope, scope)


def _reasons(item: SessionIn, point: PointFacts | None, now: datetime) -> list[str]:
    return implausible(
        started_at=item.started_at,
        stopped_at=item.stopped_at,
        energy_wh=item.energy_wh,
        meter_start_wh=item.meter_start_wh,
        meter_stop_wh=item.meter_stop_wh,
        point=point,
        now=now,
    )


@dataclass(frozen=True, slots=True)
class _Checked:
    """The door's verdict: whom it is billed to, and the rules it fails (empty: none)."""

    who: BillTo
    reasons: list[str]


@dataclass(frozen=True, slots=True)
class _Where:
    """Where a session ran: its idempotency origin, site, charge point and network."""

    origin: str
    site_id: int | None
    charge_point_id: int | None
    source: SessionSource
    operator: str | None


def _row(
    where: _Where, item: SessionIn, checked: _Checked, tariff: TariffParts, received: str
) -> tuple[Any, ...]:
    """A session's values in `batch.INSERT_COLUMNS` order (`received`: the stored `now`)."""
    who = checked.who
    return (
        where.origin,
        where.site_id,
        where.charge_point_id,
        item.charge_point_id,
        item.transaction_id,
        item.connector_id,
        who.card_id,
        who.account_id,
        item.id_tag,
        where.source.value,
        where.operator,
        to_db(item.started_at),
        to_db(item.stopped_at),
        round(item.energy_wh),
        float(item.meter_start_wh),
        float(item.meter_stop_wh),
        item.stop_reason,
        int(item.energy_flagged),
        *tariff.columns(),
        received,
        who.flag,
        "pending" if checked.reasons else "none",
        "; ".join(checked.reasons),
    )
