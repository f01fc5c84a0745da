"""Helpers for central system tests: a fake clock, a raw OCPP client, a central factory."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from custom_components.eflux.core.central import CentralConfig, CentralSystem
from custom_components.eflux.core.central.auth import RemoteAuthorizer
from custom_components.eflux.core.central.outbox import SqliteSessionOutbox
from sim.chargepoint import SimChargePoint

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
SUBPROTOCOL = {"1.6": "ocpp1.6", "2.0.1": "ocpp2.0.1"}


class FakeClock:
    """Time that moves only when a test says so (shared by the central system and sims)."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def central_config(tmp_path: Path, **changes: Any) -> CentralConfig:
    base = CentralConfig(
        host="127.0.0.1",
        port=0,
        db_path=tmp_path / "central.sqlite",
        accept_new_chargers=True,
        call_timeout=3.0,
    )
    return replace(base, **changes)


@asynccontextmanager
async def running_central(
    config: CentralConfig,
    clock: FakeClock | None = None,
    remote_authorizer: RemoteAuthorizer | None = None,
) -> AsyncIterator[CentralSystem]:
    kwargs: dict[str, Any] = {"remote_authorizer": remote_authorizer}
    if clock is not None:
        kwargs["clock"] = clock
    central = CentralSystem(config, **kwargs)
    await central.start()
    try:
        yield central
    finally:
        await central.stop()


SimFactory = Callable[..., Awaitable[SimChargePoint]]


@asynccontextmanager
async def sims_against(central: CentralSystem, clock: FakeClock) -> AsyncIterator[SimFactory]:
    """A factory of simulated chargers on `central` and the fake clock; all closed at the end."""
    sims: list[SimChargePoint] = []

    async def start(cp_id: str, version: str = "1.6", **kwargs: Any) -> SimChargePoint:
        kwargs.setdefault("clock", clock)
        kwargs.setdefault("reconnect_delay", 0.05)
        kwargs.setdefault("meter_interval", 3600)  # tests send samples themselves
        sim = SimChargePoint(f"ws://127.0.0.1:{central.port}", cp_id, version, **kwargs)
        sims.append(sim)
        await sim.start()
        return sim

    try:
        yield start
    finally:
        for sim in sims:
            await sim.close()


class RawCharger:
    """Speaks OCPP-J frame by frame, to send what a well-behaved client never would."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.calls_from_central: list[list[Any]] = []

    @classmethod
    @asynccontextmanager
    async def connect(
        cls, port: int, cp_id: str, version: str = "1.6", **kwargs: Any
    ) -> AsyncIterator[RawCharger]:
        async with connect(
            f"ws://127.0.0.1:{port}/{cp_id}",
            subprotocols=[Subprotocol(SUBPROTOCOL[version])],
            open_timeout=5,
            **kwargs,
        ) as connection:
            yield cls(connection)

    async def send(self, frame: str | bytes) -> None:
        await self.connection.send(frame)

    async def reply(self, wait_s: float = 5.0) -> list[Any]:
        """The next frame that is not a CALL from the central system."""
        while True:
            frame = json.loads(await asyncio.wait_for(self.connection.recv(), wait_s))
            if isinstance(frame, list) and frame and frame[0] == 2:
                self.calls_from_central.append(frame)
                continue
            return list(frame)

    async def call(
        self, action: str, payload: dict[str, Any], unique_id: str | None = None
    ) -> list[Any]:
        unique_id = unique_id or uuid.uuid4().hex[:20]
        await self.send(json.dumps([2, unique_id, action, payload]))
        answer = await self.reply()
        assert answer[1] == unique_id, answer
        return answer

    async def call_ok(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        answer = await self.call(action, payload)
        assert answer[0] == 3, f"{action} got {answer}"
        return dict(answer[2])

    async def next_call_from_central(self, wait_s: float = 5.0) -> list[Any]:
        if self.calls_from_central:
            return self.calls_from_central.pop(0)
        frame = json.loads(await asyncio.wait_for(self.connection.recv(), wait_s))
        assert frame[0] == 2, frame
        return list(frame)


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def boot_v16(vendor: str = "Acme", model: str = "Wallbox One") -> dict[str, Any]:
    return {"chargePointVendor": vendor, "chargePointModel": model}


def boot_v201(vendor: str = "Acme", model: str = "Station") -> dict[str, Any]:
    return {"chargingStation": {"vendorName": vendor, "model": model}, "reason": "PowerUp"}


def meter_value(at: datetime, wh: float, **extra: Any) -> dict[str, Any]:
    """A 1.6 meterValue with the register and optional per-phase currents (amps=(l1,l2,l3))."""
    values: list[dict[str, Any]] = [
        {"value": f"{wh}", "measurand": "Energy.Active.Import.Register", "unit": "Wh"}
    ]
    for index, amps in enumerate(extra.get("amps", ())):
        values.append(
            {
                "value": f"{amps}",
                "measurand": "Current.Import",
                "unit": "A",
                "phase": f"L{index + 1}",
            }
        )
    return {"timestamp": iso(at), "sampledValue": values}


async def eventually(predicate: Any, wait_s: float = 5.0) -> None:
    """Wait until `predicate()` holds (polling; for effects of background work)."""
    deadline = asyncio.get_running_loop().time() + wait_s
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {wait_s} s")
        await asyncio.sleep(0.01)


async def outbox_sessions(db_path: Path) -> list[Any]:
    outbox = SqliteSessionOutbox(db_path)
    await outbox.open()
    try:
        return [entry.session for entry in await outbox.outbox_pending(1000)]
    finally:
        await outbox.close()


def db_rows(db_path: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    """Read the central system's SQLite file directly (WAL lets us beside its writer)."""
    import sqlite3

    with sqlite3.connect(db_path) as db:
        return list(db.execute(sql, args).fetchall())
