"""Rows <-> model objects: every SQL statement about chargers, transactions and samples."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

import aiosqlite

from .model import ChargePointState, ConnectorState, MeterSample, PhaseValues, Transaction
from .timeutil import from_db, to_db

_TX_COLUMNS = (
    "id, charge_point_id, ocpp_id, connector_id, id_tag, card_status, started_at, stopped_at,"
    " meter_start_wh, meter_stop_wh, energy_wh, energy_flagged, stop_reason, last_register_wh,"
    " last_register_at, orphan"
)
_SAMPLE_COLUMNS = (
    "charge_point_id, connector_id, transaction_record, ts, context, energy_wh, power_w,"
    " current_l1, current_l2, current_l3, voltage_l1, voltage_l2, voltage_l3, soc,"
    " current_offered"
)
_MERGED = ", ".join(
    f"{column} = coalesce(excluded.{column}, {column})"
    for column in _SAMPLE_COLUMNS.replace(" ", "").split(",")[2:]
    if column != "ts"
)


async def save_charge_point(db: aiosqlite.Connection, state: ChargePointState) -> None:
    seen = to_db(state.last_seen)
    await db.execute(
        "INSERT INTO charge_points (id, ocpp_version, vendor, model, firmware, serial,"
        " configuration, first_seen, last_seen, booted_at) VALUES (?,?,?,?,?,?,?,?,?,?)"
        " ON CONFLICT (id) DO UPDATE SET ocpp_version = excluded.ocpp_version,"
        " vendor = excluded.vendor, model = excluded.model, firmware = excluded.firmware,"
        " serial = excluded.serial, configuration = excluded.configuration,"
        " last_seen = excluded.last_seen, booted_at = excluded.booted_at",
        (
            state.id,
            state.ocpp_version,
            state.vendor,
            state.model,
            state.firmware,
            state.serial,
            json.dumps(dict(state.configuration)),
            seen or "",
            seen,
            to_db(state.booted_at),
        ),
    )


async def forget_charge_point(db: aiosqlite.Connection, cp_id: str) -> None:
    """Drop a charge point's state and connectors (a new one that was never approved)."""
    await db.execute("DELETE FROM connectors WHERE charge_point_id = ?", (cp_id,))
    await db.execute("DELETE FROM charge_points WHERE id = ?", (cp_id,))


async def save_connector(db: aiosqlite.Connection, cp_id: str, connector: ConnectorState) -> None:
    await db.execute(
        "INSERT OR REPLACE INTO connectors (charge_point_id, connector_id, status, error_code,"
        " info, vendor_id, vendor_error_code, status_at) VALUES (?,?,?,?,?,?,?,?)",
        (
            cp_id,
            connector.connector_id,
            connector.status,
            connector.error_code,
            connector.info,
            connector.vendor_id,
            connector.vendor_error_code,
            to_db(connector.status_at),
        ),
    )


async def load_charge_points(db: aiosqlite.Connection) -> dict[str, ChargePointState]:
    states: dict[str, ChargePointState] = {}
    async with db.execute(
        "SELECT id, ocpp_version, vendor, model, firmware, serial, configuration, last_seen,"
        " booted_at FROM charge_points"
    ) as cursor:
        async for row in cursor:
            states[row[0]] = ChargePointState(
                id=row[0],
                ocpp_version=row[1],
                vendor=row[2],
                model=row[3],
                firmware=row[4],
                serial=row[5],
                configuration=json.loads(row[6]),
                last_seen=from_db(row[7]),
                booted_at=from_db(row[8]),
            )
    connectors: dict[str, dict[int, ConnectorState]] = {}
    async with db.execute(
        "SELECT charge_point_id, connector_id, status, error_code, info, vendor_id,"
        " vendor_error_code, status_at FROM connectors"
    ) as cursor:
        async for row in cursor:
            connectors.setdefault(row[0], {})[row[1]] = ConnectorState(
                connector_id=row[1],
                status=row[2],
                error_code=row[3],
                info=row[4],
                vendor_id=row[5],
                vendor_error_code=row[6],
                status_at=from_db(row[7]),
            )
    for cp_id, by_id in connectors.items():
        if cp_id in states:
            states[cp_id] = _with_connectors(states[cp_id], by_id)
    return states


