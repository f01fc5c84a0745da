"""Our Modbus client code against every pymodbus the manifest admits (`pymodbus>=3.8.3,<4`).

Home Assistant pins pymodbus for its own `modbus` integration (3.8.3 in 2025.4, 3.13.1 in
2026.7), so the integration must work on whichever it finds. `scripts/test` runs this file (and
the meter tests that need no in-process simulator) in `.venv-pymodbus-min` with the lowest
version too. The meter is a separate process, as a real meter is: `sim.modbus_meter` on the
project's own pymodbus (`$EFLUX_SIM_PYTHON`, default this interpreter), so the client under
test is the only pymodbus in this process. Self-contained: no conftest fixture is needed.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest

from custom_components.eflux.core.meters import (
    MeterProbeError,
    MeterReading,
    Quality,
    build_source,
    parse_meter_config,
    probe,
)

ROOT = Path(__file__).resolve().parents[2]
SIM_PYTHON = os.environ.get("EFLUX_SIM_PYTHON", sys.executable)
GRID = {
    "current_l1": 10.5,
    "current_l2": 4.25,
    "current_l3": 0.75,
    "voltage_l1": 230.0,
    "voltage_l2": 231.0,
    "voltage_l3": 229.0,
}
Device = Callable[..., Awaitable[int]]


def _free_port() -> int:
    with socket.socket() as probe_socket:
        probe_socket.bind(("127.0.0.1", 0))
        return int(probe_socket.getsockname()[1])


@pytest.fixture
async def device() -> AsyncIterator[Device]:
    """`port = await device("sdm630", rtu=False)`: a simulated meter in its own process."""
    running: list[asyncio.subprocess.Process] = []

    async def start(profile: str, *, rtu: bool = False, unit: int = 1) -> int:
        port = _free_port()
        args = ["-u", "-m", "sim.modbus_meter", "--profile", profile, "--port", str(port)]
        args += ["--device-id", str(unit), *(["--rtu"] if rtu else [])]
        for field, value in GRID.items():
            args += ["--set", f"{field}={value}"]
        proc = await asyncio.create_subprocess_exec(
            SIM_PYTHON, *args, cwd=ROOT, stdout=asyncio.subprocess.PIPE
        )
        running.append(proc)
        assert proc.stdout is not None
        async with asyncio.timeout(30):
            line = await proc.stdout.readline()
        assert line.startswith(b"serving"), line
        return port

    yield start
    for proc in running:
        proc.terminate()
        await proc.wait()


def _config(profile: str, port: int, **extra: Any) -> dict[str, Any]:
    return {
        "name": "grid",
        "kind": "modbus_tcp",
        "host": "127.0.0.1",
        "port": port,
        "profile": profile,
        "poll_interval": 0.05,
        "request_timeout": 1.0,
        **extra,
    }


def test_the_installed_pymodbus_is_in_the_manifest_range() -> None:
    major, minor, patch = (int(part) for part in version("pymodbus").split(".")[:3])
    assert (3, 8, 3) <= (major, minor, patch) < (4, 0, 0)


@pytest.mark.parametrize("profile", ["sdm630", "sdm72d_m"])
async def test_a_meter_is_read_over_modbus_tcp(device: Device, profile: str) -> None:
    port = await device(profile)
    reading = await probe(parse_meter_config(_config(profile, port), where="t"), fuse_a=25)
    assert reading.current_a == (10.5, 4.25, 0.75)
    assert reading.quality is Quality.OK


async def test_rtu_framing_over_tcp_and_another_unit_id(device: Device) -> None:
    port = await device("sdm630", rtu=True, unit=7)
    cfg = parse_meter_config(
        _config("sdm630", port, kind="modbus_rtu_over_tcp", device_id=7), where="t"
    )
    reading = await probe(cfg, fuse_a=25)
    assert reading.voltage_v == (230.0, 231.0, 229.0)


async def test_a_unit_id_nobody_answers_is_a_clear_error(device: Device) -> None:
    port = await device("sdm630", unit=1)
    cfg = parse_meter_config(_config("sdm630", port, device_id=9, request_timeout=0.3), where="t")
    with pytest.raises(MeterProbeError, match="grid"):
        await probe(cfg, fuse_a=25)


async def test_a_polling_source_delivers_readings(device: Device) -> None:
    port = await device("sdm630")
    source = build_source(parse_meter_config(_config("sdm630", port), where="t"), fuse_a=25)
    first: asyncio.Future[MeterReading] = asyncio.get_running_loop().create_future()

    def seen(reading: MeterReading) -> None:
        if not first.done():
            first.set_result(reading)

    remove = source.add_listener(seen)
    await source.start()
    try:
        async with asyncio.timeout(20):
            reading = await first
    finally:
        remove()
        await source.stop()
    assert reading.current_a == (10.5, 4.25, 0.75)
