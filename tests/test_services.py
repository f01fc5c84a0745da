"""The real services the suite relies on can be started and used."""

from __future__ import annotations

import threading

import paho.mqtt.client as mqtt

from tests.support.mosquitto import MosquittoBroker


def _roundtrip(broker: MosquittoBroker, topic: str) -> bytes:
    received = threading.Event()
    payloads: list[bytes] = []
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)

    def on_connect(client, userdata, flags, reason, properties):
        client.subscribe(topic)

    def on_subscribe(client, userdata, mid, reasons, properties):
        client.publish(topic, b"hello")

    def on_message(client, userdata, message):
        payloads.append(message.payload)
        received.set()

    client.on_connect, client.on_subscribe, client.on_message = on_connect, on_subscribe, on_message
    client.connect(broker.host, broker.port)
    client.loop_start()
    try:
        assert received.wait(10)
    finally:
        client.loop_stop()
        client.disconnect()
    return payloads[0]


def test_mosquitto_delivers(mqtt_broker: MosquittoBroker) -> None:
    assert _roundtrip(mqtt_broker, "eflux/test/roundtrip") == b"hello"


def test_private_broker_restarts_on_the_same_port(private_mqtt_broker) -> None:
    broker = private_mqtt_broker()
    port = broker.port
    broker.restart()
    assert broker.port == port
    assert broker.running
    assert _roundtrip(broker, "eflux/test/restart") == b"hello"


async def test_postgres_database_is_fresh(postgres_dsn: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(postgres_dsn)
    try:
        await conn.execute("CREATE TABLE IF NOT EXISTS probe (id int)")
        assert await conn.fetchval("SELECT count(*) FROM probe") == 0
    finally:
        await conn.execute("DROP TABLE probe")
        await conn.close()
