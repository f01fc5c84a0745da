"""Shared test helpers for meters and the bridge: a fake clock, readings, MQTT publishing."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import struct
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from custom_components.eflux.core.meters import MeterReading, MeterSource

# Generous guard against a hang; never an assertion about speed.
GUARD_S = 20.0


class FakeClock:
    """A UTC clock that only moves when the test says so."""

    def __init__(self) -> None:
        self.value = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.value

    def advance(self, seconds: float) -> None:
        self.value += timedelta(seconds=seconds)


class ManualClock(FakeClock):
    """A site `Clock` whose sleepers wake only when the test moves time (`step`).

    `step(parked)` waits (in real time) until `parked` tasks sleep on the clock, which tells
    that nothing of the source is in flight (a Modbus request runs in real time), then moves
    to the earliest wake-up and wakes whoever is due. `slept` holds every requested delay.
    """

    def __init__(self) -> None:
        super().__init__()
        self.slept: list[float] = []
        self._sleepers: list[tuple[datetime, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def now(self) -> datetime:
        return self.value

    def monotonic(self) -> float:
        return (self.value - datetime(2026, 1, 1, tzinfo=UTC)).total_seconds()

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        wake = asyncio.get_running_loop().create_future()
        entry = (self.value + timedelta(seconds=max(0.0, seconds)), next(self._order), wake)
        heapq.heappush(self._sleepers, entry)
        await wake

    def parked(self) -> int:
        return sum(1 for *_, fut in self._sleepers if not fut.done())

    async def step(self, parked: int) -> None:
        await until(lambda: self.parked() >= parked, f"{parked} tasks asleep on the clock")
        while self._sleepers and self._sleepers[0][2].done():  # cancelled sleepers
            heapq.heappop(self._sleepers)
        self.value = max(self.value, self._sleepers[0][0])
        while self._sleepers and self._sleepers[0][0] <= self.value:
            fut = heapq.heappop(self._sleepers)[2]
            if not fut.done():
                fut.set_result(None)
        await asyncio.sleep(0)


class Readings:
    """Collects what a source tells its listeners; `next()` awaits one that matches."""

    def __init__(self, source: MeterSource) -> None:
        self.items: list[MeterReading] = []
        self._changed = asyncio.Event()
        self.remove = source.add_listener(self._add)

    def _add(self, reading: MeterReading) -> None:
        self.items.append(reading)
        self._changed.set()

    async def next(
        self, match: Callable[[MeterReading], bool] = lambda r: True, *, after: int = 0
    ) -> MeterReading:
        async def wait() -> MeterReading:
            while True:
                for reading in self.items[after:]:
                    if match(reading):
                        return reading
                self._changed.clear()
                await self._changed.wait()

        return await asyncio.wait_for(wait(), GUARD_S)


async def until(predicate: Callable[[], bool], what: str) -> None:
    """Poll a condition on the loop (bounded by the hang guard)."""

    async def loop() -> None:
        while not predicate():  # noqa: ASYNC110 - plain counters, nothing to await
            await asyncio.sleep(0.02)

    try:
        await asyncio.wait_for(loop(), GUARD_S)
    except TimeoutError as err:
        raise AssertionError(f"never happened: {what}") from err


def publish(
    host: str, port: int, messages: list[tuple[str, bytes | str]], retain: bool = False
) -> None:
    """Publish messages with an independent paho client (QoS 1, waits for each PUBACK)."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="test-publisher")
    client.connect(host, port)
    client.loop_start()
    try:
        for topic, payload in messages:
            client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(GUARD_S)
    finally:
        client.loop_stop()
        client.disconnect()


def words(code: str, value: float, *, low_word_first: bool = False) -> list[int]:
    """Registers of one value packed big-endian with struct `code` (e.g. "f", "i", "Q")."""
    raw = struct.pack(">" + code, value)
    regs = [int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2)]
    return regs[::-1] if low_word_first else regs


def f32(value: float) -> list[int]:
    """IEEE 754 float32, high word first (Eastron)."""
    return words("f", value)


def s32_lsw_first(value: int) -> list[int]:
    """Signed 32-bit, low word first (Carlo Gavazzi)."""
    return words("i", value, low_word_first=True)


def u32(value: int) -> list[int]:
    return words("I", value)


def s32(value: int) -> list[int]:
    return words("i", value)


def u64(value: int) -> list[int]:
    return words("Q", value)


def s16(value: int) -> list[int]:
    return words("h", value)


async def first_reading(source: MeterSource) -> MeterReading:
    """Start `source`, wait for its first reading, stop it."""
    readings = Readings(source)
    await source.start()
    try:
        return await readings.next()
    finally:
        await source.stop()