def _with_connectors(
    state: ChargePointState, connectors: dict[int, ConnectorState]
) -> ChargePointState:
    return replace(state, connectors=connectors)


def transaction_from_row(row: Sequence[Any]) -> Transaction:
    return Transaction(
        record_id=int(row[0]),
        charge_point_id=row[1],
        id=row[2] or str(row[0]),
        connector_id=int(row[3]),
        id_tag=row[4],
        card_status=row[5],
        started_at=_required_time(row[6]),
        stopped_at=from_db(row[7]),
        meter_start_wh=row[8],
        meter_stop_wh=row[9],
        energy_wh=float(row[10]),
        energy_flagged=bool(row[11]),
        stop_reason=row[12],
        last_register_wh=row[13],
        last_register_at=from_db(row[14]),
        orphan=bool(row[15]),
    )


def _required_time(text: str) -> datetime:
    moment = from_db(text)
    assert moment is not None
    return moment


async def load_open_transactions(db: aiosqlite.Connection) -> list[Transaction]:
    async with db.execute(
        f"SELECT {_TX_COLUMNS} FROM transactions WHERE stopped_at IS NULL ORDER BY id"  # noqa: S608
    ) as cursor:
        return [transaction_from_row(row) async for row in cursor]


async def closed_transactions(
    db: aiosqlite.Connection, start: datetime, end: datetime
) -> list[Transaction]:
    """Transactions that ended in [start, end), in the order they ended."""
    async with db.execute(
        f"SELECT {_TX_COLUMNS} FROM transactions WHERE stopped_at IS NOT NULL"  # noqa: S608
    ) as cursor:
        found = [transaction_from_row(row) async for row in cursor]
    ended = [tx for tx in found if tx.stopped_at is not None and start <= tx.stopped_at < end]
    return sorted(ended, key=lambda tx: (tx.stopped_at, tx.record_id))


async def find_transaction(
    db: aiosqlite.Connection,
    cp_id: str,
    *,
    ocpp_id: str | None = None,
    start_key: str | None = None,
) -> Transaction | None:
    if ocpp_id is not None:
        where, arg = "ocpp_id = ? AND orphan = 0", ocpp_id
    else:
        where, arg = "start_key = ?", start_key or ""
    async with db.execute(
        f"SELECT {_TX_COLUMNS} FROM transactions WHERE charge_point_id = ? AND {where}",  # noqa: S608
        (cp_id, arg),
    ) as cursor:
        row = await cursor.fetchone()
    return transaction_from_row(row) if row else None


# What changes over a transaction's life, in this order in INSERT and UPDATE.
_MUTABLE = (
    "id_tag", "card_status", "stopped_at", "meter_start_wh", "meter_stop_wh", "energy_wh",
    "energy_flagged", "stop_reason", "last_register_wh", "last_register_at",
)  # fmt: skip


def _mutable_values(tx: Transaction) -> tuple[Any, ...]:
    return (
        tx.id_tag, tx.card_status, to_db(tx.stopped_at), tx.meter_start_wh, tx.meter_stop_wh,
        tx.energy_wh, int(tx.energy_flagged), tx.stop_reason, tx.last_register_wh,
        to_db(tx.last_register_at),
    )  # fmt: skip


