"""The planner's routes of the local API on a real socket with simulated chargers: a circuit
limit set while running (and refused when hostile), and a card that names its driver and car
(from site.yaml and through the API) planning the session it starts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from custom_components.eflux.core.config import parse_site_config
from custom_components.eflux.core.meters.reading import MeterReading
from sim.chargepoint import Car, SimChargePoint
from tests.central.support import eventually

from .support import TOKEN, Api, serving


async def eventually_async(
    read: Callable[[], Awaitable[Any]], ok: Callable[[Any], bool], tries: int = 100
) -> None:
    seen = None
    for _ in range(tries):
        seen = await read()
        if ok(seen):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never reached: last {seen!r}")


EVERY_DAY = dict.fromkeys(("mon", "tue", "wed", "thu", "fri", "sat", "sun"), "07:00")


@pytest_asyncio.fixture
async def api(tmp_path: Path, unused_port: Callable[[], int]) -> AsyncIterator[Api]:
    config = parse_site_config(
        {
            "central": {"host": "127.0.0.1", "port": 0, "free_charging": True},
            "circuits": [{"id": "grid", "limit_a": 25}],
            # Every pass gives the ideal allocation at once (real time runs in this test).
            "site": {
                "tuning": {"ramp_step_a": "none", "hysteresis_a": 0, "min_change_interval_s": 0}
            },
            "meters": [{"name": "p1", "circuit": "grid", "kind": "external"}],
            "chargers": [
                {"id": "garage", "circuit": "grid", "charge_point": "PLAN-CP", "mode": "smart"},
                {"id": "drive", "circuit": "grid", "charge_point": "PLAN-201", "mode": "smart"},
                {
                    "id": "sw",
                    "circuit": "grid",
                    "charge_point": "PLAN-SW",
                    "can_switch_phases": True,
                },
            ],
            "cars": [{"id": "zoe", "name": "Zoe", "battery_kwh": 52, "phases": 3}],
            "cards": [{"id": "BRAM-CARD", "driver": "Bram", "car": "zoe"}],
            "api": {"host": "127.0.0.1", "token": TOKEN},
        },
        base_dir=tmp_path,
    )
    async with serving(config, unused_port()) as served:
        yield served


async def sim(api: Api, cp_id: str, version: str, car: Car) -> SimChargePoint:
    charger = SimChargePoint(
        f"ws://127.0.0.1:{api.site.central.port}", cp_id, version, meter_interval=3600, car=car
    )
    await charger.start()
    return charger


async def test_a_circuit_limit_through_the_api_and_hostile_ones_change_nothing(
    api: Api,
) -> None:
    charger = await sim(api, "PLAN-CP", "1.6", Car(soc=20.0))
    try:
        await api.call("POST", "/api/chargers/garage/mode", {"mode": "dynamic"})
        await charger.plug_in("CARD")
        await eventually(lambda: charger.transaction is not None)

        async def limit() -> float | None:
            meter = api.site.external_meter("p1")  # the house draws nothing but the car
            meter.push(MeterReading("p1", datetime.now(UTC), current_a=(0.0, 0.0, 0.0)))
            await charger.sample_now()
            _, one = await api.call("GET", "/api/chargers/garage")
            return one["limit_a"]

        await eventually_async(lambda: limit(), lambda amps: amps == 16.0)
        hostile: list[tuple[str, Any]] = [
            ("grid", {"limit_a": -3}),
            ("grid", {"limit_a": "ten"}),
            ("grid", {"limit_a": [10, 10]}),
            ("grid", {"limit_a": 10, "expires_at": "2001-01-01T00:00:00+00:00"}),
            ("grid", {"limit_a": 10, "expires_at": "tomorrow"}),
            ("grid", {"limit_a": 10, "expires_at": "2030-01-01T00:00:00"}),
            ("grid", {"limit_a": 10, "duration_s": 60, "expires_at": "2030-01-01T00:00:00Z"}),
            ("grid", {"limit_a": 10, "duration_s": -5}),
            ("grid", {"limit_a": 10, "colour": "red"}),
            ("grid", {"limit_a": float("nan")}),
            ("grid", {}),
            ("grid", [10]),
        ]
        for circuit, body in hostile:
            status, answer = await api.call("PUT", f"/api/circuits/{circuit}/limit", body)
            assert status == 400, (body, answer)
            assert answer["error"] == "bad_request"
        status, answer = await api.call("PUT", "/api/circuits/basement/limit", {"limit_a": 10})
        assert status == 404
        _, circuits = await api.call("GET", "/api/circuits")
        assert circuits["circuits"][0]["override"] is None  # nothing of them stayed
        body = {"limit_a": [10, 12, 40], "duration_s": 900, "reason": "grid operator"}
        status, answer = await api.call("PUT", "/api/circuits/grid/limit", body)
        assert status == 200
        assert answer["override"]["limit_a"] == [10, 12, 25]  # never above the fuse
        assert answer["override"]["reason"] == "grid operator"
        expires = datetime.fromisoformat(answer["override"]["expires_at"])
        assert 0 < (expires - datetime.now(UTC)).total_seconds() <= 900
        _, circuits = await api.call("GET", "/api/circuits")
        assert circuits["circuits"][0]["limit_a"] == [10, 12, 25]
        _, site = await api.call("GET", "/api/site")
        assert site["circuit_limits"]["grid"]["limit_a"] == [10, 12, 25]
        # The car is lowered to the lowest phase of the limit, and keeps charging.
        await eventually_async(lambda: limit(), lambda amps: amps == 10.0)
        status, answer = await api.call("DELETE", "/api/circuits/grid/limit")
        assert (status, answer["cleared"]) == (200, True)
        _, site = await api.call("GET", "/api/site")
        assert site["circuit_limits"] == {}
    finally:
        await charger.close()


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_a_card_names_the_car_the_session_is_planned_with(api: Api, version: str) -> None:
    cp_id, ident = ("PLAN-CP", "garage") if version == "1.6" else ("PLAN-201", "drive")
    hostile = [
        {"car": {"battery_kwh": -5}},
        {"car": {"phases": 2}},
        {"car": {"departures": {"someday": "07:00"}}},
        {"car": {"departures": {"mon": "25:00"}}},
        {"car": {"battery_kwh": 50, "wheels": 4}},
        {"driver": 7},
        {"car": [1, 2]},
    ]
    for body in hostile:
        status, answer = await api.call("PUT", "/api/cards/ANNA-CARD/vehicle", body)
        assert status == 400, (body, answer)
    status, _ = await api.call("GET", "/api/cards/ANNA-CARD/vehicle")
    assert status == 404  # nothing of them stayed
    car = {"name": "ID.3", "battery_kwh": 58, "target_soc": 80, "departures": EVERY_DAY}
    status, answer = await api.call(
        "PUT", "/api/cards/ANNA-CARD/vehicle", {"driver": "Anna", "car": car}
    )
    assert status == 200
    assert answer["car"]["departures"]["mon"] == "07:00"
    _, again = await api.call("GET", "/api/cards/ANNA-CARD/vehicle")
    assert again == answer
    _, bram = await api.call("GET", "/api/cards/BRAM-CARD/vehicle")  # from site.yaml
    assert (bram["driver"], bram["car"]["battery_kwh"]) == ("Bram", 52)
    charger = await sim(api, cp_id, version, Car(soc=30.0, battery_kwh=58.0))
    try:
        await charger.plug_in("ANNA-CARD")
        await eventually(lambda: charger.transaction is not None)

        async def state() -> dict[str, Any]:
            _, one = await api.call("GET", f"/api/chargers/{ident}")
            return one

        for _ in range(100):
            if (await state())["ready_by_departure"] is not None:
                break
            await charger.sample_now()
        one = await state()
        # Nobody stated a departure: the card's car leaves at 07:00 and wants 80 %.
        assert (one["driver"], one["car"]) == ("Anna", "ID.3")
        departure = datetime.fromisoformat(one["departure_at"])
        assert (departure.hour, departure.minute) == (7, 0)
        plan = api.site.controller.car_plan(ident)
        assert plan is not None
        assert plan.energy_needed_kwh == pytest.approx(58 * (80 - one["soc"]) / 100 / 0.9)
    finally:
        await charger.close()


async def test_phases_through_the_api(api: Api) -> None:
    for ident, body, status in (
        ("sw", {"mode": "2"}, 400),
        ("sw", {"mode": 1}, 400),
        ("sw", {"mode": "1", "now": True}, 400),
        ("garage", {"mode": "1"}, 409),  # cannot switch
        ("nope", {"mode": "1"}, 404),
    ):
        got, answer = await api.call("PUT", f"/api/chargers/{ident}/phases", body)
        assert got == status, (ident, body, answer)
    _, before = await api.call("GET", "/api/chargers/sw")
    assert (before["phase_mode"], before["phases_in_use"]) == ("auto", 3)
    status, answer = await api.call("PUT", "/api/chargers/sw/phases", {"mode": "1"})
    assert status == 200
    assert (answer["phase_mode"], answer["phases_in_use"]) == ("1", 1)
    _, garage = await api.call("GET", "/api/chargers/garage")
    assert garage["phase_mode"] is None
