"""Bridge test helpers: an MQTT subscriber that records what the broker delivers."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
import yaml
from paho.mqtt.enums import CallbackAPIVersion

from tests.meters.conftest import modbus_sim  # noqa: F401 - the Modbus simulator fixture
from tests.meters.helpers import GUARD_S, until


@dataclass(frozen=True)
class Message:
    topic: str
    payload: str
    retain: bool


class Subscriber:
    """A plain paho client on its own thread, subscribed to `topics`."""

    def __init__(self, host: str, port: int, topics: tuple[str, ...] = ("#",)) -> None:
        self.messages: list[Message] = []
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2)
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *_: self._subscribed.set()
        self.client.on_connect = lambda c, *_: c.subscribe([(t, 1) for t in topics])
        self.client.connect(host, port)
        self.client.loop_start()
        if not self._subscribed.wait(GUARD_S):
            raise AssertionError("subscriber never subscribed")

    def _on_message(self, _c: Any, _u: Any, msg: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.messages.append(Message(msg.topic, msg.payload.decode(), bool(msg.retain)))

    def on(self, topic: str) -> list[Message]:
        with self._lock:
            return [m for m in self.messages if m.topic == topic]

    def last(self, topic: str) -> Message | None:
        found = self.on(topic)
        return found[-1] if found else None

    async def wait_for(self, topic: str, payload: str | None = None, *, after: int = 0) -> Message:
        def seen() -> bool:
            return any(payload is None or m.payload == payload for m in self.on(topic)[after:])

        await until(seen, f"{topic} = {payload}")
        return next(m for m in self.on(topic)[after:] if payload is None or m.payload == payload)

    async def wait_json(self, topic: str, key: str, value: Any) -> dict[str, Any]:
        def match() -> dict[str, Any] | None:
            for m in reversed(self.on(topic)):
                body = json.loads(m.payload)
                if body.get(key) == value:
                    return dict(body)
            return None

        await until(lambda: match() is not None, f"{topic} with {key}={value}")
        found = match()
        assert found is not None
        return found

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@pytest.fixture
def subscribers() -> Iterator[list[Subscriber]]:
    made: list[Subscriber] = []
    yield made
    for sub in made:
        sub.close()


def write_config(path: Path, broker_port: int, devices: list[dict[str, Any]], **extra: Any) -> Path:
    path.write_text(
        yaml.safe_dump(
            {"mqtt": {"host": "127.0.0.1", "port": broker_port}, "devices": devices, **extra}
        )
    )
    return path
