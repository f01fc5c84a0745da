"""The demo's grid meter (household + the cars' real draw, over a real Modbus TCP server, read
back with the product's own SDM630 source) and its fuse judge; the table and summary text."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from custom_components.eflux.core.meters.build import build_source
from custom_components.eflux.core.meters.config import parse_meter_config
from custom_components.eflux.core.meters.reading import MeterReading
from sim.chargepoint import Car, SimChargePoint
from sim.chargepoint.transaction import SimTransaction
from sim.demo.grid import GridMeter, MeteredCharger
from sim.demo.procs import free_port
from sim.demo.report import CarRow, summary, table
from sim.household import HouseholdProfile, Run, SimClock

AMS = ZoneInfo("Europe/Amsterdam")


def charging_sim(amps: float, phases: int) -> SimChargePoint:
    """A simulated charger with a car drawing `amps` per phase (no central system needed)."""
    sim = SimChargePoint(
        "ws://127.0.0.1:1", "T", car=Car(phases=phases, max_current_a=amps), max_current_a=amps
    )
    sim.plugged = True
    sim.transaction = SimTransaction(1, "CARD", datetime.now(UTC), 0.0)
    return sim


def meter(*chargers: MeteredCharger, fuse: float = 25.0) -> GridMeter:
    clock = SimClock(datetime(2026, 12, 1, 3, 0, tzinfo=AMS), 1.0)
    house = HouseholdProfile(base_w=(230.0, 460.0, 690.0), runs=(), timezone="Europe/Amsterdam")
    return GridMeter(clock, chargers, fuse, house)


async def test_serves_household_plus_cars_per_wired_phase_over_modbus() -> None:
    three = MeteredCharger(charging_sim(10.0, 3), (0, 1, 2))
    one_on_l3 = MeteredCharger(charging_sim(8.0, 1), (2,))
    grid = meter(three, one_on_l3)
    port = free_port()
    await grid.start(port, tick_s=0.05)
    source = build_source(
        parse_meter_config(
            {"name": "grid", "kind": "modbus_tcp", "profile": "sdm630", "host": "127.0.0.1",
             "port": port, "poll_interval": 0.05},
            where="test",
        )
    )  # fmt: skip
    readings: list[MeterReading] = []
    source.add_listener(readings.append)
    try:
        sample = grid.tick()
        await source.start()
        for _ in range(100):
            if readings:
                break
            await asyncio.sleep(0.05)
    finally:
        await source.stop()
        await grid.stop()
    assert sample.current_a == (11.0, 12.0, 21.0)  # 1/2/3 A of house + 10 A + 8 A on L3
    assert sample.chargers_a == (10.0, 10.0, 18.0)
    reading = readings[-1]
    assert reading.current_a == pytest.approx((11.0, 12.0, 21.0), abs=1e-4)
    assert reading.power_w == pytest.approx((2530.0, 2760.0, 4830.0), abs=0.1)
    assert reading.total_power_w == pytest.approx(10120.0, abs=0.1)


def test_every_tick_over_the_fuse_is_recorded() -> None:
    grid = meter(MeteredCharger(charging_sim(16.0, 3), (0, 1, 2)), fuse=18.0)
    for _ in range(3):
        grid.tick()
    record = grid.record
    assert record.ticks == 4  # one at construction
    assert record.highest_a == [17.0, 18.0, 19.0]
    assert record.exceeded
    assert {phase for _, phase, _ in record.over} == {2}
    assert "RESULT: FAIL (the fuse was exceeded)" in summary(record, [], AMS)
    assert "EXCEEDED on 4 of 4 ticks" in summary(record, [], AMS)


def test_at_the_fuse_is_not_over_it() -> None:
    grid = meter(MeteredCharger(charging_sim(16.0, 3), (0, 1, 2)), fuse=19.0)
    grid.tick()
    assert not grid.record.exceeded
    text = summary(grid.record, [], AMS)
    assert "highest phase current: 19.0 A on L3 (fuse 19 A)" in text
    assert text.endswith("RESULT: OK")


def test_a_ramping_appliance_shows_up_in_the_meter() -> None:
    house = HouseholdProfile(runs=(Run("heater", 3 * 3600.0, 600.0, 2300.0, (1,)),), ramp_s=0)
    clock = SimClock(datetime(2026, 12, 1, 3, 5, tzinfo=AMS), 1.0)
    sample = GridMeter(clock, [], 25.0, house).tick()
    assert sample.household.running == ("heater",)
    assert sample.current_a[1] == pytest.approx((120.0 + 2300.0) / 230.0, abs=0.01)


def test_table_and_summary_text() -> None:
    grid = meter(MeteredCharger(charging_sim(16.0, 3), (0, 1, 2)), fuse=18.0)
    sample = grid.tick()
    departure = datetime(2026, 12, 1, 7, 30, tzinfo=AMS)
    row = CarRow("garage", "Model Y", "1.6", 3, "Charging", 16.0, 16.0, 40.0, 1.25,
                 departure, datetime(2026, 12, 1, 9, 0, tzinfo=AMS), False)  # fmt: skip
    text = table(sample, 18.0, [row], "18:20 (x60)", AMS)
    assert "L3  19.0 A / 18 A" in text
    assert "OVER THE FUSE" in text
    assert "garage" in text
    assert "09:00" in text
    assert "07:30" in text
    end = summary(grid.record, [row], AMS, {"broker": "mosquitto"})
    assert "garage    Model Y            1.250 kWh" in end
    assert "will NOT be ready" in end
    assert "broker: mosquitto" in end
