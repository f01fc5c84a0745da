"""Shared test helpers for meters and the bridge: a fake clock, readings, MQTT publishing."""

from __future__ import annotations

import asyncio
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
