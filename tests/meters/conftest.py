"""Fixtures for meter tests: Modbus simulators on free loopback ports."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from sim.modbus_meter import ModbusMeterSim
from tests.support.ports import LOOPBACK, free_port

type SimFactory = Callable[..., Awaitable[tuple[ModbusMeterSim, int]]]


@pytest.fixture
async def modbus_sim() -> AsyncIterator[SimFactory]:
    """`sim, port = await modbus_sim("sdm630", rtu=False)`: a started TCP simulator."""
    started: list[ModbusMeterSim] = []

    async def start(
        profile: str, values: dict[str, float] | None = None, **kw: Any
    ) -> tuple[ModbusMeterSim, int]:
        rtu = kw.pop("rtu", False)
        sim = ModbusMeterSim(profile, values, **kw)
        port = free_port()
        await sim.start_tcp(LOOPBACK, port, rtu=rtu)
        started.append(sim)
        return sim, port

    yield start
    for sim in started:
        await sim.stop()


def modbus_config(profile: str, port: int, **extra: Any) -> dict[str, Any]:
    return {
        "name": "grid",
        "kind": "modbus_tcp",
        "host": LOOPBACK,
        "port": port,
        "profile": profile,
        "poll_interval": 0.05,
        "request_timeout": 0.5,
        "timeout": 120,  # staleness is tested on a fake clock, never by waiting
        **extra,
    }
