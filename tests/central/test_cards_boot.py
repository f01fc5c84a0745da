"""Card statuses, groups and the master pass; the boot policy (Pending until approved) - over
real websockets with raw frames and sim chargers."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from custom_components.eflux.core.central import AuthorizationSettings
from custom_components.eflux.core.central.errors import NotReady
from custom_components.eflux.core.cloud.client import _card
from custom_components.eflux.core.domain import Card, CardListDelta, CardStatus
from sim.chargepoint import SimChargePoint

from .support import T0, FakeClock, RawCharger, boot_v16, boot_v201, central_config, iso
from .support import running_central as running

CARDS = AuthorizationSettings(
    cards=frozenset({"PLAIN-OK"}),
    card_entries=(
        Card("BLOCKED-1", CardStatus.BLOCKED),
        Card("OLD-1", CardStatus.ACTIVE, expires_at=T0 - timedelta(days=1)),
        Card("INVALID-1", CardStatus.INVALID),
        Card("STAFF-1", CardStatus.ACTIVE, group_id="STAFF"),
        Card("MASTER-1", CardStatus.ACTIVE, group_id="MASTER"),
    ),
    master_pass_group="MASTER",
)


async def _authorize_16(raw: RawCharger, tag: str) -> dict[str, Any]:
    return dict((await raw.call_ok("Authorize", {"idTag": tag}))["idTagInfo"])


async def _answer(raw: RawCharger, call: list[Any], payload: dict[str, Any]) -> None:
    await raw.send(json.dumps([3, call[1], payload]))


async def _next_call(raw: RawCharger, action: str) -> list[Any]:
    """The next CALL `action` from the central system; others are answered Accepted/empty."""
    while True:
        call = await raw.next_call_from_central()
        if call[2] == action:
            return call
        generic = {"GetConfiguration": {"configurationKey": []}}
        await _answer(raw, call, generic.get(call[2], {"status": "Accepted"}))


async def test_card_statuses_and_groups_on_both_versions(tmp_path: Path) -> None:
    config = central_config(tmp_path, authorization=CARDS)
    async with running(config, FakeClock()) as central:
        async with RawCharger.connect(central.port, "CARDS16") as raw:
            await raw.call_ok("BootNotification", boot_v16())
            expected = {
                "PLAIN-OK": "Accepted",
                "BLOCKED-1": "Blocked",
                "OLD-1": "Expired",
                "INVALID-1": "Invalid",
                "UNKNOWN": "Invalid",
            }
            for tag, status in expected.items():
                assert (await _authorize_16(raw, tag))["status"] == status, tag
            staff = await _authorize_16(raw, "staff-1")  # case does not matter
            assert (staff["status"], staff["parentIdTag"]) == ("Accepted", "STAFF")
        async with RawCharger.connect(central.port, "CARDS201", "2.0.1") as raw:
            await raw.call_ok("BootNotification", boot_v201())
            answer = await raw.call_ok(
                "Authorize", {"idToken": {"idToken": "STAFF-1", "type": "ISO14443"}}
            )
            assert answer["idTokenInfo"]["groupIdToken"] == {"idToken": "STAFF", "type": "Central"}
            answer = await raw.call_ok(
                "Authorize", {"idToken": {"idToken": "OLD-1", "type": "ISO14443"}}
            )
            assert answer["idTokenInfo"]["status"] == "Expired"


async def test_a_site_card_set_at_runtime_wins_over_the_configuration_and_persists(
    tmp_path: Path,
) -> None:
    config = central_config(tmp_path, authorization=CARDS)
    async with running(config, FakeClock()) as central:
        await central.set_card(Card("plain-ok", CardStatus.BLOCKED, group_id="X"))
        result = await central.authorize("PLAIN-OK")
        assert (result.status, result.source, result.group_id) == ("Blocked", "site", "X")
    async with running(config, FakeClock()) as central:
        assert (await central.authorize("PLAIN-OK")).status == "Blocked"
        assert [c.uid for c in central.cards()["site"]] == ["PLAIN-OK"]
        assert await central.remove_card("Plain-Ok")
        assert not await central.remove_card("PLAIN-OK")
        assert (await central.authorize("PLAIN-OK")).source == "config"


async def test_the_master_pass_stops_any_session_on_1_6_and_starts_none(tmp_path: Path) -> None:
    config = central_config(tmp_path, authorization=CARDS)
    async with (
        running(config, FakeClock()) as central,
        RawCharger.connect(central.port, "MASTER16") as raw,
    ):
        await raw.call_ok("BootNotification", boot_v16())
        started = await raw.call_ok(
            "StartTransaction",
            {"connectorId": 1, "idTag": "PLAIN-OK", "meterStart": 0, "timestamp": iso(T0)},
        )
        info = await _authorize_16(raw, "MASTER-1")
        assert (info["status"], info["parentIdTag"]) == ("Accepted", "MASTER")
        stop = await _next_call(raw, "RemoteStopTransaction")
        assert stop[3] == {"transactionId": started["transactionId"]}
        await _answer(raw, stop, {"status": "Accepted"})
        refused = await raw.call_ok(
            "StartTransaction",
            {"connectorId": 2, "idTag": "MASTER-1", "meterStart": 0, "timestamp": iso(T0)},
        )
        assert refused["idTagInfo"]["status"] == "Blocked"


async def test_2_0_1_master_pass_group_is_set_on_the_charger(tmp_path: Path) -> None:
    config = central_config(tmp_path, authorization=CARDS)
    clock = FakeClock()
    async with running(config, clock) as central:
        sim = SimChargePoint(
            f"ws://127.0.0.1:{central.port}",
            "MASTER201",
            "2.0.1",
            clock=clock,
            configuration={"AuthCtrlr.MasterPassGroupId": ""},
        )
        await sim.start()
        try:
            await sim.wait_for(lambda: sim.configuration["AuthCtrlr.MasterPassGroupId"] == "MASTER")
        finally:
            await sim.close()


async def test_cloud_cards_carry_their_group_to_the_charger_and_across_a_restart(
    tmp_path: Path,
) -> None:
    config = central_config(tmp_path)
    clock = FakeClock()
    delta = CardListDelta(0, 3, (Card("CLOUD-1", CardStatus.ACTIVE, group_id="FLEET"),))
    async with running(config, clock) as central:
        await central.apply_card_delta(delta)
    async with running(config, clock) as central:
        assert (await central.authorize("CLOUD-1")).group_id == "FLEET"
        sim = SimChargePoint(f"ws://127.0.0.1:{central.port}", "LIST16", clock=clock)
        await sim.start()
        try:
            await sim.wait_for(lambda: bool(sim.calls("SendLocalList")))
            entry = sim.calls("SendLocalList")[0]["localAuthorizationList"][0]
            assert entry["idTagInfo"]["parentIdTag"] == "FLEET"
        finally:
            await sim.close()


def test_the_cloud_may_send_a_group_and_statuses_this_version_does_not_know() -> None:
    base = {"uid": "C1", "status": "active", "kind": "subscription"}
    assert _card(base).group_id is None
    assert _card({**base, "group_id": "FLEET"}).group_id == "FLEET"
    assert _card({**base, "status": "suspended-for-audit"}).status is CardStatus.INVALID


async def test_pending_until_approved_with_configuration_sent_meanwhile(tmp_path: Path) -> None:
    config = central_config(
        tmp_path,
        accept_new_chargers=False,
        boot_policy="pending",
        known_charge_points=frozenset({"LISTED"}),
    )
    async with running(config, FakeClock()) as central:
        async with RawCharger.connect(central.port, "LISTED") as raw:
            assert (await raw.call_ok("BootNotification", boot_v16()))["status"] == "Accepted"
        async with RawCharger.connect(central.port, "NEWBIE") as raw:
            answer = await raw.call_ok("BootNotification", boot_v16())
            assert (answer["status"], answer["interval"]) == ("Pending", 60)
            assert central.pending_charge_points() == ["NEWBIE"]
            assert central.charge_points()["NEWBIE"].boot_status == "Pending"
            # configuration is read (and set) while Pending
            read = await raw.next_call_from_central()
            assert read[2] == "GetConfiguration"
            await _answer(raw, read, {"configurationKey": []})
            with pytest.raises(NotReady):
                await central.remote_start("NEWBIE", 1, "PLAIN-OK")
            approval = asyncio.create_task(central.approve("NEWBIE"))
            trigger = await _next_call(raw, "TriggerMessage")
            assert trigger[3] == {"requestedMessage": "BootNotification"}
            await _answer(raw, trigger, {"status": "Accepted"})
            await approval
            assert (await raw.call_ok("BootNotification", boot_v16()))["status"] == "Accepted"
            assert central.pending_charge_points() == []
    async with (
        running(config, FakeClock()) as central,  # the approval is kept
        RawCharger.connect(central.port, "NEWBIE") as raw,
    ):
        assert (await raw.call_ok("BootNotification", boot_v16()))["status"] == "Accepted"


async def test_a_file_from_before_card_groups_is_upgraded_in_place(tmp_path: Path) -> None:
    import sqlite3

    config = central_config(tmp_path)
    with sqlite3.connect(
        config.db_path
    ) as db:  # the cards tables as the previous release made them
        db.execute(
            "CREATE TABLE cards (uid TEXT PRIMARY KEY, status TEXT NOT NULL, kind TEXT NOT NULL,"
            " expires_at TEXT, may_start INTEGER NOT NULL, version INTEGER NOT NULL)"
        )
        db.execute("INSERT INTO cards VALUES ('OLD-CARD', 'active', 'subscription', NULL, 1, 4)")
        db.execute(
            "CREATE TABLE remote_authorizations (uid TEXT PRIMARY KEY, status TEXT, kind TEXT,"
            " expires_at TEXT, may_start INTEGER, known INTEGER NOT NULL, fetched_at TEXT NOT NULL)"
        )
        db.execute("CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        db.execute("INSERT INTO settings VALUES ('card_list_version', '4')")
    async with running(config, FakeClock()) as central:
        result = await central.authorize("OLD-CARD")
        assert (result.status, result.source, result.group_id) == ("Accepted", "local-list", None)
        delta = CardListDelta(4, 5, (Card("OLD-CARD", CardStatus.ACTIVE, group_id="FLEET"),))
        await central.apply_card_delta(delta)
    async with running(config, FakeClock()) as central:
        assert (await central.authorize("OLD-CARD")).group_id == "FLEET"
