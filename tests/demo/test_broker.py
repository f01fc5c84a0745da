"""The demo's broker: the embedded amqtt one (for machines without Mosquitto) carries retained
messages between real MQTT clients, and stops with the demo."""

from __future__ import annotations

import asyncio
from pathlib import Path

import paho.mqtt.client as mqtt

from sim.demo.broker import start_broker
from sim.demo.procs import Children, port_open


async def test_embedded_broker_serves_retained_messages(tmp_path: Path) -> None:
    children = Children(tmp_path / "logs")
    broker = await start_broker(children, tmp_path, embedded=True)
    assert broker.kind == "amqtt"
    received: list[bytes] = []
    got = asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_message(_c: mqtt.Client, _u: object, message: mqtt.MQTTMessage) -> None:
        received.append(message.payload)
        loop.call_soon_threadsafe(got.set)

    publisher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    subscriber = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    subscriber.on_message = on_message
    try:
        publisher.connect(broker.host, broker.port)
        publisher.loop_start()
        publisher.publish(
            "eflux/grid/state", '{"current_l1": 3.5}', qos=1, retain=True
        ).wait_for_publish(5)
        subscriber.connect(broker.host, broker.port)
        subscriber.subscribe("eflux/#")
        subscriber.loop_start()
        await asyncio.wait_for(got.wait(), 10)
    finally:
        for client in (publisher, subscriber):
            client.loop_stop()
            client.disconnect()
        await children.stop_all()
    assert received == [b'{"current_l1": 3.5}']
    assert not await port_open(broker.port)
