"""`LocalSite` as the one door: commands by charger id reach the right box and socket, and the
read models (central events, balancing passes, charge points, prices) come from it alone.

A real central system and a simulated dual-socket box: socket 2 is the charger `box:2`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import pytest_asyncio

from custom_components.eflux.core.config import parse_site_config
from custom_components.eflux.core.runtime import (
    BalanceResult,
    CentralEvent,
    ChargerBooted,
    LocalSite,
)
from sim.chargepoint import SimChargePoint
from tests.central.support import eventually

SOCKET_2 = "box:2"


@pytest_asyncio.fixture
async def door(tmp_path: Path) -> AsyncIterator[tuple[LocalSite, SimChargePoint, list[object]]]:
    config = parse_site_config(
        {
            "central": {"host": "127.0.0.1", "port": 0, "free_charging": True},
            "circuits": [{"id": "grid", "limit_a": 25}],
            "meters": [{"name": "p1", "circuit": "grid", "kind": "external"}],
            "chargers": [
                {"id": "box", "circuit": "grid", "charge_point": "BOX-CP"},
                {
                    "id": SOCKET_2,
                    "circuit": "grid",
                    "charge_point": "BOX-CP",
                    "connector": 2,
                    "max_current_a": 20,
                },
            ],
            "api": {"enabled": False},
        },
        base_dir=tmp_path,
    )
    site = LocalSite(config)
    seen: list[object] = []
    await site.start()
    site.add_event_listener(seen.append)
    box = SimChargePoint(
        f"ws://127.0.0.1:{site.central.port}",
        "BOX-CP",
        connectors=2,
        reconnect_delay=0.05,
        meter_interval=3600,
    )
    try:
        await box.start()
        yield site, box, seen
    finally:
        await box.close()
        await site.stop()


async def test_commands_name_a_socket_by_its_charger_id(
    door: tuple[LocalSite, SimChargePoint, list[object]],
) -> None:
    site, box, _ = door

    limit = await site.set_current_limit(SOCKET_2, 8.0)
    assert (limit.amps, limit.status) == (8.0, "Accepted")
    on_socket_2 = [
        p["csChargingProfiles"]["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"]
        for p in box.calls("SetChargingProfile")
        if p["connectorId"] == 2
    ]
    assert 8.0 in on_socket_2

    answer = await site.send_ocpp(SOCKET_2, "UnlockConnector", {"connectorId": 2})
    assert answer == {"status": "Unlocked"}
    assert box.calls("UnlockConnector") == [{"connectorId": 2}]

    # Availability is the whole box's (connector 0), whichever socket asks.
    assert await site.set_availability(SOCKET_2, False) == "Accepted"
    assert box.calls("ChangeAvailability")[-1] == {"connectorId": 0, "type": "Inoperative"}
    assert await site.set_availability("box", True) == "Accepted"
    assert box.calls("ChangeAvailability")[-1] == {"connectorId": 0, "type": "Operative"}

    assert site.binding(SOCKET_2).connector_id == 2
    assert site.charger_max_current(SOCKET_2) == 20.0
    assert site.reservations(SOCKET_2) == []
    assert await site.cancel_reservation(SOCKET_2) is None


async def test_an_unknown_charger_id_sends_nothing(
    door: tuple[LocalSite, SimChargePoint, list[object]],
) -> None:
    site, box, _ = door
    received = len(box.received)
    until = datetime.now(UTC) + timedelta(hours=1)
    for command in (
        site.set_current_limit("BOX-CP:3", 8.0),
        site.set_availability("nope", False),
        site.send_ocpp("nope", "Reset", {"type": "Soft"}),
        site.reserve("nope", "CARD", until),
        site.cancel_reservation("nope"),
        site.start_charging("nope"),
        site.stop_charging("nope"),
    ):
        with pytest.raises(KeyError, match="unknown charger"):
            await command
    with pytest.raises(KeyError, match="unknown charger"):
        site.charger_max_current("nope")
    assert len(box.received) == received


async def test_read_models_come_through_the_door(
    door: tuple[LocalSite, SimChargePoint, list[object]],
) -> None:
    site, _, seen = door
    assert any(isinstance(e, ChargerBooted) and e.charge_point_id == "BOX-CP" for e in seen)
    assert all(isinstance(e, CentralEvent) for e in seen)
    assert site.charge_points()["BOX-CP"].booted_at is not None

    passes: list[BalanceResult] = []
    remove = site.add_pass_listener(passes.append)
    await site.set_max_current(SOCKET_2, 10.0)
    site.recompute()
    assert passes[-1].chargers[SOCKET_2].charger_id == SOCKET_2
    remove()
    count = len(passes)
    site.recompute()
    assert len(passes) == count

    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    assert await site.push_prices([{"start": hour.isoformat(), "price": "0.31"}]) == 1
    assert (site.price_now().price, site.price_now().source) == (Decimal("0.31"), "pushed")
    assert site.price_table()[0].price == Decimal("0.31")
    await site.clear_prices()
    assert site.price_now().source != "pushed"
    with pytest.raises(ValueError, match=r"prices\[0\]"):
        await site.push_prices([{"start": "yesterday", "price": "0.31"}])
    await eventually(lambda: site.state().chargers[SOCKET_2].max_current_a == 10.0)
