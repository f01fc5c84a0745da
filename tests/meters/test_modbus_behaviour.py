"""Modbus sources over real sockets and a pseudo-terminal: RTU framing, faults logged once per
episode, stale detection on a fake clock, implausible values kept out of use.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import tty
from collections.abc import AsyncIterator

import pytest

from custom_components.eflux.core.meters import Quality, build_source, parse_meter_config
from custom_components.eflux.core.meters.modbus_source import ModbusMeterSource
from sim.modbus_meter import ModbusBus, ModbusMeterSim
from tests.meters.conftest import SimFactory, modbus_config
from tests.meters.helpers import FakeClock, Readings, first_reading, until
from tests.support.ports import LOOPBACK, free_port

VALUES = {
    "voltage_l1": 230.0,
    "voltage_l2": 231.0,
    "voltage_l3": 232.0,
    "current_l1": 10.0,
    "current_l2": 11.0,
    "current_l3": 12.0,
    "power_l1": 2300.0,
    "power_l2": 2541.0,
    "power_l3": 2784.0,
    "total_power": 7625.0,
    "import_energy": 100.5,
    "export_energy": 2.5,
}


def modbus_source(port: int, clock: FakeClock | None = None, **extra: object) -> ModbusMeterSource:
    cfg = parse_meter_config(modbus_config("sdm630", port, **extra), where="test")
    source = build_source(cfg, clock=clock) if clock else build_source(cfg)
    assert isinstance(source, ModbusMeterSource)
    return source


async def test_rtu_framing_over_tcp(modbus_sim: SimFactory) -> None:
    _sim, port = await modbus_sim("em24", VALUES, rtu=True, device_id=7)
    cfg = modbus_config("em24", port, kind="modbus_rtu_over_tcp", device_id=7)
    reading = await first_reading(build_source(parse_meter_config(cfg, where="test")))
    assert reading.current_a == pytest.approx((10.0, 11.0, 12.0))
    assert reading.total_power_w == pytest.approx(7625.0)


@pytest.fixture
async def pty_pair() -> AsyncIterator[tuple[str, str]]:
    """Two raw pseudo-terminals whose master ends are wired together (a null-modem cable)."""
    loop = asyncio.get_running_loop()
    ends = [os.openpty() for _ in range(2)]
    for _master, slave in ends:
        tty.setraw(slave)
    (m1, s1), (m2, s2) = ends

    def relay(src: int, dst: int) -> None:
        with contextlib.suppress(OSError):  # a side closed between polls
            os.write(dst, os.read(src, 4096))

    loop.add_reader(m1, relay, m1, m2)
    loop.add_reader(m2, relay, m2, m1)
    yield os.ttyname(s1), os.ttyname(s2)
    loop.remove_reader(m1)
    loop.remove_reader(m2)
    for fd in (m1, s1, m2, s2):
        os.close(fd)


async def test_rtu_over_a_pseudo_terminal_pair(pty_pair: tuple[str, str]) -> None:
    server_port, client_port = pty_pair
    values = {"voltage_l1": 229.5, "power_l1": 1234.0, "total_power": 1234.0, "current_l1": 5.5}
    sim = ModbusMeterSim("sdm120", {**values, "import_energy": 10.0, "export_energy": 0.0})
    await sim.start_serial(server_port, baudrate=19200)
    cfg = parse_meter_config(
        {
            "name": "sub",
            "kind": "modbus_rtu",
            "serial_port": client_port,
            "baudrate": 19200,
            "profile": "sdm120",
            "poll_interval": 0.05,
            "request_timeout": 1.0,
            "timeout": 120,
        },
        where="test",
    )
    try:
        reading = await first_reading(build_source(cfg))
    finally:
        await sim.stop()
    assert reading.voltage_v[0] == pytest.approx(229.5)
    assert reading.current_a[0] == pytest.approx(5.5)
    assert reading.total_power_w == pytest.approx(1234.0)


async def test_silent_meter_turns_stale_after_its_timeout(modbus_sim: SimFactory) -> None:
    clock = FakeClock()
    sim, port = await modbus_sim("sdm630", VALUES)
    source = modbus_source(port, clock, timeout=10)
    readings = Readings(source)
    assert source.status is Quality.STALE  # never read yet: the safe side
    await source.start()
    try:
        await readings.next()
        assert source.status is Quality.OK
        sim.fault = "silent"
        failed = source.failed_polls
        await until(lambda: source.failed_polls > failed, "a poll timed out")
        clock.advance(9.9)
        assert source.status is Quality.OK
        assert not source.check_stale()
        clock.advance(0.2)
        assert source.status is Quality.STALE
        latest = source.latest
        assert latest is not None
        assert latest.quality is Quality.STALE
        assert source.check_stale()
        assert source.check_stale()
        assert [r.quality for r in readings.items].count(Quality.STALE) == 1  # told once
        seen = len(readings.items)
        sim.fault = None
        await readings.next(lambda r: r.quality is Quality.OK, after=seen)
        assert source.status is Quality.OK  # recovers by itself
    finally:
        await source.stop()


@pytest.mark.parametrize(
    ("fault", "kind_text"),
    [("exception", "Modbus exception 4"), ("short", "wrong length"), ("silent", "no answer")],
)
async def test_fault_is_logged_once_per_episode(
    modbus_sim: SimFactory, caplog: pytest.LogCaptureFixture, fault: str, kind_text: str
) -> None:
    sim, port = await modbus_sim("sdm630", VALUES)
    source = modbus_source(port)
    readings = Readings(source)
    caplog.set_level(logging.INFO, logger="custom_components.eflux.core.meters")
    await source.start()
    try:
        await readings.next()
        sim.fault = fault
        await until(lambda: source.failed_polls >= 4, "four failed polls")
        assert sum(kind_text in r.getMessage() for r in caplog.records) == 1
        seen = len(readings.items)
        sim.fault = None
        await readings.next(after=seen)
        assert sum("recovered after" in r.getMessage() for r in caplog.records) == 1
        # a second episode is logged again
        sim.fault = fault
        failed = source.failed_polls
        await until(lambda: source.failed_polls >= failed + 2, "two more failed polls")
        assert sum(kind_text in r.getMessage() for r in caplog.records) == 2
    finally:
        await source.stop()


async def test_unreachable_meter_backs_off_and_connects_when_it_appears(
    caplog: pytest.LogCaptureFixture,
) -> None:
    port = free_port()
    source = modbus_source(port)
    readings = Readings(source)
    caplog.set_level(logging.WARNING, logger="custom_components.eflux.core.meters")
    await source.start()
    sim = ModbusMeterSim("sdm630", VALUES)
    try:
        await until(lambda: source.failed_polls >= 2, "two failed connects")
        assert source.backoff.failures >= 2
        assert sum("cannot connect" in r.getMessage() for r in caplog.records) == 1
        await sim.start_tcp(LOOPBACK, port)
        reading = await readings.next()
        assert reading.total_power_w == pytest.approx(7625.0)
        assert source.backoff.failures == 0
    finally:
        await source.stop()
        await sim.stop()


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"voltage_l2": -3.0}, "voltage_v[L2] is negative"),
        ({"current_l1": math.nan}, "current_a[L1] is not a finite number"),
        ({"current_l3": 251.0}, "current_a[L3] = 251.0 exceeds 10 x fuse"),
        ({"power_l1": 60_000.0}, "power_w[L1] = 60000.0 exceeds 10 x fuse"),
    ],
)
async def test_implausible_values_are_marked_and_not_used(
    modbus_sim: SimFactory, change: dict[str, float], problem: str
) -> None:
    clock = FakeClock()
    sim, port = await modbus_sim("sdm630", VALUES)
    source = modbus_source(port, clock, fuse_a=25, timeout=10)
    readings = Readings(source)
    await source.start()
    try:
        await readings.next()
        seen = len(readings.items)
        sim.set_values({**VALUES, **change})
        bad = await readings.next(lambda r: r.quality is not Quality.OK, after=seen)
        assert bad.quality is Quality.IMPLAUSIBLE
        assert any(problem in p for p in bad.problems), bad.problems
        assert source.status is Quality.IMPLAUSIBLE
        # implausible readings do not count as good: the meter goes stale on time
        clock.advance(11)
        assert source.status is Quality.STALE
    finally:
        await source.stop()


async def test_two_meters_on_one_rs485_bus_share_the_port(pty_pair: tuple[str, str]) -> None:
    server_port, client_port = pty_pair
    grid = ModbusMeterSim("sdm630", VALUES, device_id=1)
    heat_pump = ModbusMeterSim("sdm120", {"power_l1": 1800.0, "total_power": 1800.0}, device_id=2)
    bus = ModbusBus([grid, heat_pump])
    await bus.start_serial(server_port, baudrate=19200)

    def on_bus(name: str, profile: str, device_id: int) -> ModbusMeterSource:
        cfg = {"name": name, "kind": "modbus_rtu", "serial_port": client_port, "baudrate": 19200,
               "profile": profile, "device_id": device_id, "poll_interval": 0.05,
               "request_timeout": 0.3, "timeout": 120}  # fmt: skip
        source = build_source(parse_meter_config(cfg, where="test"))
        assert isinstance(source, ModbusMeterSource)
        return source

    sources = [on_bus("grid", "sdm630", 1), on_bus("heat_pump", "sdm120", 2)]
    readings = [Readings(s) for s in sources]
    for source in sources:
        await source.start()
    try:
        for _ in range(5):  # polls of both keep coming, none garbled by the other's frames
            seen = [len(r.items) for r in readings]
            got = [await r.next(after=n) for r, n in zip(readings, seen, strict=True)]
            assert got[0].total_power_w == pytest.approx(7625.0)
            assert got[1].total_power_w == pytest.approx(1800.0)
        assert sources[0]._line is sources[1]._line
        # one silent device does not take its neighbour down
        heat_pump.fault = "silent"
        failed = sources[1].failed_polls
        await until(lambda: sources[1].failed_polls > failed + 1, "the heat pump timed out")
        seen_grid = len(readings[0].items)
        assert (await readings[0].next(after=seen_grid)).total_power_w == pytest.approx(7625.0)
    finally:
        for source in sources:
            await source.stop()
        await bus.stop()
    assert all(s.episodes.episodes <= 1 for s in sources)


async def test_a_meter_that_never_answers_is_announced_stale_after_its_timeout() -> None:
    clock = FakeClock()
    source = modbus_source(free_port(), clock, timeout=10)
    readings = Readings(source)
    await source.start()
    try:
        await until(lambda: source.failed_polls >= 1, "a failed connect")
        assert source.status is Quality.STALE  # not usable: the safe side
        assert source.check_stale()
        assert readings.items == []  # but the first poll gets its chance before an alarm
        clock.advance(10.5)
        assert source.check_stale()
        assert [r.quality for r in readings.items] == [Quality.STALE]
        assert readings.items[0].total_power_w is None
    finally:
        await source.stop()
