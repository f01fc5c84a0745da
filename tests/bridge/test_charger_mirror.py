"""The charger mirror against a real `eflux-local` site and its HTTP API, a simulated OCPP
charger and a real Mosquitto: state out to MQTT, `…/set` commands back through the API.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from custom_components.eflux.core.config import parse_site_config
from custom_components.eflux.core.runner.main import run
from mqtt_bridge.bridge import Bridge
from mqtt_bridge.config import parse_bridge_config
from sim.chargepoint import SimChargePoint
from tests.bridge.conftest import Subscriber
from tests.meters.helpers import publish, until
from tests.support.mosquitto import MosquittoBroker
from tests.support.ports import wait_for_port

TOKEN = "mirror-test-token-0123456789"


@dataclass
class Site:
    url: str
    charger: SimChargePoint
    stop: asyncio.Event

    async def charger_state(self) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"{self.url}/api/chargers/garage", headers=headers) as response,
        ):
            return dict(await response.json())


@pytest.fixture
async def site(tmp_path: Path, unused_port: Callable[[], int]) -> AsyncIterator[Site]:
    """The runner itself (`eflux-local`'s `run`), with one simulated charger connected."""
    central_port, api_port = unused_port(), unused_port()
    config = parse_site_config(
        {
            "central": {"host": "127.0.0.1", "port": central_port, "free_charging": True},
            "circuits": [{"id": "grid", "limit_a": 25}],
            "meters": [{"name": "p1", "circuit": "grid", "kind": "external"}],
            "chargers": [{"id": "garage", "circuit": "grid", "charge_point": "MIRROR-CP"}],
            "api": {"host": "127.0.0.1", "port": api_port, "token": TOKEN},
        },
        base_dir=tmp_path,
    )
    stop = asyncio.Event()
    runner = asyncio.create_task(run(config, stop))
    await asyncio.to_thread(wait_for_port, api_port)
    charger = SimChargePoint(
        f"ws://127.0.0.1:{central_port}", "MIRROR-CP", reconnect_delay=0.05, meter_interval=3600
    )
    await charger.start()
    yield Site(f"http://127.0.0.1:{api_port}", charger, stop)
    await charger.close()
    stop.set()
    await runner


@pytest.fixture
async def bridge(site: Site, mqtt_broker: MosquittoBroker) -> AsyncIterator[Bridge]:
    config = parse_bridge_config(
        {"mqtt": {"host": mqtt_broker.host, "port": mqtt_broker.port}, "base_topic": "mirror",
         "central": {"url": site.url, "token": TOKEN}},
        file="bridge.yaml",
    )  # fmt: skip
    running = Bridge(config)
    await running.start()
    yield running
    await running.stop()


@pytest.fixture
async def watch(bridge: Bridge, mqtt_broker: MosquittoBroker) -> AsyncIterator[Subscriber]:
    """A subscriber to the mirror's topics, once the charger shows up online."""
    subscriber = Subscriber(mqtt_broker.host, mqtt_broker.port, ("mirror/#",))
    await subscriber.wait_for(f"{ROOT}/online", "true")
    yield subscriber
    subscriber.close()


ROOT = "mirror/charger/garage"


async def command(broker: MosquittoBroker, name: str, payload: str) -> None:
    await asyncio.to_thread(publish, broker.host, broker.port, [(f"{ROOT}/{name}/set", payload)])


async def result(watch: Subscriber, command_name: str, after: int) -> dict[str, object]:
    def found() -> dict[str, object] | None:
        for message in watch.on(f"{ROOT}/result")[after:]:
            body = json.loads(message.payload)
            if body["command"] == command_name:
                return dict(body)
        return None

    await until(lambda: found() is not None, f"a result for {command_name}")
    answer = found()
    assert answer is not None
    return answer


async def test_state_and_discovery_are_mirrored(
    watch: Subscriber, mqtt_broker: MosquittoBroker
) -> None:
    await watch.wait_for(f"{ROOT}/availability", "online")
    state = json.loads((await watch.wait_for(f"{ROOT}/state")).payload)
    late = Subscriber(mqtt_broker.host, mqtt_broker.port, ("homeassistant/#",))
    try:
        kept = await late.wait_for("homeassistant/number/mirror_charger_garage/max_current/config")
        await late.wait_for("homeassistant/button/mirror_charger_garage/start/config")
    finally:
        late.close()
    assert kept.retain  # retained: Home Assistant finds it after its own restart
    assert state["charge_point_id"] == "MIRROR-CP"
    config = json.loads(kept.payload)
    assert config["command_topic"] == f"{ROOT}/max_current/set"
    assert config["state_topic"] == f"{ROOT}/max_current_a"


async def test_set_commands_go_through_the_api(
    site: Site, watch: Subscriber, mqtt_broker: MosquittoBroker
) -> None:
    await command(mqtt_broker, "max_current", "10")
    assert (await result(watch, "max_current", 0))["ok"] is True
    await watch.wait_for(f"{ROOT}/max_current_a", "10.0")
    assert (await site.charger_state())["max_current_a"] == 10.0

    seen = len(watch.on(f"{ROOT}/result"))
    await command(mqtt_broker, "mode", "pv")
    assert (await result(watch, "mode", seen))["ok"] is True
    await watch.wait_for(f"{ROOT}/mode", "pv")

    await site.charger.plug_in()
    seen = len(watch.on(f"{ROOT}/result"))
    await command(mqtt_broker, "start", "TAG-1")
    started = await result(watch, "start", seen)
    assert (started["ok"], started["answer"]) == (True, "Accepted")
    await until(lambda: site.charger.transaction is not None, "a transaction")
    seen = len(watch.on(f"{ROOT}/result"))
    await command(mqtt_broker, "stop", "")
    stopped = await result(watch, "stop", seen)
    assert (stopped["ok"], stopped["answer"]) == (True, "Accepted")


@pytest.mark.parametrize(
    ("name", "payload", "status", "error"),
    [
        ("max_current", "lots", 0, "bad_command"),
        ("max_current", "nan", 0, "bad_command"),
        ("max_current", "-1", 400, "bad_request"),
        ("max_current", '{"amps": "ten"}', 400, "bad_request"),
        ("max_current", "{broken", 0, "bad_command"),
        ("mode", "warp", 400, "bad_request"),
        ("reboot", "", 0, "bad_command"),
        ("start", "x" * 5000, 0, "bad_command"),
    ],
)
async def test_bad_commands_are_answered_and_change_nothing(
    site: Site, watch: Subscriber, mqtt_broker: MosquittoBroker,
    name: str, payload: str, status: int, error: str,
) -> None:  # fmt: skip
    before = await site.charger_state()
    await command(mqtt_broker, name, payload)
    answer = await result(watch, name, 0)
    assert (answer["ok"], answer["status"], answer["error"]) == (False, status, error)
    after = await site.charger_state()
    assert (after["max_current_a"], after["mode"]) == (before["max_current_a"], before["mode"])


async def test_unknown_charger_gets_not_found(
    watch: Subscriber, mqtt_broker: MosquittoBroker
) -> None:
    topic = "mirror/charger/nope/stop/set"
    await asyncio.to_thread(publish, mqtt_broker.host, mqtt_broker.port, [(topic, "")])
    body = json.loads((await watch.wait_for("mirror/charger/nope/result")).payload)
    assert (body["ok"], body["status"], body["error"]) == (False, 404, "not_found")


async def test_runner_going_away_marks_chargers_offline(site: Site, watch: Subscriber) -> None:
    await watch.wait_for(f"{ROOT}/availability", "online")
    seen = len(watch.on(f"{ROOT}/availability"))
    site.stop.set()  # the runner shuts down its API and central system
    await watch.wait_for(f"{ROOT}/availability", "offline", after=seen)
