"""Transactions: opened, metered and closed durably, whatever order the messages come in.

Rules (DESIGN §3): a transaction is on disk before the charger hears about it; samples are
applied by their own timestamps, so an offline backlog replayed late never overwrites newer
live values; an energy register that runs backwards sets `energy_flagged` and never yields
negative energy; a stop for a transaction never seen is kept as an orphan; the finished
session enters the outbox (outbox.py) in the same SQLite transaction that closes it.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

import aiosqlite

from ..domain import FinishedSession
from . import records
from .model import SUPERSEDED, MeterSample, PhaseValues, Transaction
from .outbox import enqueue, replace_pending
from .store import Store

_LOGGER = logging.getLogger(__name__)
# Chargers round registers (kWh with two decimals): smaller steps back are not a reset.
REGISTER_TOLERANCE_WH = 10.0


def apply_samples(tx: Transaction, samples: Sequence[MeterSample]) -> Transaction:
    """The open transaction after these samples (any order; by their own timestamps)."""
    if not tx.is_open:
        return tx
    for sample in sorted(samples, key=lambda s: s.timestamp):
        tx = _apply(tx, sample)
    return tx


def _apply(tx: Transaction, sample: MeterSample) -> Transaction:
    # One `replace` per sample (it rebuilds all of Transaction's fields: a hot-path cost).
    changes: dict[str, Any] = {}
    if tx.last_sample_at is None or sample.timestamp >= tx.last_sample_at:
        changes.update(
            last_sample_at=sample.timestamp,
            power_w=sample.power_w if sample.power_w is not None else tx.power_w,
            current_a=sample.current_a if sample.current_a.known else tx.current_a,
            voltage_v=sample.voltage_v if sample.voltage_v.known else tx.voltage_v,
            soc=sample.soc if sample.soc is not None else tx.soc,
        )
    if sample.energy_wh is None or sample.timestamp < tx.started_at:
        return replace(tx, **changes) if changes else tx
    wh = sample.energy_wh
    start = tx.meter_start_wh if tx.meter_start_wh is not None else wh
    flagged = tx.energy_flagged or wh < start - REGISTER_TOLERANCE_WH
    last_wh, last_at = tx.last_register_wh, tx.last_register_at
    if last_at is None or last_wh is None or sample.timestamp >= last_at:
        if last_wh is not None and wh < last_wh - REGISTER_TOLERANCE_WH:
            flagged = True
        last_wh, last_at = wh, sample.timestamp
    elif wh > last_wh + REGISTER_TOLERANCE_WH:  # an older reading above a newer one
        flagged = True
    return replace(
        tx,
        **changes,
        meter_start_wh=start,
        last_register_wh=last_wh,
        last_register_at=last_at,
        energy_wh=max(0.0, last_wh - start),
        energy_flagged=flagged,
    )


def close(
    tx: Transaction, meter_stop_wh: float | None, stopped_at: datetime, reason: str | None
) -> Transaction:
    stop = meter_stop_wh if meter_stop_wh is not None else tx.last_register_wh
    start = tx.meter_start_wh
    flagged = tx.energy_flagged
    if stop is None or start is None:  # energy unknown: recorded as 0, for a human to look at
        flagged = True
        start = stop = start if start is not None else stop
    else:
        highest = max(start, tx.last_register_wh if tx.last_register_wh is not None else start)
        flagged = flagged or stop < highest - REGISTER_TOLERANCE_WH
    energy = max(0.0, stop - start) if stop is not None and start is not None else 0.0
    return replace(
        tx,
        stopped_at=max(stopped_at, tx.started_at),
        meter_start_wh=start,
        meter_stop_wh=stop,
        energy_wh=energy,
        energy_flagged=flagged,
        stop_reason=reason,
        power_w=None,
        current_a=PhaseValues(),
    )


async def supersede(
    db: aiosqlite.Connection, old: Transaction, newer: Transaction, now: datetime
) -> Transaction:
    """Close `old` because `newer` started on its connector: at that start (or now, if that
    is not later than `old`'s own start), energy from its last register, flagged, queued."""
    at = newer.started_at if newer.started_at > old.started_at else now
    closed = replace(close(old, None, at, SUPERSEDED), energy_flagged=True)
    await records.update_transaction(db, closed)
    await enqueue(db, finished_session(closed), now=now)
    _LOGGER.warning(
        "%s/%d: transaction %s closed (superseded by %s, which started on the same connector)",
        old.charge_point_id,
        old.connector_id,
        old.id,
        newer.id or "a new transaction",
    )
    return closed


def finished_session(tx: Transaction) -> FinishedSession:
    assert tx.stopped_at is not None
    return FinishedSession(
        charge_point_id=tx.charge_point_id,
        transaction_id=tx.id if not tx.orphan else f"orphan-{tx.record_id}-{tx.id}",
        connector_id=tx.connector_id,
        id_tag=tx.id_tag,
        started_at=tx.started_at,
        stopped_at=tx.stopped_at,
        meter_start_wh=tx.meter_start_wh or 0.0,
        meter_stop_wh=tx.meter_stop_wh or 0.0,
        energy_wh=tx.energy_wh,
        stop_reason=tx.stop_reason,
        energy_flagged=tx.energy_flagged,
    )


class Ledger:
    """Open transactions in memory, every change committed first."""

    def __init__(self, store: Store, clock: Callable[[], datetime]) -> None:
        self._store = store
        self._clock = clock
        # charge point -> its open transactions by OCPP id (looked up on every meter value)
        self._open: dict[str, dict[str, Transaction]] = {}

    async def load(self) -> list[Transaction]:
        opened = await self._store.read(records.load_open_transactions)
        self._open = {}
        for tx in opened:
            self._keep(tx)
        return opened

    def _keep(self, tx: Transaction) -> Transaction:
        """Track `tx` while open, forget it once closed; returns it."""
        by_id = self._open.setdefault(tx.charge_point_id, {})
        if tx.is_open:
            by_id[tx.id] = tx
        else:
            by_id.pop(tx.id, None)
        return tx

    def open_transactions(self, cp_id: str | None = None) -> list[Transaction]:
        if cp_id is not None:
            return list(self._open.get(cp_id, {}).values())
        return [tx for by_id in self._open.values() for tx in by_id.values()]

    def find_open(self, cp_id: str, ocpp_id: str) -> Transaction | None:
        return self._open.get(cp_id, {}).get(ocpp_id)

    def open_on_connector(self, cp_id: str, connector_id: int) -> Transaction | None:
        candidates = [tx for tx in self.open_transactions(cp_id) if tx.connector_id == connector_id]
        return max(candidates, key=lambda tx: tx.started_at, default=None)

    async def find(self, cp_id: str, ocpp_id: str) -> Transaction | None:
        """Open or closed, by the id the charger uses."""
        found = self.find_open(cp_id, ocpp_id)
        if found is not None:
            return found

        async def work(db: aiosqlite.Connection) -> Transaction | None:
            return await records.find_transaction(db, cp_id, ocpp_id=ocpp_id)

        return await self._store.read(work)

    async def start(
        self, tx: Transaction, start_key: str | None, samples: Sequence[MeterSample] = ()
    ) -> tuple[Transaction, bool, list[Transaction]]:
        """Store a new transaction: (it, True, the ones it superseded), or (existing, False, [])
        when the same start was seen before.

        One open transaction per connector: the older open ones there are closed in the same
        SQLite transaction (see `supersede`), so a charger that lost its stops never leaves a
        pile of open transactions that all get charging profiles."""

        async def work(db: aiosqlite.Connection) -> tuple[Transaction, bool, list[Transaction]]:
            existing = None
            if start_key is not None:
                existing = await records.find_transaction(
                    db, tx.charge_point_id, start_key=start_key
                )
            if existing is None and tx.id:
                existing = await records.find_transaction(db, tx.charge_point_id, ocpp_id=tx.id)
            if existing is not None:
                return existing, False, []
            stored = await records.insert_transaction(db, tx, start_key)
            stored = apply_samples(stored, samples)
            await records.insert_samples(
                db, tx.charge_point_id, tx.connector_id, stored.record_id, samples
            )
            await records.update_transaction(db, stored)
            others = [
                t for t in self.open_transactions(tx.charge_point_id)
                if t.connector_id == tx.connector_id
            ]  # fmt: skip
            # The newest start stays open (the one just heard of wins a tie).
            newest = max([*others, stored], key=lambda t: (t.started_at, t is stored))
            closed = [
                await supersede(db, old, newest, self._clock())
                for old in [*others, stored]
                if old is not newest
            ]
            stored = next((c for c in closed if c.record_id == stored.record_id), stored)
            return stored, True, [c for c in closed if c.record_id != stored.record_id]

        stored, created, superseded = await self._store.write(work)
        for old in superseded:
            self._keep(old)
        known = self.find_open(stored.charge_point_id, stored.id)
        if known is not None:  # already tracked, with its live values
            return known, created, superseded
        return self._keep(stored), created, superseded

    async def supersede_duplicates(self) -> list[Transaction]:
        """Close all but the newest open transaction of each connector (a file written before
        the one-per-connector rule may hold several); the closed ones."""
        groups: dict[tuple[str, int], list[Transaction]] = {}
        for tx in self.open_transactions():
            groups.setdefault((tx.charge_point_id, tx.connector_id), []).append(tx)
        piles = [sorted(g, key=lambda t: t.started_at) for g in groups.values() if len(g) > 1]
        if not piles:
            return []

        async def work(db: aiosqlite.Connection) -> list[Transaction]:
            now = self._clock()
            return [await supersede(db, old, pile[-1], now) for pile in piles for old in pile[:-1]]

        closed = await self._store.write(work)
        for tx in closed:
            self._keep(tx)
        return closed

    async def record_samples(
        self, cp_id: str, connector_id: int, tx: Transaction | None, samples: Sequence[MeterSample]
    ) -> Transaction | None:
        """Store samples (attached to `tx` if given); return the updated open transaction."""
        updated = apply_samples(tx, samples) if tx is not None else None

        def work(conn: sqlite3.Connection) -> None:
            record = tx.record_id if tx is not None else None
            records.insert_samples_now(conn, cp_id, connector_id, record, samples)
            if updated is not None and updated != tx:
                records.update_transaction_now(conn, updated)

        await self._store.write_sync(work)
        if updated is not None and updated.is_open:
            self._keep(updated)
        return updated

    async def update(self, tx: Transaction) -> Transaction:
        await self._store.write_sync(lambda conn: records.update_transaction_now(conn, tx))
        return self._keep(tx)

    async def stop(
        self,
        tx: Transaction,
        meter_stop_wh: float | None,
        stopped_at: datetime,
        reason: str | None,
        samples: Sequence[MeterSample] = (),
    ) -> Transaction:
        """Close `tx` and queue its finished session, in one SQLite transaction.

        A superseded transaction (closed here with an estimate) is closed again by its own
        late stop: the charger's figures replace the estimate, in the outbox too while its
        entry is unsent (once sent, the cloud keeps the flagged estimate: logged)."""
        correcting = tx.superseded
        if correcting:  # reopened to take its last samples and the charger's own figures
            tx = replace(tx, stopped_at=None, meter_stop_wh=None, stop_reason=None)
        closed = close(apply_samples(tx, samples), meter_stop_wh, stopped_at, reason)

        async def work(db: aiosqlite.Connection) -> None:
            await records.insert_samples(
                db, tx.charge_point_id, tx.connector_id, tx.record_id, samples
            )
            await records.update_transaction(db, closed)
            session = finished_session(closed)
            if correcting and not await replace_pending(db, session):
                _LOGGER.warning(
                    "%s: transaction %s was sent to the cloud as superseded (flagged) before"
                    " its own stop came; the cloud keeps that estimate",
                    tx.charge_point_id,
                    tx.id,
                )
            await enqueue(db, session, now=self._clock())

        await self._store.write(work)
        return self._keep(closed)

    async def record_orphan(
        self, template: Transaction, meter_stop_wh: float | None, samples: Sequence[MeterSample]
    ) -> Transaction:
        """A stop for a transaction never seen: kept, flagged, and queued for a human look."""
        registers = sorted(
            (s for s in samples if s.energy_wh is not None), key=lambda s: s.timestamp
        )
        started_at = registers[0].timestamp if registers else template.started_at
        begin = replace(
            template,
            started_at=min(started_at, template.started_at),
            meter_start_wh=registers[0].energy_wh if registers else None,
            orphan=True,
            energy_flagged=True,
        )
        closed = close(begin, meter_stop_wh, template.started_at, template.stop_reason)
        start_key = f"orphan:{template.id}:{template.started_at.isoformat()}"

        async def work(db: aiosqlite.Connection) -> Transaction:
            existing = await records.find_transaction(
                db, template.charge_point_id, start_key=start_key
            )
            if existing is not None:
                return existing
            stored = await records.insert_transaction(db, closed, start_key)
            await records.insert_samples(
                db, stored.charge_point_id, stored.connector_id, stored.record_id, samples
            )
            await enqueue(db, finished_session(stored), now=self._clock())
            return stored

        return await self._store.write(work)
