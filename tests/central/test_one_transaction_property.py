"""Property: whatever order starts, meter values and (late) stops come in, the ledger keeps at
most one open transaction per connector, every closed one is queued for the cloud exactly once,
and no energy is negative - on a real SQLite file."""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
from datetime import timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from custom_components.eflux.core.central.ledger import Ledger
from custom_components.eflux.core.central.model import MeterSample, Transaction
from custom_components.eflux.core.central.store import Store

from .support import T0, FakeClock

CP = "PROP"
Op = tuple[str, int, int]  # (kind, connector, pick)
OPS = st.lists(
    st.tuples(
        st.sampled_from(["start", "start", "meter", "stop"]),
        st.integers(min_value=1, max_value=2),
        st.integers(min_value=0, max_value=7),
    ),
    max_size=14,
)


async def _run(path: Path, ops: list[Op]) -> None:
    clock = FakeClock()
    store = Store(path)
    await store.open()
    ledger = Ledger(store, clock)
    made: list[str] = []  # ids of every transaction started, in order
    register = {1: 1000.0, 2: 5000.0}
    try:
        for step, (kind, connector, pick) in enumerate(ops):
            at = T0 + timedelta(minutes=step)
            clock.now = at
            if kind == "start":
                template = Transaction(
                    id="", charge_point_id=CP, connector_id=connector, id_tag="T",
                    card_status="Accepted", started_at=at, meter_start_wh=register[connector],
                    last_register_wh=register[connector], last_register_at=at,
                )  # fmt: skip
                tx, created, _ = await ledger.start(template, f"k{step}")
                assert created
                made.append(tx.id)
            elif kind == "meter":
                register[connector] += 100.0
                tx = ledger.open_on_connector(CP, connector)
                sample = MeterSample(at, energy_wh=register[connector])
                await ledger.record_samples(CP, connector, tx, [sample])
            elif made:
                found = await ledger.find(CP, made[pick % len(made)])
                assert found is not None
                if found.is_open or found.superseded:  # what the handlers do (v16, v201)
                    register[found.connector_id] += 50.0
                    await ledger.stop(found, register[found.connector_id], at, "Local")
            _check(ledger, path)
    finally:
        await store.close()


def _check(ledger: Ledger, path: Path) -> None:
    per_connector: dict[int, int] = {}
    for tx in ledger.open_transactions(CP):
        per_connector[tx.connector_id] = per_connector.get(tx.connector_id, 0) + 1
    assert all(count == 1 for count in per_connector.values()), per_connector
    with sqlite3.connect(path) as db:
        open_rows = db.execute(
            "SELECT connector_id, count(*) FROM transactions WHERE stopped_at IS NULL"
            " GROUP BY connector_id"
        ).fetchall()
        assert all(count == 1 for _, count in open_rows), open_rows
        closed = {r[0] for r in db.execute(
            "SELECT ocpp_id FROM transactions WHERE stopped_at IS NOT NULL"
        )}  # fmt: skip
        queued = [r[0] for r in db.execute("SELECT transaction_id FROM session_outbox")]
        assert sorted(queued) == sorted(closed)  # each closed one once, nothing else
        assert not db.execute("SELECT 1 FROM transactions WHERE energy_wh < 0").fetchall()


@settings(max_examples=40, deadline=None)
@given(ops=OPS)
def test_one_open_transaction_per_connector_whatever_the_order(ops: list[Op]) -> None:
    with tempfile.TemporaryDirectory() as directory:
        asyncio.run(_run(Path(directory) / "ledger.sqlite", ops))


def test_a_superseded_transaction_reopened_by_its_late_stop_is_closed_once() -> None:
    # the sequence the property found worth pinning: start, start (supersedes), late stop
    ops: list[Op] = [("start", 1, 0), ("meter", 1, 0), ("start", 1, 0), ("stop", 1, 0)]
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "ledger.sqlite"
        asyncio.run(_run(path, ops))
        with sqlite3.connect(path) as db:
            rows = db.execute(
                "SELECT ocpp_id, stop_reason, energy_wh FROM transactions ORDER BY id"
            ).fetchall()
    assert rows == [("1", "Local", 150.0), ("2", None, 0.0)]
