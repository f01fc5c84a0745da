"""The SQLite outbox keeps finished sessions in order, once each, until acknowledged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiosqlite

from custom_components.eflux.core.central.outbox import SqliteSessionOutbox, enqueue, ensure_schema
from custom_components.eflux.core.domain import FinishedSession

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def _session(tx: str, minutes: int = 60) -> FinishedSession:
    return FinishedSession(
        charge_point_id="CP1",
        transaction_id=tx,
        connector_id=1,
        id_tag="04A1B2C3",
        started_at=T0,
        stopped_at=T0 + timedelta(minutes=minutes),
        meter_start_wh=1000.0,
        meter_stop_wh=8400.5,
        energy_wh=7400.5,
    )


async def test_enqueue_in_the_callers_transaction_then_drain_in_order(tmp_path: Path) -> None:
    path = tmp_path / "central.sqlite"
    async with aiosqlite.connect(path) as central_db:
        await central_db.execute("PRAGMA journal_mode=WAL")
        await ensure_schema(central_db)
        for tx in ("7", "3", "9"):
            await enqueue(central_db, _session(tx))
        await enqueue(central_db, _session("3", minutes=5))  # a replayed stop: ignored
        await central_db.commit()

    outbox = SqliteSessionOutbox(path)
    await outbox.open()
    try:
        pending = await outbox.outbox_pending(10)
        assert [e.session.transaction_id for e in pending] == ["7", "3", "9"]
        assert pending[1].session == _session("3")
        await outbox.outbox_mark_sent([pending[0].id, pending[1].id])
        assert [e.session.transaction_id for e in await outbox.outbox_pending(10)] == ["9"]
        assert await outbox.outbox_unsent_count() == 1
    finally:
        await outbox.close()


async def test_an_uncommitted_enqueue_is_not_visible(tmp_path: Path) -> None:
    path = tmp_path / "central.sqlite"
    outbox = SqliteSessionOutbox(path)
    await outbox.open()
    try:
        async with aiosqlite.connect(path) as central_db:
            await enqueue(central_db, _session("1"))
            assert await outbox.outbox_pending(10) == []
            await central_db.rollback()
        assert await outbox.outbox_pending(10) == []
    finally:
        await outbox.close()


async def test_a_payload_written_by_an_earlier_release_still_drains(tmp_path: Path) -> None:
    """The stored form did not change when the outbox moved from core/cloud to core/central."""
    path = tmp_path / "central.sqlite"
    earlier = (
        '{"charge_point_id":"CP1","transaction_id":"7","connector_id":1,"id_tag":"04A1B2C3",'
        '"started_at":"2026-11-23T08:00:00+00:00","stopped_at":"2026-11-23T09:00:00+00:00",'
        '"meter_start_wh":1000.0,"meter_stop_wh":8400.5,"energy_wh":7400.5,'
        '"stop_reason":null,"energy_flagged":false}'
    )
    async with aiosqlite.connect(path) as central_db:
        await ensure_schema(central_db)
        await enqueue(central_db, _session("8"))
        await central_db.execute(
            "INSERT INTO session_outbox (charge_point_id, transaction_id, payload, created_at)"
            " VALUES ('CP1', '7', ?, ?)",
            (earlier, T0.isoformat()),
        )
        await central_db.commit()
        async with central_db.execute("SELECT payload FROM session_outbox ORDER BY id") as cur:
            written = [str(row[0]) async for row in cur]
    assert written[0] == earlier.replace('"7"', '"8"')  # what we write is what we wrote before
    outbox = SqliteSessionOutbox(path)
    await outbox.open()
    try:
        pending = await outbox.outbox_pending(10)
        assert [e.session for e in pending] == [_session("8"), _session("7")]
    finally:
        await outbox.close()
