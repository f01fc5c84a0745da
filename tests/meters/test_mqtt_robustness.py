"""MQTT sources under hostile input and broker trouble, against real Mosquitto brokers."""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from custom_components.eflux.core.meters import (
    MeterProbeError,
    Quality,
    build_source,
    parse_meter_config,
    probe,
)
from custom_components.eflux.core.meters.mqtt_source import MqttMeterSource
from tests.meters.helpers import GUARD_S, Readings, publish, until
from tests.support.mosquitto import MosquittoBroker
from tests.support.ports import free_port


def z2m_source(host: str, port: int, **broker: object) -> MqttMeterSource:
    # a long timeout: these tests are about payloads, not staleness, and may run on a busy host
    cfg = {"name": "plug", "kind": "mqtt", "profile": "zigbee2mqtt", "topic": "z2m/plug",
           "timeout": 120, "broker": {"host": host, "port": port, **broker}}  # fmt: skip
    source = build_source(parse_meter_config(cfg, where="test"), fuse_a=25)
    assert isinstance(source, MqttMeterSource)
    return source


HOSTILE: list[tuple[str, bytes]] = [
    ("malformed JSON", b'{"power": 12,'),
    ("not an object", b"[1, 2, 3]"),
    ("string for a number", json.dumps({"power": "lots"}).encode()),
    ("boolean for a number", json.dumps({"power": True}).encode()),
    ("object for a number", json.dumps({"power": {"w": 5}}).encode()),
    ("not UTF-8", b"\xff\xfe\x00garbage"),
    ("1 MB payload", b'{"power": ' + b"9" * (1024 * 1024) + b"}"),
    ("deep nesting", b"[" * 100_000 + b"]" * 100_000),
    ("empty", b""),
]


async def test_hostile_payloads_are_logged_and_ignored(
    mqtt_broker: MosquittoBroker, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="custom_components.eflux.core.meters")
    source = z2m_source(mqtt_broker.host, mqtt_broker.port)
    readings = Readings(source)
    await source.start()
    try:
        await asyncio.wait_for(source.connection.connected.wait(), GUARD_S)
        good = json.dumps({"power": 100.0}).encode()
        await asyncio.to_thread(publish, mqtt_broker.host, mqtt_broker.port, [("z2m/plug", good)])
        await readings.next()
        messages = [("z2m/plug", payload) for _what, payload in HOSTILE]
        after = json.dumps({"power": 321.5, "voltage": 230}).encode()
        await asyncio.to_thread(
            publish, mqtt_broker.host, mqtt_broker.port, [*messages, ("z2m/plug", after)]
        )
        reading = await readings.next(lambda r: r.total_power_w == 321.5)
    finally:
        await source.stop()
    assert source.ignored_messages == len(HOSTILE)
    assert reading.quality is Quality.OK
    assert reading.voltage_v[0] == 230.0
    # nothing hostile reached the listeners
    assert {r.total_power_w for r in readings.items} == {100.0, 321.5}
    logged = [r.getMessage() for r in caplog.records if "ignored a message" in r.getMessage()]
    assert len(logged) == 1  # one episode of bad payloads, one line
    assert "z2m/plug" in logged[0]


async def test_nan_over_mqtt_is_implausible(mqtt_broker: MosquittoBroker) -> None:
    source = z2m_source(mqtt_broker.host, mqtt_broker.port)
    readings = Readings(source)
    await source.start()
    try:
        await asyncio.wait_for(source.connection.connected.wait(), GUARD_S)
        await asyncio.to_thread(
            publish, mqtt_broker.host, mqtt_broker.port,
            [("z2m/plug", b'{"power": NaN, "voltage": -230}')],
        )  # fmt: skip
        reading = await readings.next()
    finally:
        await source.stop()
    assert reading.quality is Quality.IMPLAUSIBLE
    assert any("not a finite number" in p for p in reading.problems)
    assert any("negative" in p for p in reading.problems)


async def test_broker_restart_resubscribes(
    private_mqtt_broker: Callable[..., MosquittoBroker],
) -> None:
    broker = private_mqtt_broker()
    source = z2m_source(broker.host, broker.port)
    readings = Readings(source)
    await source.start()
    try:
        await asyncio.wait_for(source.connection.connected.wait(), GUARD_S)
        await asyncio.to_thread(publish, broker.host, broker.port, [("z2m/plug", '{"power": 1}')])
        await readings.next()
        await asyncio.to_thread(broker.restart)  # persistence off: subscriptions are gone
        while source.connection.connections < 2:
            await asyncio.wait_for(source.connection.connected.wait(), GUARD_S)
            await asyncio.sleep(0.05)
        await asyncio.to_thread(publish, broker.host, broker.port, [("z2m/plug", '{"power": 2}')])
        reading = await readings.next(lambda r: r.total_power_w == 2.0)
    finally:
        await source.stop()
    assert reading.quality is Quality.OK


@pytest.fixture
def tls_files(tmp_path: Path) -> tuple[Path, Path]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


