"""Meter settings and profile files: each mistake is refused with the file, key and reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from custom_components.eflux.core.meters import (
    MeterConfigError,
    MeterProbeError,
    SourceKind,
    load_profile,
    parse_meter_config,
    probe,
)
from custom_components.eflux.core.meters.backoff import Backoff
from tests.support.ports import free_port

TCP = {"name": "grid", "kind": "modbus_tcp", "host": "127.0.0.1", "profile": "sdm630"}
MQTT = {"name": "p1", "kind": "mqtt", "profile": "dsmr_reader", "broker": {"host": "127.0.0.1"}}
Z2M = {**MQTT, "profile": "zigbee2mqtt"}


@pytest.mark.parametrize(
    ("data", "key", "reason"),
    [
        ({**TCP, "name": None}, "name", "is required"),
        ({**TCP, "kind": "modbus_udp"}, "kind", "must be one of"),
        ({**TCP, "port": 70000}, "port", "between 1 and 65535"),
        ({**TCP, "port": "502"}, "port", "whole number"),
        ({**TCP, "device_id": 300}, "device_id", "between 0 and 247"),
        ({**TCP, "poll_interval": float("nan")}, "poll_interval", "between"),
        ({**TCP, "timeout": -1}, "timeout", "between"),
        ({**TCP, "profile": "sdm999"}, "profile", "unknown profile 'sdm999'"),
        ({**TCP, "serial_port": "/dev/ttyUSB0"}, "serial_port", "unknown key"),
        ({**TCP, "host": None}, "host", "is required"),
        ({**TCP, "kind": "modbus_rtu"}, "host", "unknown key"),
        ({"name": "r", "kind": "modbus_rtu", "profile": "sdm120"}, "serial_port", "is required"),
        ({**MQTT, "profile": "homewizard"}, "profile", "must be one of"),
        ({**MQTT, "broker": {"host": "h", "protocol": "4"}}, "broker.protocol", "one of"),
        (
            {**MQTT, "broker": {"host": "h", "password": "x"}},
            "broker.password",
            "without a username",
        ),
        ({**MQTT, "broker": {"host": "h", "tls": {"ca": "x"}}}, "broker.tls.ca", "unknown key"),
        ({**MQTT, "broker": "mqtt://h"}, "broker", "must be a mapping"),
        ({**MQTT, "profile": "generic_json"}, "paths", "at least one JSON path"),
        ({**Z2M, "paths": {"power": "$.p"}}, "paths.power", "unknown field"),
        ({**Z2M, "paths": {"total_power": "$.a..b"}}, "paths.total_power", "malformed JSON path"),
        ({**MQTT, "paths": {"total_power": "$.p"}}, "paths", "not used by dsmr_reader"),
        ({**MQTT, "topic": "dsmr/#"}, "topic", "without wildcards"),
        ({**MQTT, "topic": "dsmr/reading/"}, "topic", "without wildcards"),
        ([1, 2], "(top level)", "must be a mapping"),
    ],
)
def test_config_errors_name_the_key(data: Any, key: str, reason: str) -> None:
    with pytest.raises(MeterConfigError) as caught:
        parse_meter_config(data, where="meters.yaml")
    assert caught.value.key == key
    assert reason in caught.value.reason
    assert str(caught.value).startswith(f"meters.yaml: {key}: ")


def test_valid_configs() -> None:
    rtu = parse_meter_config(
        {"name": "sub", "kind": "modbus_rtu", "serial_port": "/dev/ttyUSB0", "profile": "sdm120",
         "baudrate": 2400, "parity": "E"},
        where="x",
    )  # fmt: skip
    assert rtu.kind is SourceKind.MODBUS_RTU
    assert rtu.modbus is not None
    assert (rtu.modbus.baudrate, rtu.modbus.parity) == (2400, "E")
    tls = parse_meter_config({**MQTT, "broker": {"host": "h", "tls": True}}, where="x")
    assert tls.mqtt is not None
    assert tls.mqtt.broker.port == 8883
    assert tls.mqtt.topic == "dsmr/reading"


def test_user_profile_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "my_meter.yaml"
    path.write_text(
        "name: My meter\nregisters:\n"
        "  total_power: {address: 10, data_type: int32, register_type: input, unit: kW}\n"
        "  import_energy: {address: 20, data_type: uint32, scale: 0.1, unit: Wh}\n"
    )
    profile = load_profile(str(path))
    assert profile.name == "My meter"
    power = profile.spec("total_power")
    assert power is not None
    assert power.encode(3000.0) == [0, 3]  # 3 kW in an int32 register
    assert power.decode([0, 3]) == 3000.0
    assert power.unit_factor == 1000.0
    assert parse_meter_config({**TCP, "profile": str(path)}, where="x").modbus is not None


@pytest.mark.parametrize(
    ("text", "key", "reason"),
    [
        ("name: x\nregisters: {}\n", "registers", "at least one"),
        ("name: x\nregisters:\n  power: {address: 1}\n", "registers.power", "unknown field"),
        ("name: x\nregisters:\n  total_power: {address: -1}\n", "registers.total_power.address",
         "between 0 and 65535"),
        ("name: x\nregisters:\n  total_power: {address: 1, data_type: float16}\n",
         "registers.total_power.data_type", "one of"),
        ("name: x\nregisters:\n  total_power: {address: 1, unit: kWh}\n",
         "registers.total_power.unit", "one of"),
        ("name: x\nregisters:\n  total_power: {address: 1, scale: 0}\n",
         "registers.total_power.scale", "must not be 0"),
        ("name: [unclosed\n", "profile", "cannot read"),
    ],
)  # fmt: skip
def test_profile_file_errors(tmp_path: Path, text: str, key: str, reason: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(MeterConfigError) as caught:
        load_profile(str(path))
    assert caught.value.key == key
    assert reason in caught.value.reason


def test_profile_file_that_does_not_exist() -> None:
    with pytest.raises(MeterConfigError, match=r"unknown profile '/nonexistent/meter\.yaml'"):
        load_profile("/nonexistent/meter.yaml")


async def test_probe_of_an_unreachable_device_says_why() -> None:
    port = free_port()
    cfg = parse_meter_config({**TCP, "port": port, "request_timeout": 0.5}, where="x")
    with pytest.raises(MeterProbeError, match=f"grid: cannot connect to 127.0.0.1:{port}"):
        await probe(cfg)


def test_backoff_grows_with_jitter_and_resets() -> None:
    import random

    backoff = Backoff(initial=1.0, maximum=8.0, jitter=0.2, rng=random.Random(4))
    delays = [backoff.next_delay() for _ in range(6)]
    for delay, base in zip(delays, [1, 2, 4, 8, 8, 8], strict=True):
        assert base * 0.8 <= delay <= base * 1.2
    assert len(set(delays)) == len(delays)  # jittered, not lockstep
    backoff.reset()
    assert backoff.next_delay() <= 1.2
