# ruff: noqa: S608  (SQL text is built from constant column lists and placeholders only)
"""A sync batch in a handful of statements instead of several per session (issue 20.4).

`ingest` used to ask for each session its charge point, its setting history, its tariff and
its card, then insert it: ~5 round trips a session. Here a batch costs one query for its
charge points, one for their setting history, one for their tariffs, one for its cards, one
insert of every row and, only when some were stored before, one query for their ids.
PostgreSQL gets arrays (`= ANY`, `unnest`): one statement text whatever the batch size, so
asyncpg prepares it once. SQLite gets placeholder lists (it is in-process: round trips are
cheap; what counts there is the number of statements).

The door's rules are untouched: `point_at_many` gives each session the same `PointFacts` and
tariff `point_history.point_at` gives (the setting in force at its start; before the first
setting, the first).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..storage import Queries, from_db, to_db
from .door import CardFacts, PointFacts
from .tariff_parts import ZERO, TariffParts

INSERT_COLUMNS = (
    "origin, site_id, charge_point_id, cp_ocpp_id, transaction_id, connector_id, card_id,"
    " account_id, id_tag, source, operator, started_at, stopped_at, energy_wh, meter_start_wh,"
    " meter_stop_wh, stop_reason, energy_flagged, start_cents, per_kwh_cents, per_minute_cents,"
    " tariff_basis, received_at, flag, review, review_reasons"
)
# The PostgreSQL array type of each column above, in order (for `unnest`).
_PG_TYPES = (
    "text",
    "bigint",
    "bigint",
    "text",
    "text",
    "integer",
    "bigint",
    "bigint",
    "text",
    "text",
    "text",
    "text",
    "text",
    "bigint",
    "float8",
    "float8",
    "text",
    "integer",
    "text",
    "text",
    "text",
    "text",
    "text",
    "text",
    "text",
    "text",
)
_PG_INSERT = (
    f"INSERT INTO sessions ({INSERT_COLUMNS}) SELECT * FROM unnest("
    + ", ".join(f"?::{t}[]" for t in _PG_TYPES)
    + ") ON CONFLICT (origin, cp_ocpp_id, transaction_id) DO NOTHING"
    " RETURNING id, cp_ocpp_id, transaction_id"
)
_SQLITE_CHUNK = 500  # rows per INSERT: 26 x 500 placeholders stays under SQLite's 32,766

Key = tuple[str, str]  # (charge point OCPP id, transaction id) within one origin


def _in(engine: str, column: str, values: Sequence[Any], pg_type: str) -> tuple[str, list[Any]]:
    """`column IN (…)` as the engine likes it best."""
    if engine == "postgresql":
        return f"{column} = ANY(?::{pg_type}[])", [list(values)]
    return f"{column} IN ({', '.join('?' * len(values))})", list(values)


async def cards_by_uid(tx: Queries, engine: str, uids: set[str]) -> dict[str, CardFacts]:
    """The door's facts of each card of the batch, by normalised uid (absent: not ours)."""
    if not uids:
        return {}
    where, args = _in(engine, "uid", sorted(uids), "text")
    rows = await tx.fetch(
        f"SELECT id, uid, account_id, roaming_authorized FROM cards WHERE {where}", *args
    )
    return {
        str(r["uid"]): CardFacts(
            int(r["id"]),
            None if r["account_id"] is None else int(r["account_id"]),
            bool(r["roaming_authorized"]),
        )
        for r in rows
    }


async def site_points(
    tx: Queries, engine: str, site_id: int, ocpp_ids: set[str]
) -> dict[str, tuple[int, int]]:
    """The site's known charge points among `ocpp_ids`: OCPP id → (id, account id)."""
    where, args = _in(engine, "ocpp_id", sorted(ocpp_ids), "text")
    rows = await tx.fetch(
        f"SELECT id, account_id, ocpp_id FROM charge_points WHERE site_id = ? AND {where}",
        site_id,
        *args,
    )
    return {str(r["ocpp_id"]): (int(r["id"]), int(r["account_id"])) for r in rows}


@dataclass(frozen=True, slots=True)
class _History:
    """One charge point: its row, and its settings oldest first (stamps for bisecting)."""

    point: dict[str, Any]
    stamps: list[str]
    settings: list[dict[str, Any]]


