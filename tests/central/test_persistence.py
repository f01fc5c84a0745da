"""Nothing is lost: restarts, a SIGKILL mid-session, late messages, group commit, compaction."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import aiosqlite
import pytest

from custom_components.eflux.core.central import AuthorizationSettings
from custom_components.eflux.core.central.store import Store
from sim.chargepoint import Car, SimChargePoint

from .support import (
    FakeClock,
    RawCharger,
    central_config,
    db_rows,
    eventually,
    iso,
    meter_value,
    outbox_sessions,
    running_central,
)

ROOT = Path(__file__).resolve().parents[2]


async def test_a_restart_resumes_open_transactions(tmp_path: Path) -> None:
    clock = FakeClock()
    config = central_config(tmp_path, authorization=AuthorizationSettings(free_charging=True))
    async with running_central(config, clock) as first:
        port = first.port
        sim = SimChargePoint(
            f"ws://127.0.0.1:{port}",
            "RESUME",
            "1.6",
            clock=clock,
            reconnect_delay=0.05,
            meter_interval=3600,
        )
        await sim.start()
        tx_id = await sim.plug_in("ANY-CARD")
        clock.advance(minutes=20)
        await sim.sample_now()
    assert sim.transaction is not None
    async with running_central(replace(config, port=port), clock) as second:
        [resumed] = second.open_transactions("RESUME")
        assert resumed.id == tx_id
        assert resumed.energy_wh == pytest.approx(16 * 3 * 230 / 3, abs=0.5)
        assert second.charge_points()["RESUME"].connectors[1].transaction == resumed
        await sim.connected.wait()
        clock.advance(minutes=10)
        await sim.unplug()
        await eventually(lambda: not second.open_transactions("RESUME"))
    await sim.close()
    [session] = await outbox_sessions(config.db_path)
    assert session.energy_wh == pytest.approx(16 * 3 * 230 / 2, abs=0.5)


async def _start_process(db: Path, port: int) -> tuple[asyncio.subprocess.Process, int]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "sim.central_process",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--db",
        str(db),
        "--accept-new",
        "--free-charging",
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    assert process.stdout is not None
    line = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
    assert line.startswith("ready port="), line
    return process, int(line.strip().split("=")[1])


@pytest.mark.slow
async def test_sigkill_mid_session_then_restart_completes_the_session(tmp_path: Path) -> None:
    db = tmp_path / "central.sqlite"
    process, port = await _start_process(db, 0)
    sim = SimChargePoint(
        f"ws://127.0.0.1:{port}",
        "KILLED",
        "1.6",
        Car(battery_kwh=100, soc=10),
        speed=600,
        reconnect_delay=0.1,
        meter_interval=3600,
    )
    try:
        await sim.start()
        tx_id = await sim.plug_in("ANY-CARD")
        for _ in range(3):
            await asyncio.sleep(0.05)
            await sim.sample_now()
        process.send_signal(signal.SIGKILL)
        await process.wait()
        await sim.wait_for(lambda: not sim.connected.is_set())
        await asyncio.sleep(0.05)
        await sim.unplug()  # offline: the StopTransaction waits in the charger's queue
        assert sim.queued >= 1
        process, _ = await _start_process(db, port)
        await sim.wait_for(lambda: sim.queued == 0, wait_s=15)
    finally:
        await sim.close()
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            await process.wait()
    [finished] = sim.finished
    rows = db_rows(
        db,
        "SELECT ocpp_id, meter_start_wh, meter_stop_wh, energy_wh, stopped_at"
        " FROM transactions WHERE charge_point_id = 'KILLED'",
    )
    assert len(rows) == 1
    ocpp_id, start_wh, stop_wh, energy_wh, stopped_at = rows[0]
    assert (ocpp_id, start_wh) == (tx_id, finished.meter_start_wh)
    assert stopped_at is not None
    assert energy_wh == stop_wh - start_wh
    assert energy_wh > 0
    assert abs(stop_wh - sim.register_wh) < 1.0
    [session] = await outbox_sessions(db)
    assert (session.transaction_id, session.energy_wh) == (tx_id, energy_wh)


async def test_late_messages_are_applied_by_their_own_timestamps(tmp_path: Path) -> None:
    clock = FakeClock()
    async with running_central(central_config(tmp_path), clock) as central:
        t0 = clock()
        async with RawCharger.connect(central.port, "LATE") as raw:
            started = await raw.call_ok(
                "StartTransaction",
                {"connectorId": 1, "idTag": "X", "meterStart": 1000, "timestamp": iso(t0)},
            )
        clock.advance(hours=3)  # the charger was offline; now it replays its queue
        tx_id = started["transactionId"]
        async with RawCharger.connect(central.port, "LATE") as raw:
            for minutes, wh in ((10, 2000.0), (20, 3000.0)):
                await raw.call_ok(
                    "MeterValues",
                    {
                        "connectorId": 1,
                        "transactionId": tx_id,
                        "meterValue": [meter_value(t0 + timedelta(minutes=minutes), wh)],
                    },
                )
            await raw.call_ok(
                "StopTransaction",
                {
                    "transactionId": tx_id,
                    "meterStop": 3500,
                    "timestamp": iso(t0 + timedelta(minutes=30)),
                },
            )
            await raw.call_ok(
                "MeterValues",
                {
                    "connectorId": 1,
                    "transactionId": tx_id,  # even later
                    "meterValue": [meter_value(t0 + timedelta(minutes=25), 3300.0)],
                },
            )
        rows = db_rows(
            central.config.db_path,
            "SELECT started_at, stopped_at, energy_wh, energy_flagged"
            " FROM transactions WHERE charge_point_id = 'LATE'",
        )
        assert rows == [
            (
                t0.isoformat(timespec="microseconds"),
                (t0 + timedelta(minutes=30)).isoformat(timespec="microseconds"),
                2500.0,
                0,
            )
        ]
        samples = db_rows(
            central.config.db_path,
            "SELECT ts, energy_wh FROM meter_samples WHERE charge_point_id = 'LATE' ORDER BY ts",
        )
        assert [wh for _, wh in samples] == [2000.0, 3000.0, 3300.0]


async def test_group_commit_rolls_back_only_the_failing_unit(tmp_path: Path) -> None:
    store = Store(tmp_path / "store.sqlite")
    await store.open()

    async def insert(db: aiosqlite.Connection, key: str) -> str:
        await db.execute("INSERT INTO settings (key, value) VALUES (?, 'v')", (key,))
        return key

    async def fail(db: aiosqlite.Connection) -> None:
        await db.execute("INSERT INTO settings (key, value) VALUES ('broken', 'v')")
        raise RuntimeError("disk on fire")

    try:
        results = await asyncio.gather(
            store.write(lambda db: insert(db, "a")),
            store.write(fail),
            store.write(lambda db: insert(db, "b")),
            return_exceptions=True,
        )
    finally:
        await store.close()
    assert results[0] == "a"
    assert results[2] == "b"
    assert isinstance(results[1], RuntimeError)
    assert db_rows(tmp_path / "store.sqlite", "SELECT key FROM settings ORDER BY key") == [
        ("a",),
        ("b",),
    ]


async def test_closed_sessions_are_downsampled_open_ones_keep_every_sample(tmp_path: Path) -> None:
    clock = FakeClock()
    async with running_central(central_config(tmp_path), clock) as central:
        t0 = clock()
        async with RawCharger.connect(central.port, "DOWN") as raw:
            ids = []
            for connector in (1, 2):
                ids.append(
                    (
                        await raw.call_ok(
                            "StartTransaction",
                            {
                                "connectorId": connector,
                                "idTag": "X",
                                "meterStart": 0,
                                "timestamp": iso(t0),
                            },
                        )
                    )["transactionId"]
                )
            for step in range(1, 61):  # 10 minutes of 10-second samples on both connectors
                for connector, tx_id in zip((1, 2), ids, strict=True):
                    await raw.call_ok(
                        "MeterValues",
                        {
                            "connectorId": connector,
                            "transactionId": tx_id,
                            "meterValue": [
                                meter_value(
                                    t0 + timedelta(seconds=10 * step), step * 10.0, amps=(8, 8, 8)
                                )
                            ],
                        },
                    )
            await raw.call_ok(
                "StopTransaction",
                {
                    "transactionId": ids[0],
                    "meterStop": 600,
                    "timestamp": iso(t0 + timedelta(minutes=10)),
                },
            )
        assert await central.compact_samples() == 1
        assert await central.compact_samples() == 0

        def count(tx_id: int) -> int:
            rows = db_rows(
                central.config.db_path,
                "SELECT count(*) FROM meter_samples WHERE"
                " transaction_record = (SELECT id FROM transactions WHERE ocpp_id = ?)",
                str(tx_id),
            )
            return int(rows[0][0])

        assert (count(ids[0]), count(ids[1])) == (3, 60)  # 5-minute buckets (the last one partial)
        [session] = await outbox_sessions(central.config.db_path)
        assert session.energy_wh == 600.0


async def test_every_transaction_change_is_on_disk_before_the_answer(tmp_path: Path) -> None:
    clock = FakeClock()
    async with running_central(central_config(tmp_path), clock) as central:
        db, t0 = central.config.db_path, clock()
        async with RawCharger.connect(central.port, "DURABLE") as raw:
            started = await raw.call_ok(
                "StartTransaction",
                {"connectorId": 1, "idTag": "X", "meterStart": 100, "timestamp": iso(t0)},
            )
            assert db_rows(db, "SELECT ocpp_id, stopped_at FROM transactions") == [
                (str(started["transactionId"]), None)
            ]
            await raw.call_ok(
                "MeterValues",
                {
                    "connectorId": 1,
                    "transactionId": started["transactionId"],
                    "meterValue": [meter_value(t0 + timedelta(minutes=1), 400.0)],
                },
            )
            assert db_rows(db, "SELECT energy_wh, last_register_wh FROM transactions") == [
                (300.0, 400.0)
            ]
            await raw.call_ok(
                "StopTransaction",
                {
                    "transactionId": started["transactionId"],
                    "meterStop": 500,
                    "timestamp": iso(t0 + timedelta(minutes=2)),
                },
            )
            assert db_rows(
                db, "SELECT energy_wh FROM transactions WHERE stopped_at IS NOT NULL"
            ) == [(400.0,)]
            assert len(await outbox_sessions(db)) == 1
        async with RawCharger.connect(central.port, "DURABLE-2", "2.0.1") as raw:
            await raw.call_ok(
                "TransactionEvent",
                {
                    "eventType": "Started",
                    "timestamp": iso(t0),
                    "triggerReason": "CablePluggedIn",
                    "seqNo": 0,
                    "transactionInfo": {"transactionId": "E-1"},
                    "evse": {"id": 1},
                },
            )
            assert db_rows(db, "SELECT count(*) FROM transactions WHERE ocpp_id = 'E-1'") == [(1,)]