async def insert_transaction(
    db: aiosqlite.Connection, tx: Transaction, start_key: str | None
) -> Transaction:
    """Insert `tx`; a 1.6 transaction (empty id) takes its row id as its OCPP id."""
    columns = ("charge_point_id", "ocpp_id", "connector_id", "start_key", "started_at", "orphan")
    values = (
        tx.charge_point_id, tx.id or None, tx.connector_id, start_key, to_db(tx.started_at),
        int(tx.orphan), *_mutable_values(tx),
    )  # fmt: skip
    cursor = await db.execute(
        f"INSERT INTO transactions ({', '.join(columns + _MUTABLE)})"  # noqa: S608 - constants
        f" VALUES ({', '.join('?' * len(values))})",
        values,
    )
    record_id = int(cursor.lastrowid or 0)
    ocpp_id = tx.id
    if not ocpp_id:
        ocpp_id = str(record_id)
        await db.execute("UPDATE transactions SET ocpp_id = ? WHERE id = ?", (ocpp_id, record_id))
    return replace(tx, record_id=record_id, id=ocpp_id)


_UPDATE_TX = f"UPDATE transactions SET {', '.join(f'{c} = ?' for c in _MUTABLE)} WHERE id = ?"  # noqa: S608 - constants


async def update_transaction(db: aiosqlite.Connection, tx: Transaction) -> None:
    await db.execute(_UPDATE_TX, (*_mutable_values(tx), tx.record_id))


def update_transaction_now(conn: sqlite3.Connection, tx: Transaction) -> None:
    """`update_transaction` for a plain unit (`Store.write_sync`)."""
    conn.execute(_UPDATE_TX, (*_mutable_values(tx), tx.record_id))


_INSERT_SAMPLE = (
    f"INSERT INTO meter_samples ({_SAMPLE_COLUMNS}) VALUES ({', '.join('?' * 15)})"  # noqa: S608
    f" ON CONFLICT (charge_point_id, connector_id, ts) DO UPDATE SET {_MERGED}"
)


def _sample_rows(
    cp_id: str, connector_id: int, transaction_record: int | None, samples: Iterable[MeterSample]
) -> list[tuple[Any, ...]]:
    return [
        (
            cp_id,
            connector_id,
            transaction_record,
            to_db(s.timestamp),
            s.context,
            s.energy_wh,
            s.power_w,
            *s.current_a.as_tuple(),
            *s.voltage_v.as_tuple(),
            s.soc,
            s.current_offered_a,
        )
        for s in samples
    ]


async def insert_samples(
    db: aiosqlite.Connection,
    cp_id: str,
    connector_id: int,
    transaction_record: int | None,
    samples: Iterable[MeterSample],
) -> None:
    """Store samples; one already stored for the same instant is merged, not duplicated."""
    rows = _sample_rows(cp_id, connector_id, transaction_record, samples)
    if rows:
        await db.executemany(_INSERT_SAMPLE, rows)


def insert_samples_now(
    conn: sqlite3.Connection,
    cp_id: str,
    connector_id: int,
    transaction_record: int | None,
    samples: Iterable[MeterSample],
) -> None:
    """`insert_samples` for a plain unit (`Store.write_sync`)."""
    rows = _sample_rows(cp_id, connector_id, transaction_record, samples)
    if len(rows) == 1:
        conn.execute(_INSERT_SAMPLE, rows[0])
    elif rows:
        conn.executemany(_INSERT_SAMPLE, rows)


def sample_from_row(row: Sequence[Any]) -> MeterSample:
    """From (ts, context, energy, power, i1, i2, i3, u1, u2, u3, soc, offered)."""
    moment = _required_time(row[0])
    return MeterSample(
        timestamp=moment,
        context=row[1],
        energy_wh=row[2],
        power_w=row[3],
        current_a=PhaseValues(row[4], row[5], row[6]),
        voltage_v=PhaseValues(row[7], row[8], row[9]),
        soc=row[10],
        current_offered_a=row[11],
    )


async def transaction_samples(db: aiosqlite.Connection, record_id: int) -> list[MeterSample]:
    async with db.execute(
        "SELECT ts, context, energy_wh, power_w, current_l1, current_l2, current_l3,"
        " voltage_l1, voltage_l2, voltage_l3, soc, current_offered FROM meter_samples"
        " WHERE transaction_record = ? ORDER BY ts",
        (record_id,),
    ) as cursor:
        return [sample_from_row(row) async for row in cursor]
