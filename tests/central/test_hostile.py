"""Hostile input: each gets a clear error, loses nothing, and the server keeps serving others."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from websockets.exceptions import ConnectionClosed

from custom_components.eflux.core.central import CallTimeout, CentralSystem
from custom_components.eflux.core.domain import Card, CardListDelta, CardStatus
from sim.chargepoint import SimChargePoint

from .conftest import SimFactory
from .support import (
    FakeClock,
    RawCharger,
    boot_v201,
    central_config,
    db_rows,
    eventually,
    iso,
    meter_value,
    outbox_sessions,
    running_central,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(loop_scope="module")
async def bystander(make_sim: SimFactory) -> AsyncIterator[SimChargePoint]:
    """A charger in the middle of a session, which every hostile peer must leave unharmed."""
    sim = await make_sim("BYSTANDER")
    if sim.transaction is None:
        await sim.plug_in("CARD-OK")
    yield sim


async def assert_unharmed(central: CentralSystem, bystander: SimChargePoint) -> None:
    await bystander.sample_now()
    await bystander.adapter.heartbeat()
    [tx] = central.open_transactions("BYSTANDER")
    assert tx.id == bystander.transaction.id  # type: ignore[union-attr]


FRAMES = [
    ("not json at all", "FormationViolation", "RpcFrameworkError", "-1"),
    ('{"action": "Heartbeat"}', "FormationViolation", "RpcFrameworkError", "-1"),
    ("[]", "FormationViolation", "RpcFrameworkError", "-1"),
    ('[2, "w1", "Heartbeat"]', "FormationViolation", "RpcFrameworkError", "w1"),
    ('[2, "w2", "Heartbeat", [1]]', "FormationViolation", "FormatViolation", "w2"),
    ('[7, "w3", "Heartbeat", {}]', "FormationViolation", "MessageTypeNotSupported", "w3"),
    ('[2, 12345, "Heartbeat", {}]', "FormationViolation", "RpcFrameworkError", "-1"),
    (
        '[2, "' + "i" * 40 + '", "Heartbeat", {}]',
        "FormationViolation",
        "RpcFrameworkError",
        "i" * 36,
    ),
]


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
@pytest.mark.parametrize(("frame", "v16_code", "v201_code", "answer_id"), FRAMES)
async def test_unusable_frames_get_an_answer_and_the_session_goes_on(
    central: CentralSystem,
    bystander: SimChargePoint,
    version: str,
    frame: str,
    v16_code: str,
    v201_code: str,
    answer_id: str,
) -> None:
    async with RawCharger.connect(central.port, f"BAD-FRAME-{version}", version) as raw:
        await raw.send(frame)
        error = await raw.reply()
        assert error[:3] == [4, answer_id, v16_code if version == "1.6" else v201_code]
        assert error[3]  # a description of what was wrong
        assert "currentTime" in await raw.call_ok("Heartbeat", {})
    await assert_unharmed(central, bystander)


@pytest.mark.parametrize(
    ("version", "code"), [("1.6", "FormationViolation"), ("2.0.1", "RpcFrameworkError")]
)
async def test_binary_frames_are_refused(
    central: CentralSystem, bystander: SimChargePoint, version: str, code: str
) -> None:
    async with RawCharger.connect(central.port, f"BINARY-{version}", version) as raw:
        await raw.send(b'[2,"b1","Heartbeat",{}]')
        assert (await raw.reply())[:3] == [4, "-1", code]
        assert "currentTime" in await raw.call_ok("Heartbeat", {})
    await assert_unharmed(central, bystander)


@pytest.mark.parametrize(
    ("version", "action", "code"),
    [
        ("1.6", "FlyToTheMoon", "NotImplemented"),
        ("1.6", "Reset", "NotSupported"),  # a real action, but one a charger never sends us
        ("2.0.1", "FlyToTheMoon", "NotImplemented"),
        ("2.0.1", "GetVariables", "NotSupported"),
    ],
)
async def test_unknown_and_unsupported_actions(
    central: CentralSystem, version: str, action: str, code: str
) -> None:
    async with RawCharger.connect(central.port, f"ACTIONS-{version}", version) as raw:
        answer = await raw.call(action, {})
        assert answer[0] == 4
        assert answer[2] == code


@pytest.mark.parametrize(
    ("version", "action", "payload", "code"),
    [
        ("1.6", "BootNotification", {"chargePointVendor": "x"}, "OccurenceConstraintViolation"),
        (
            "1.6",
            "StatusNotification",
            {"connectorId": 1, "errorCode": "Bad", "status": "Available"},
            "PropertyConstraintViolation",
        ),
        ("1.6", "Heartbeat", {"extra": 1}, "FormationViolation"),
        ("1.6", "Authorize", {"idTag": 5}, "TypeConstraintViolation"),
        (
            "1.6",
            "StatusNotification",
            {"connectorId": -1, "errorCode": "NoError", "status": "Available"},
            "PropertyConstraintViolation",
        ),
        (
            "1.6",
            "MeterValues",
            {
                "connectorId": 1,
                "meterValue": [
                    {"timestamp": "2026-03-02T08:00:00Z", "sampledValue": [{"value": "lots"}]}
                ],
            },
            "PropertyConstraintViolation",
        ),
        (
            "1.6",
            "MeterValues",
            {
                "connectorId": 1,
                "meterValue": [{"timestamp": "last tuesday", "sampledValue": [{"value": "1"}]}],
            },
            "PropertyConstraintViolation",
        ),
        ("2.0.1", "BootNotification", {"reason": "PowerUp"}, "OccurrenceConstraintViolation"),
        ("2.0.1", "Heartbeat", {"extra": 1}, "FormatViolation"),
        (
            "2.0.1",
            "StatusNotification",
            {
                "timestamp": "2026-03-02T08:00:00Z",
                "connectorStatus": "Sleepy",
                "evseId": 1,
                "connectorId": 1,
            },
            "PropertyConstraintViolation",
        ),
    ],
)
async def test_schema_invalid_payloads(
    central: CentralSystem, version: str, action: str, payload: dict[str, object], code: str
) -> None:
    async with RawCharger.connect(central.port, f"SCHEMA-{version}", version) as raw:
        answer = await raw.call(action, payload)
        assert answer[0] == 4, answer
        assert answer[2] == code, answer
        assert len(answer[3]) > 10  # says what is wrong


async def test_a_repeated_message_id_is_answered_once_and_a_reused_one_is_refused(
    central: CentralSystem, clock: FakeClock
) -> None:
    start = {"connectorId": 1, "idTag": "CARD-OK", "meterStart": 10, "timestamp": iso(clock())}
    async with RawCharger.connect(central.port, "DUP-ID") as raw:
        first = await raw.call("StartTransaction", start, unique_id="same-id")
        again = await raw.call("StartTransaction", start, unique_id="same-id")
        assert first == again
        assert first[0] == 3
        reused = await raw.call("Heartbeat", {}, unique_id="same-id")
        assert reused[0] == 4
        assert reused[2] == "ProtocolError"
        assert "already used" in reused[3]
    assert len(central.open_transactions("DUP-ID")) == 1


async def test_the_same_start_twice_gets_the_same_transaction_id(
    central: CentralSystem, clock: FakeClock
) -> None:
    start = {"connectorId": 1, "idTag": "CARD-OK", "meterStart": 500, "timestamp": iso(clock())}
    async with RawCharger.connect(central.port, "DUP-START") as raw:
        first = await raw.call_ok("StartTransaction", start)
    async with RawCharger.connect(central.port, "DUP-START") as raw:  # resent after a reconnect
        second = await raw.call_ok("StartTransaction", start)
    assert first == second
    assert (
        len(
            db_rows(
                central.config.db_path,
                "SELECT id FROM transactions WHERE charge_point_id = 'DUP-START'",
            )
        )
        == 1
    )


async def test_blocked_and_unknown_cards_still_get_a_transaction_id(
    central: CentralSystem, clock: FakeClock
) -> None:
    await central.apply_card_delta(CardListDelta(0, 1, (Card("LOST-1", CardStatus.LOST),)))
    async with RawCharger.connect(central.port, "BAD-CARDS") as raw:
        answers = []
        for connector, tag in ((1, "LOST-1"), (2, "WHO-IS-THIS")):
            answers.append(
                await raw.call_ok(
                    "StartTransaction",
                    {
                        "connectorId": connector,
                        "idTag": tag,
                        "meterStart": 0,
                        "timestamp": iso(clock()),
                    },
                )
            )
    assert [a["idTagInfo"]["status"] for a in answers] == ["Blocked", "Invalid"]
    assert all(isinstance(a["transactionId"], int) for a in answers)
    statuses = sorted(tx.card_status for tx in central.open_transactions("BAD-CARDS"))
    assert statuses == ["Blocked", "Invalid"]


async def test_a_stop_for_an_unknown_transaction_is_kept_as_an_orphan(
    central: CentralSystem, clock: FakeClock
) -> None:
    t = clock()
    async with RawCharger.connect(central.port, "ORPHAN") as raw:
        stop = {
            "transactionId": 987654,
            "meterStop": 5400,
            "timestamp": iso(t),
            "idTag": "CARD-OK",
            "transactionData": [meter_value(t - timedelta(hours=1), 1200.0)],
        }
        assert (await raw.call_ok("StopTransaction", stop))["idTagInfo"]["status"] == "Accepted"
        await raw.call_ok("StopTransaction", stop)  # resent: still one record
    rows = db_rows(
        central.config.db_path,
        "SELECT ocpp_id, orphan, meter_start_wh, energy_wh,"
        " energy_flagged FROM transactions WHERE charge_point_id = 'ORPHAN'",
    )
    assert rows == [("987654", 1, 1200.0, 4200.0, 1)]
    [session] = [
        s for s in await outbox_sessions(central.config.db_path) if s.charge_point_id == "ORPHAN"
    ]
    assert session.energy_flagged
    assert session.energy_wh == 4200.0


async def test_a_backlog_of_500_old_meter_values(
    central: CentralSystem, bystander: SimChargePoint, clock: FakeClock
) -> None:
    t0 = clock() - timedelta(days=2)
    async with RawCharger.connect(central.port, "BACKLOG") as raw:
        tx_id = (
            await raw.call_ok(
                "StartTransaction",
                {"connectorId": 1, "idTag": "CARD-OK", "meterStart": 0, "timestamp": iso(t0)},
            )
        )["transactionId"]
        live = t0 + timedelta(minutes=600)
        await raw.call_ok(
            "MeterValues",
            {
                "connectorId": 1,
                "transactionId": tx_id,
                "meterValue": [meter_value(live, 60_000.0, amps=(9, 9, 9))],
            },
        )
        for index in range(500):  # replayed after an outage, older than the live sample above
            frame = [
                2,
                f"b{index}",
                "MeterValues",
                {
                    "connectorId": 1,
                    "transactionId": tx_id,
                    "meterValue": [
                        meter_value(t0 + timedelta(minutes=index), index * 100.0, amps=(16, 16, 0))
                    ],
                },
            ]
            await raw.send(json.dumps(frame))
        answers = [await raw.reply() for _ in range(500)]
    assert all(a[0] == 3 for a in answers)
    [tx] = central.open_transactions("BACKLOG")
    assert (tx.energy_wh, tx.current_a.l1, tx.energy_flagged) == (60_000.0, 9.0, False)
    stored = db_rows(
        central.config.db_path,
        "SELECT count(*) FROM meter_samples WHERE charge_point_id = 'BACKLOG'",
    )
    assert stored == [(501,)]
    await assert_unharmed(central, bystander)


async def test_a_frame_over_64_kib_closes_that_connection_only(
    central: CentralSystem, bystander: SimChargePoint, clock: FakeClock
) -> None:
    async with RawCharger.connect(central.port, "HUGE") as raw:
        tx_id = (
            await raw.call_ok(
                "StartTransaction",
                {"connectorId": 1, "idTag": "CARD-OK", "meterStart": 0, "timestamp": iso(clock())},
            )
        )["transactionId"]
        await raw.send(
            json.dumps([2, "big", "DataTransfer", {"vendorId": "x", "data": "z" * 70_000}])
        )
        with pytest.raises(ConnectionClosed) as closed:
            await raw.reply()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1009
    async with RawCharger.connect(central.port, "HUGE") as raw:  # it may come back
        await raw.call_ok("Heartbeat", {})
    assert central.open_transactions("HUGE")[0].id == str(tx_id)
    await assert_unharmed(central, bystander)


async def test_200_reconnects_in_a_burst(central: CentralSystem, bystander: SimChargePoint) -> None:
    async def connect_once(index: int) -> None:
        async with RawCharger.connect(central.port, "FLAPPING", "2.0.1") as raw:
            if index % 4 == 0:
                await raw.call_ok("Heartbeat", {})

    results = await asyncio.gather(*(connect_once(i) for i in range(200)), return_exceptions=True)
    assert [r for r in results if r is not None and not isinstance(r, ConnectionClosed)] == []
    async with RawCharger.connect(central.port, "FLAPPING", "2.0.1") as raw:
        await raw.call_ok("BootNotification", boot_v201())
        assert central.charge_points()["FLAPPING"].online
    await eventually(lambda: not central.charge_points()["FLAPPING"].online)
    await assert_unharmed(central, bystander)


async def test_a_charger_that_never_answers_times_out_and_leaves_nothing_stuck(
    tmp_path: Path,
) -> None:
    async with (
        running_central(central_config(tmp_path, call_timeout=0.3)) as central,
        RawCharger.connect(central.port, "MUTE") as raw,
    ):
        await raw.call_ok("Heartbeat", {})
        session = central._hub.sessions["MUTE"]
        first = asyncio.create_task(central.send("MUTE", "ClearCache", {}))
        second = asyncio.create_task(central.send("MUTE", "GetLocalListVersion", {}))
        call = await raw.next_call_from_central()
        assert call[2] == "ClearCache"  # only one CALL outstanding; the other waits its turn
        with pytest.raises(CallTimeout):
            await first
        call = await raw.next_call_from_central()
        assert call[2] == "GetLocalListVersion"
        await raw.send(json.dumps([3, call[1], {"listVersion": 7}]))
        assert await second == {"listVersion": 7}
        await raw.send(json.dumps([3, "late-answer", {"status": "Accepted"}]))  # dropped
        assert "currentTime" in await raw.call_ok("Heartbeat", {})
        assert session._pending is None
        assert not session._call_lock.locked()
        assert central._hub.sessions["MUTE"] is session
        assert not session.closed


async def test_boot_with_a_listener_that_sends_back_does_not_deadlock(
    central: CentralSystem, make_sim: SimFactory
) -> None:
    answers: list[dict[str, object]] = []

    def on_event(event: object) -> None:
        if type(event).__name__ == "ChargerBooted":
            task = asyncio.get_running_loop().create_task(central.send("ECHO", "ClearCache", {}))
            task.add_done_callback(lambda t: answers.append(t.result()))

    remove = central.add_listener(on_event)
    try:
        await make_sim("ECHO")
        await eventually(lambda: answers == [{"status": "Accepted"}])
    finally:
        remove()
