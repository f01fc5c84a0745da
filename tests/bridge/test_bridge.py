"""The bridge end to end: a pymodbus meter simulator, a real Mosquitto, a subscriber."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

from custom_components.eflux.core.meters import Quality
from mqtt_bridge.bridge import Bridge
from mqtt_bridge.config import parse_bridge_config
from tests.bridge.conftest import Subscriber
from tests.meters.conftest import SimFactory
from tests.meters.helpers import GUARD_S, FakeClock, until
from tests.support.mosquitto import MosquittoBroker

VALUES = {
    "voltage_l1": 230.0, "voltage_l2": 231.0, "voltage_l3": 232.0,
    "current_l1": 10.0, "current_l2": 11.0, "current_l3": 12.0,
    "power_l1": 2300.0, "power_l2": 2541.0, "power_l3": -500.0,
    "total_power": 4341.0, "import_energy": 100.5, "export_energy": 2.5,
}  # fmt: skip


def bridge_for(broker: MosquittoBroker, port: int, clock: FakeClock | None = None) -> Bridge:
    config = parse_bridge_config(
        {"mqtt": {"host": broker.host, "port": broker.port},
         "devices": [{"name": "grid", "kind": "modbus_tcp", "host": "127.0.0.1", "port": port,
                      "profile": "sdm630", "poll_interval": 0.05, "request_timeout": 0.5,
                      "timeout": 30}]},
        file="bridge.yaml",
    )  # fmt: skip
    return Bridge(config, clock=clock) if clock else Bridge(config)


async def test_publishes_state_values_discovery_and_availability(
    modbus_sim: SimFactory, private_mqtt_broker: Callable[..., MosquittoBroker]
) -> None:
    broker = private_mqtt_broker()
    _sim, port = await modbus_sim("sdm630", VALUES)
    bridge = bridge_for(broker, port)
    await bridge.start()
    try:
        live = Subscriber(broker.host, broker.port)
        state = await live.wait_json("eflux/grid/state", "quality", "ok")
        await live.wait_for("eflux/grid/total_power", "4341.0")
    finally:
        await bridge.stop()
        live.close()
    assert state["total_power"] == 4341.0
    assert state["current_l1"] == 10.0
    assert state["power_l3"] == -500.0
    assert state["import_energy"] == 100.5
    assert state["timestamp"].endswith("+00:00")
    # everything retained: a late subscriber gets the whole picture from the broker
    late = Subscriber(broker.host, broker.port)
    try:
        await late.wait_for("eflux/bridge/availability", "offline")  # clean stop said so
        discovery = await late.wait_for("homeassistant/sensor/eflux_grid/import_energy/config")
        await late.wait_for("eflux/grid/availability", "online")
        value = await late.wait_for("eflux/grid/current_l2", "11.0")
    finally:
        late.close()
    assert discovery.retain
    assert value.retain
    config = json.loads(discovery.payload)
    assert config["state_topic"] == "eflux/grid/import_energy"
    assert config["device_class"] == "energy"
    assert config["state_class"] == "total_increasing"
    assert config["unit_of_measurement"] == "kWh"
    assert config["device"]["model"] == "Eastron SDM630"
    assert config["unique_id"] == "eflux_grid_import_energy"
    assert {"topic": "eflux/bridge/availability"} in config["availability"]
    topics = {m.topic for m in late.messages if m.topic.startswith("homeassistant/")}
    assert len(topics) == 12  # every value the SDM630 profile measures


async def test_broker_restart_reconnects_and_republishes(
    modbus_sim: SimFactory, private_mqtt_broker: Callable[..., MosquittoBroker]
) -> None:
    broker = private_mqtt_broker()  # persistence off: a restart forgets retained messages
    sim, port = await modbus_sim("sdm630", VALUES)
    bridge = bridge_for(broker, port)
    await bridge.start()
    try:
        await asyncio.wait_for(bridge.mqtt.connected.wait(), GUARD_S)
        await asyncio.to_thread(broker.restart)
        await until(lambda: bridge.mqtt.connections >= 2, "the bridge reconnected")
        late = Subscriber(broker.host, broker.port)
        try:
            await late.wait_for("homeassistant/sensor/eflux_grid/total_power/config")
            await late.wait_for("eflux/bridge/availability", "online")
            await late.wait_for("eflux/grid/availability", "online")
            await late.wait_json("eflux/grid/state", "total_power", 4341.0)
            # and it keeps publishing fresh readings after the restart
            sim.set_values({**VALUES, "total_power": 999.0})
            await late.wait_for("eflux/grid/total_power", "999.0")
        finally:
            late.close()
    finally:
        await bridge.stop()


async def test_silent_meter_goes_offline_and_comes_back(
    modbus_sim: SimFactory, mqtt_broker: MosquittoBroker
) -> None:
    clock = FakeClock()
    sim, port = await modbus_sim("sdm630", VALUES)
    bridge = bridge_for(mqtt_broker, port, clock)
    live = Subscriber(mqtt_broker.host, mqtt_broker.port, ("eflux/grid/availability",))
    await bridge.start()
    try:
        await live.wait_for("eflux/grid/availability", "online")
        sim.fault = "silent"
        source = bridge.sources["grid"]
        await until(lambda: getattr(source, "failed_polls", 0) > 0, "a failed poll")
        clock.advance(31)
        assert source.status is Quality.STALE
        seen = len(live.on("eflux/grid/availability"))
        await live.wait_for("eflux/grid/availability", "offline", after=seen)
        sim.fault = None
        seen = len(live.on("eflux/grid/availability"))
        await live.wait_for("eflux/grid/availability", "online", after=seen)
    finally:
        await bridge.stop()
        live.close()


async def test_implausible_reading_keeps_last_good_values(
    modbus_sim: SimFactory, mqtt_broker: MosquittoBroker
) -> None:
    sim, port = await modbus_sim("sdm630", VALUES)
    bridge = bridge_for(mqtt_broker, port)
    live = Subscriber(mqtt_broker.host, mqtt_broker.port, ("eflux/grid/#",))
    await bridge.start()
    try:
        await live.wait_for("eflux/grid/voltage_l1", "230.0")
        sim.set_values({**VALUES, "voltage_l1": float("nan")})
        state = await live.wait_json("eflux/grid/state", "quality", "implausible")
    finally:
        await bridge.stop()
        live.close()
    assert state["voltage_l1"] is None
    assert any("voltage_v[L1]" in p for p in state["problems"])
    assert {m.payload for m in live.on("eflux/grid/voltage_l1")} == {"230.0"}