class PointsAt:
    """Each charge point's facts and tariff at a moment, from three queries for the batch."""

    def __init__(self, histories: dict[int, _History], tariffs: dict[int, TariffParts]) -> None:
        self._histories = histories
        self._tariffs = tariffs
        self._cache: dict[tuple[int, int], tuple[PointFacts, TariffParts]] = {}

    def at(self, cp_id: int, at: datetime) -> tuple[PointFacts, TariffParts]:
        """As `point_history.point_at`: the setting in force at `at`, else the first one."""
        history = self._histories[cp_id]
        index = 0
        if history.settings:
            index = max(bisect_right(history.stamps, str(to_db(at))) - 1, 0)
        key = (cp_id, index)
        if key not in self._cache:  # a batch has few charge points and fewer settings
            self._cache[key] = self._resolve(history, index)
        return self._cache[key]

    def _resolve(self, history: _History, index: int) -> tuple[PointFacts, TariffParts]:
        cp = history.point
        # No setting rows at all (a row written around the history): the charge point's own.
        source = history.settings[index] if history.settings else cp
        tariff_id = source["tariff_id"]
        tariff = ZERO if tariff_id is None else self._tariffs.get(int(tariff_id), ZERO)
        created = from_db(cp["created_at"])
        assert created is not None
        facts = PointFacts(
            id=int(cp["id"]),
            account_id=int(cp["account_id"]),
            guest_usage=bool(source["guest_usage"]),
            max_power_kw=None if cp["max_power_kw"] is None else float(cp["max_power_kw"]),
            fast=bool(cp["fast"]),
            created_at=created,
        )
        return facts, tariff

    @classmethod
    async def load(cls, tx: Queries, engine: str, cp_ids: set[int]) -> PointsAt:
        ids = sorted(cp_ids)
        where, args = _in(engine, "id", ids, "bigint")
        points = await tx.fetch(
            "SELECT id, account_id, guest_usage, tariff_id, max_power_kw, fast, created_at"
            f" FROM charge_points WHERE {where}",
            *args,
        )
        where, args = _in(engine, "charge_point_id", ids, "bigint")
        settings = await tx.fetch(
            "SELECT charge_point_id, tariff_id, guest_usage, valid_from FROM charge_point_tariffs"
            f" WHERE {where} ORDER BY charge_point_id, valid_from, id",
            *args,
        )
        histories = {int(p["id"]): _History(p, [], []) for p in points}
        for row in settings:
            history = histories[int(row["charge_point_id"])]
            history.stamps.append(str(row["valid_from"]))
            history.settings.append(row)
        tariff_ids = {
            int(t) for t in (r["tariff_id"] for r in [*points, *settings]) if t is not None
        }
        tariffs: dict[int, TariffParts] = {}
        if tariff_ids:
            where, args = _in(engine, "id", sorted(tariff_ids), "bigint")
            for row in await tx.fetch(
                "SELECT id, start_cents, per_kwh_cents, per_minute_cents, basis FROM tariffs"
                f" WHERE {where}",
                *args,
            ):
                tariffs[int(row["id"])] = TariffParts.of_tariff_row(row)
        return cls(histories, tariffs)


async def insert_rows(
    tx: Queries, engine: str, origin: str, rows: list[tuple[Any, ...]]
) -> dict[Key, tuple[int, bool]]:
    """Insert each row (in `INSERT_COLUMNS` order, keys unique within `rows`) unless its key is
    stored already; → key → (session id, created). A concurrent request inserting the same key
    makes this one wait for it (the unique index) and then count it as a duplicate."""
    found: dict[Key, tuple[int, bool]] = {}
    if engine == "postgresql":
        inserted = await tx.fetch(_PG_INSERT, *(list(col) for col in zip(*rows, strict=True)))
    else:
        inserted = []
        marks = "(" + ", ".join("?" * len(rows[0])) + ")"
        for i in range(0, len(rows), _SQLITE_CHUNK):
            chunk = rows[i : i + _SQLITE_CHUNK]
            inserted += await tx.fetch(
                f"INSERT INTO sessions ({INSERT_COLUMNS}) VALUES "
                + ", ".join([marks] * len(chunk))
                + " ON CONFLICT (origin, cp_ocpp_id, transaction_id) DO NOTHING"
                " RETURNING id, cp_ocpp_id, transaction_id",
                *(value for row in chunk for value in row),
            )
    for r in inserted:
        found[(str(r["cp_ocpp_id"]), str(r["transaction_id"]))] = (int(r["id"]), True)
    missing = [(row[3], row[4]) for row in rows if (row[3], row[4]) not in found]
    if missing:
        for r in await _ids_of(tx, engine, origin, missing):
            found[(str(r["cp_ocpp_id"]), str(r["transaction_id"]))] = (int(r["id"]), False)
    return found


async def _ids_of(tx: Queries, engine: str, origin: str, keys: list[Key]) -> list[dict[str, Any]]:
    head = "SELECT id, cp_ocpp_id, transaction_id FROM sessions WHERE origin = ? AND "
    if engine == "postgresql":
        return await tx.fetch(
            head + "(cp_ocpp_id, transaction_id) IN (SELECT * FROM unnest(?::text[], ?::text[]))",
            origin,
            [k[0] for k in keys],
            [k[1] for k in keys],
        )
    found: list[dict[str, Any]] = []
    for i in range(0, len(keys), _SQLITE_CHUNK):
        chunk = keys[i : i + _SQLITE_CHUNK]
        found += await tx.fetch(
            head
            + "(cp_ocpp_id, transaction_id) IN (VALUES "
            + ", ".join(["(?, ?)"] * len(chunk))
            + ")",
            origin,
            *(v for key in chunk for v in key),
        )
    return found
