"""One open transaction per connector, and no charging profile before the boot is answered:
raw OCPP frames over a real websocket (a sim charger never loses its stops on purpose)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from custom_components.eflux.core.central import CentralSystem, TransactionEnded

from .support import (
    T0,
    FakeClock,
    RawCharger,
    boot_v16,
    boot_v201,
    central_config,
    db_rows,
    iso,
    meter_value,
    outbox_sessions,
    running_central,
)

GENERIC_ANSWERS: dict[str, dict[str, Any]] = {
    "GetConfiguration": {"configurationKey": []},
    "GetVariables": {"getVariableResult": []},
    "SetVariables": {"setVariableResult": []},
    "GetLocalListVersion": {"listVersion": 0},
}


async def answer_until(raw: RawCharger, action: str) -> list[list[Any]]:
    """Answer the central system's CALLs as an accepting charger would, up to and including
    the first `action`; the CALLs answered."""
    calls = []
    while True:
        call = await raw.next_call_from_central()
        calls.append(call)
        answer = GENERIC_ANSWERS.get(call[2], {"status": "Accepted"})
        await raw.send(json.dumps([3, call[1], answer]))
        if call[2] == action:
            return calls


async def start_16(raw: RawCharger, at_min: int, meter_wh: int) -> str:
    answer = await raw.call_ok(
        "StartTransaction",
        {
            "connectorId": 1,
            "idTag": "CARD-OK",
            "meterStart": meter_wh,
            "timestamp": iso(T0.replace(minute=at_min)),
        },
    )
    return str(answer["transactionId"])


async def test_no_profile_before_the_boot_answer_and_only_for_the_live_transaction(
    tmp_path: Path,
) -> None:
    clock = FakeClock()
    config = central_config(tmp_path, call_timeout=2.0)
    async with running_central(config, clock) as central:
        ended: list[TransactionEnded] = []
        central.add_listener(lambda e: ended.append(e) if isinstance(e, TransactionEnded) else None)
        async with RawCharger.connect(central.port, "PILE") as raw:
            early = asyncio.create_task(central.set_current_limit("PILE", 10.0))
            # A round trip gives the limit every chance to go out (it did, before the fix).
            await (await raw.connection.ping())
            await raw.call_ok("BootNotification", boot_v16())
            assert not [c for c in raw.calls_from_central if c[2] == "SetChargingProfile"]
            first = (await answer_until(raw, "SetChargingProfile"))[-1]
            assert first[3]["csChargingProfiles"]["chargingProfilePurpose"] == "TxDefaultProfile"
            await early

            tx_a = await start_16(raw, 1, 1000)
            await raw.call_ok(
                "MeterValues",
                {
                    "connectorId": 1,
                    "transactionId": int(tx_a),
                    "meterValue": [meter_value(T0.replace(minute=5), 1500)],
                },
            )
            tx_b = await start_16(raw, 10, 2000)  # A's stop was lost
            assert [tx.id for tx in central.open_transactions("PILE")] == [tx_b]
            assert central.charge_points()["PILE"].connectors[1].transaction.id == tx_b  # type: ignore[union-attr]
            closed_a = [e.transaction for e in ended if e.transaction.id == tx_a]
            assert len(closed_a) == 1
            assert closed_a[0].stop_reason == "Superseded"
            assert closed_a[0].energy_wh == 500.0  # from its last meter value
            assert closed_a[0].energy_flagged
            assert closed_a[0].stopped_at == T0.replace(minute=10)

            limit = asyncio.create_task(central.set_current_limit("PILE", 8.0))
            profile = (await answer_until(raw, "SetChargingProfile"))[-1]
            await limit
            sent = profile[3]["csChargingProfiles"]
            assert (sent["chargingProfilePurpose"], sent["transactionId"]) == (
                "TxProfile",
                int(tx_b),
            )
            # exactly one profile: none more up to the CALL we ask for now
            probe = asyncio.create_task(central.send("PILE", "ClearCache", {}))
            later = await answer_until(raw, "ClearCache")
            await probe
            assert not [c for c in later if c[2] == "SetChargingProfile"]

            # A's own stop comes late: the charger's figures replace the estimate.
            await raw.call_ok(
                "StopTransaction",
                {
                    "transactionId": int(tx_a),
                    "meterStop": 1800,
                    "timestamp": iso(T0.replace(minute=9)),
                    "reason": "EVDisconnected",
                },
            )
            assert [tx.id for tx in central.open_transactions("PILE")] == [tx_b]
    rows = db_rows(
        config.db_path,
        "SELECT stop_reason, energy_wh, meter_stop_wh FROM transactions WHERE ocpp_id = ?",
        tx_a,
    )
    assert rows == [("EVDisconnected", 800.0, 1800.0)]
    queued = {s.transaction_id: s for s in await outbox_sessions(config.db_path)}
    assert (queued[tx_a].energy_wh, queued[tx_a].stop_reason) == (800.0, "EVDisconnected")
    assert queued[tx_a].energy_flagged  # it overlapped another: worth a look
    assert tx_b not in queued


async def test_a_charger_reconnecting_without_booting_gets_its_limit_at_once(
    tmp_path: Path,
) -> None:
    config = central_config(tmp_path)
    async with (
        running_central(config, FakeClock()) as central,
        RawCharger.connect(central.port, "NOBOOT") as raw,
    ):
        await raw.call_ok(
            "StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Available"}
        )
        limit = asyncio.create_task(central.set_current_limit("NOBOOT", 12.0))
        # the first CALL from the central system is the profile: no waiting for a boot
        profile = await raw.next_call_from_central()
        assert profile[2] == "SetChargingProfile"
        await raw.send(json.dumps([3, profile[1], {"status": "Accepted"}]))
        assert (await limit).amps == 12.0


async def test_2_0_1_started_on_a_busy_evse_closes_the_older_and_its_late_end_corrects_it(
    tmp_path: Path,
) -> None:
    clock = FakeClock()
    config = central_config(tmp_path)
    async with (
        running_central(config, clock) as central,
        RawCharger.connect(central.port, "PILE201", "2.0.1") as raw,
    ):
        await raw.call_ok("BootNotification", boot_v201())

        def event(kind: str, tx_id: str, minute: int, wh: float, seq: int) -> dict[str, Any]:
            return {
                "eventType": kind,
                "timestamp": iso(T0.replace(minute=minute)),
                "triggerReason": "CablePluggedIn" if kind == "Started" else "EVDeparted",
                "seqNo": seq,
                "transactionInfo": {"transactionId": tx_id}
                | ({"stoppedReason": "EVDisconnected"} if kind == "Ended" else {}),
                "evse": {"id": 1, "connectorId": 1},
                "meterValue": [
                    {
                        "timestamp": iso(T0.replace(minute=minute)),
                        "sampledValue": [
                            {"value": wh, "measurand": "Energy.Active.Import.Register"}
                        ],
                    }
                ],
            }

        await raw.call_ok("TransactionEvent", event("Started", "A-1", 1, 100.0, 0))
        await raw.call_ok("TransactionEvent", event("Updated", "A-1", 3, 400.0, 1))
        await raw.call_ok("TransactionEvent", event("Started", "B-2", 5, 900.0, 0))
        assert [tx.id for tx in central.open_transactions("PILE201")] == ["B-2"]
        await raw.call_ok("TransactionEvent", event("Ended", "A-1", 4, 650.0, 2))
        assert [tx.id for tx in central.open_transactions("PILE201")] == ["B-2"]
    queued = {s.transaction_id: s for s in await outbox_sessions(config.db_path)}
    assert (queued["A-1"].energy_wh, queued["A-1"].stop_reason) == (550.0, "EVDisconnected")


async def test_a_pile_of_open_transactions_in_an_older_file_is_closed_at_start(
    tmp_path: Path,
) -> None:
    config = central_config(tmp_path)
    async with running_central(config):
        pass  # creates the file
    import sqlite3

    with sqlite3.connect(config.db_path) as db:
        for ocpp_id, connector, minute in (("1", 1, 1), ("2", 1, 3), ("3", 1, 2), ("4", 2, 1)):
            db.execute(
                "INSERT INTO transactions (charge_point_id, ocpp_id, connector_id, card_status,"
                " started_at, meter_start_wh, last_register_wh) VALUES (?,?,?,?,?,?,?)",
                ("OLD", ocpp_id, connector, "Accepted", T0.replace(minute=minute).isoformat(),
                 0.0, 100.0 * minute),
            )  # fmt: skip
    central = CentralSystem(config, clock=FakeClock())
    await central.start()
    try:
        assert sorted(tx.id for tx in central.open_transactions("OLD")) == ["2", "4"]
        connectors = central.charge_points().get("OLD")
        assert connectors is None or connectors.connectors[1].transaction.id == "2"  # type: ignore[union-attr]
    finally:
        await central.stop()
    rows = db_rows(
        config.db_path,
        "SELECT ocpp_id, stop_reason, energy_wh, energy_flagged FROM transactions"
        " WHERE stopped_at IS NOT NULL ORDER BY ocpp_id",
    )
    assert rows == [("1", "Superseded", 100.0, 1), ("3", "Superseded", 200.0, 1)]
    assert sorted(s.transaction_id for s in await outbox_sessions(config.db_path)) == ["1", "3"]