async def test_tls_connection_checks_the_certificate(
    private_mqtt_broker: Callable[..., MosquittoBroker], tls_files: tuple[Path, Path]
) -> None:
    cert, key = tls_files
    tls_port = free_port()
    broker = private_mqtt_broker(
        f"listener {tls_port} 127.0.0.1\ncertfile {cert}\nkeyfile {key}\nuser root\n"
    )
    source = z2m_source(broker.host, tls_port, tls={"ca_file": str(cert)})
    readings = Readings(source)
    await source.start()
    try:
        await asyncio.wait_for(source.connection.connected.wait(), GUARD_S)
        # published in clear on the plain listener; received over TLS
        await asyncio.to_thread(publish, broker.host, broker.port, [("z2m/plug", '{"power": 7}')])
        reading = await readings.next()
    finally:
        await source.stop()
    assert reading.total_power_w == 7.0


async def test_tls_with_an_untrusted_certificate_does_not_connect(
    private_mqtt_broker: Callable[..., MosquittoBroker], tls_files: tuple[Path, Path]
) -> None:
    cert, key = tls_files
    tls_port = free_port()
    broker = private_mqtt_broker(
        f"listener {tls_port} 127.0.0.1\ncertfile {cert}\nkeyfile {key}\nuser root\n"
    )
    source = z2m_source(broker.host, tls_port, tls=True)  # system CAs: self-signed is refused
    await source.start()
    try:
        episodes = source.connection._episodes
        await until(lambda: episodes.in_episode, "a failed TLS handshake")
    finally:
        await source.stop()
    assert source.connection.connections == 0


async def test_wrong_password_is_refused_and_retried(
    private_mqtt_broker: Callable[..., MosquittoBroker],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    passwords = tmp_path / "passwd"
    command = ["mosquitto_passwd", "-b", "-c", str(passwords), "meter", "right"]
    await asyncio.to_thread(subprocess.run, command, check=True)
    broker = private_mqtt_broker(f"allow_anonymous false\npassword_file {passwords}\nuser root\n")
    caplog.set_level(logging.WARNING, logger="custom_components.eflux.core.meters")
    source = z2m_source(broker.host, broker.port, username="meter", password="wrong")
    await source.start()
    try:
        await until(lambda: source.connection._backoff.failures >= 2, "two refused attempts")
    finally:
        await source.stop()
    assert source.connection.connections == 0
    refused = [r for r in caplog.records if "refused" in r.getMessage()]
    assert len(refused) == 1  # once per episode


async def test_probe_of_an_mqtt_meter(mqtt_broker: MosquittoBroker) -> None:
    topic = "probe/plug"
    # retained, so the probe's fresh subscription receives it at once
    await asyncio.to_thread(
        publish, mqtt_broker.host, mqtt_broker.port, [(topic, '{"power": 42}')], True
    )
    broker = {"host": mqtt_broker.host, "port": mqtt_broker.port}
    cfg = {"name": "plug", "kind": "mqtt", "profile": "zigbee2mqtt", "topic": topic,
           "timeout": 10, "broker": broker}  # fmt: skip
    try:
        reading = await probe(parse_meter_config(cfg, where="test"))
    finally:
        await asyncio.to_thread(publish, mqtt_broker.host, mqtt_broker.port, [(topic, "")], True)
    assert reading.total_power_w == 42.0


async def test_probe_of_a_quiet_mqtt_topic_says_why(mqtt_broker: MosquittoBroker) -> None:
    broker = {"host": mqtt_broker.host, "port": mqtt_broker.port}
    cfg = {"name": "quiet", "kind": "mqtt", "profile": "zigbee2mqtt", "topic": "nobody/here",
           "timeout": 0.5, "broker": broker}  # fmt: skip
    with pytest.raises(MeterProbeError, match=r"quiet: no usable message within 0\.5 s"):
        await probe(parse_meter_config(cfg, where="test"))


async def test_mqtt_v5_with_username_and_password(
    private_mqtt_broker: Callable[..., MosquittoBroker], tmp_path: Path
) -> None:
    passwords = tmp_path / "passwd"
    command = ["mosquitto_passwd", "-b", "-c", str(passwords), "meter", "s3cret"]
    await asyncio.to_thread(subprocess.run, command, check=True)
    # `user root`: a broker started as root otherwise drops to `mosquitto`, which cannot read
    # the test's private directory (ignored when the tests do not run as root).
    broker = private_mqtt_broker(f"allow_anonymous false\npassword_file {passwords}\nuser root\n")
    cfg = {"name": "auth", "kind": "mqtt", "profile": "zigbee2mqtt", "topic": "z/plug",
           "broker": {"host": broker.host, "port": broker.port, "protocol": "5",
                      "username": "meter", "password": "s3cret"}}  # fmt: skip
    source = build_source(parse_meter_config(cfg, where="test"))
    assert isinstance(source, MqttMeterSource)
    readings = Readings(source)
    await source.start()
    try:
        await asyncio.wait_for(source.connection.connected.wait(), GUARD_S)

        def publish_authenticated() -> None:
            import paho.mqtt.client as mqtt
            from paho.mqtt.enums import CallbackAPIVersion

            client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
            client.username_pw_set("meter", "s3cret")
            client.connect(broker.host, broker.port)
            client.loop_start()
            # retained: see `send` (a private broker, gone after the test)
            message = client.publish("z/plug", json.dumps({"power": 55.5}), qos=1, retain=True)
            message.wait_for_publish(GUARD_S)
            client.loop_stop()
            client.disconnect()

        await asyncio.to_thread(publish_authenticated)
        # On a loaded machine the source may first report itself stale (no reading yet within
        # its timeout); the published value must still arrive.
        reading = await readings.next(lambda r: r.quality is not Quality.STALE)
        assert reading.total_power_w == 55.5
    finally:
        await source.stop()
