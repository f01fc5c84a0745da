"""Meter source settings: parsed from a mapping (YAML, config entry) with clear errors, and
turned into a running `MeterSource` by `build.build_source`.

```yaml
name: grid                 # required, unique
kind: modbus_tcp           # modbus_tcp | modbus_rtu | modbus_rtu_over_tcp | mqtt
profile: sdm630            # built-in profile name or a path to a YAML register map
host: 192.168.1.50         # modbus_tcp, modbus_rtu_over_tcp
port: 502
serial_port: /dev/ttyUSB0  # modbus_rtu (+ baudrate, parity N/E/O, stopbits, bytesize)
device_id: 1
poll_interval: 1.0         # seconds between Modbus polls
timeout: 10                # seconds without a good reading -> stale
fuse_a: 25                 # optional; readings above 10 x fuse are implausible
```
MQTT sources take `profile` (dsmr_reader, p1_monitor, tasmota_sml, tasmota_energy, shelly_pro_3em,
shelly_gen1_3em, zigbee2mqtt, generic_json), `topic` (the device's topic or prefix), `paths`
(generic_json, tasmota_sml, zigbee2mqtt) and a `broker` mapping (host, port, username, password,
protocol 3.1.1|5, tls: {ca_file, certfile, keyfile, insecure}).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .errors import MeterConfigError
from .mqtt_payload import check_paths
from .mqtt_profiles import default_topic
from .profile import load_profile
from .values import Fields


class SourceKind(StrEnum):
    MODBUS_TCP = "modbus_tcp"
    MODBUS_RTU = "modbus_rtu"
    MODBUS_RTU_OVER_TCP = "modbus_rtu_over_tcp"
    MQTT = "mqtt"


MQTT_PROFILES = (
    "dsmr_reader",
    "p1_monitor",
    "tasmota_sml",
    "tasmota_energy",
    "shelly_pro_3em",
    "shelly_gen1_3em",
    "zigbee2mqtt",
    "generic_json",
)
PATH_PROFILES = ("generic_json", "tasmota_sml", "zigbee2mqtt")  # take `paths`


@dataclass(frozen=True, slots=True)
class ModbusSettings:
    profile: str
    device_id: int = 1
    host: str | None = None
    port: int = 502
    serial_port: str | None = None
    baudrate: int = 9600
    parity: str = "N"
    stopbits: int = 1
    bytesize: int = 8
    poll_interval_s: float = 1.0
    request_timeout_s: float = 2.0


@dataclass(frozen=True, slots=True)
class TlsSettings:
    ca_file: str | None = None
    certfile: str | None = None
    keyfile: str | None = None
    insecure: bool = False


@dataclass(frozen=True, slots=True)
class BrokerSettings:
    host: str
    port: int = 1883
    username: str | None = None
    password: str | None = None
    protocol: str = "3.1.1"  # or "5"
    tls: TlsSettings | None = None
    client_id: str | None = None
    keepalive_s: int = 30


@dataclass(frozen=True, slots=True)
class MqttSettings:
    profile: str
    topic: str
    broker: BrokerSettings
    paths: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MeterSourceConfig:
    name: str
    kind: SourceKind
    timeout_s: float = 10.0
    fuse_a: float | None = None
    modbus: ModbusSettings | None = None
    mqtt: MqttSettings | None = None


_COMMON = {"name", "kind", "timeout", "fuse_a", "profile"}
_MODBUS = {"device_id", "poll_interval", "request_timeout"}
_TCP = {"host", "port"}
_SERIAL = {"serial_port", "baudrate", "parity", "stopbits", "bytesize"}
_MQTT = {"topic", "broker", "paths"}
_BROKER = {"host", "port", "username", "password", "protocol", "tls", "client_id", "keepalive"}


def parse_meter_config(data: Mapping[str, Any], *, where: str) -> MeterSourceConfig:
    """Check one source's settings. Raises `MeterConfigError(key, reason)` naming the key;
    `where` (a file name, "config entry") prefixes the message.
    """
    fields = Fields(data, where=where)
    name = fields.text("name")
    kind = SourceKind(fields.choice("kind", tuple(k.value for k in SourceKind)))
    timeout_s = fields.number("timeout", 10.0, low=0.1, high=86400)
    fuse_a = fields.optional_number("fuse_a", low=1, high=10000)
    if kind is SourceKind.MQTT:
        fields.reject_unknown(_COMMON | _MQTT)
        return MeterSourceConfig(name, kind, timeout_s, fuse_a, mqtt=_parse_mqtt(fields))
    allowed = _COMMON | _MODBUS | (_SERIAL if kind is SourceKind.MODBUS_RTU else _TCP)
    fields.reject_unknown(allowed)
    return MeterSourceConfig(name, kind, timeout_s, fuse_a, modbus=_parse_modbus(fields, kind))


def _parse_modbus(fields: Fields, kind: SourceKind) -> ModbusSettings:
    profile = fields.text("profile")
    try:
        load_profile(profile)
    except MeterConfigError as err:
        # a bad profile file says where inside it; an unknown name needs no prefix
        raise fields.error("profile", str(err) if err.where else err.reason) from err
    common: dict[str, Any] = {
        "profile": profile,
        "device_id": fields.integer("device_id", 1, low=0, high=247),
        "poll_interval_s": fields.number("poll_interval", 1.0, low=0.05, high=3600),
        "request_timeout_s": fields.number("request_timeout", 2.0, low=0.05, high=60),
    }
    if kind is SourceKind.MODBUS_RTU:
        return ModbusSettings(
            serial_port=fields.text("serial_port"),
            baudrate=fields.integer("baudrate", 9600, low=300, high=1_000_000),
            parity=fields.choice("parity", ("N", "E", "O"), "N"),
            stopbits=fields.integer("stopbits", 1, low=1, high=2),
            bytesize=fields.integer("bytesize", 8, low=5, high=8),
            **common,
        )
    return ModbusSettings(
        host=fields.text("host"), port=fields.integer("port", 502, low=1, high=65535), **common
    )


def _parse_mqtt(fields: Fields) -> MqttSettings:
    profile = fields.choice("profile", MQTT_PROFILES)
    paths_field = fields.sub("paths")
    paths: dict[str, str] = {}
    for key in paths_field.data:
        paths[str(key)] = paths_field.text(str(key))
    if profile == "generic_json" and not paths:
        raise fields.error("paths", "generic_json needs at least one JSON path")
    if paths and profile not in PATH_PROFILES:
        raise fields.error("paths", f"not used by {profile} (only by {', '.join(PATH_PROFILES)})")
    check_paths(paths, paths_field)
    topic = fields.text("topic", default_topic(profile))
    if any(c in topic for c in "#+") or topic != topic.strip("/"):
        raise fields.error("topic", f"must be a plain topic without wildcards, got {topic!r}")
    return MqttSettings(profile, topic, parse_broker(fields.sub("broker")), paths)


def parse_broker(fields: Fields) -> BrokerSettings:
    """Broker settings (shared with the bridge's own `mqtt:` block)."""
    fields.reject_unknown(_BROKER)
    tls: TlsSettings | None = None
    if fields.has("tls"):
        raw = fields.data["tls"]
        if raw is True:
            tls = TlsSettings()
        elif raw is not False:
            sub = fields.sub("tls")
            sub.reject_unknown({"ca_file", "certfile", "keyfile", "insecure"})
            tls = TlsSettings(
                ca_file=sub.optional_text("ca_file"),
                certfile=sub.optional_text("certfile"),
                keyfile=sub.optional_text("keyfile"),
                insecure=sub.flag("insecure"),
            )
    username = fields.optional_text("username")
    password = fields.data.get("password")
    if password is not None and not isinstance(password, str):
        raise fields.error("password", "must be a string")
    if password is not None and username is None:
        raise fields.error("password", "given without a username")
    return BrokerSettings(
        host=fields.text("host"),
        port=fields.integer("port", 8883 if tls else 1883, low=1, high=65535),
        username=username,
        password=password,
        protocol=str(fields.choice("protocol", ("3.1.1", "5"), "3.1.1")),
        tls=tls,
        client_id=fields.optional_text("client_id"),
        keepalive_s=fields.integer("keepalive", 30, low=5, high=3600),
    )
