"""bridge.yaml: the broker, the topic layout and the Modbus devices to poll.

```yaml
mqtt: {host: 127.0.0.1, port: 1883, username: bridge, password: secret, protocol: "5"}
base_topic: eflux                 # state under eflux/<device>/...
discovery_prefix: homeassistant   # Home Assistant MQTT discovery
devices:
  - {name: grid, kind: modbus_tcp, host: 192.168.1.50, profile: sdm630, fuse_a: 25}
  - {name: heat_pump, kind: modbus_rtu, serial_port: /dev/ttyUSB0, profile: sdm120, device_id: 2}
central:                          # optional: mirror the chargers of an eflux-local runner
  url: http://127.0.0.1:8088
  token: only-when-the-api-is-not-on-loopback
```
Every error names the file, the key (e.g. `devices[1].port`) and the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from custom_components.eflux.core.meters.config import (
    BrokerSettings,
    MeterSourceConfig,
    SourceKind,
    parse_broker,
    parse_meter_config,
)
from custom_components.eflux.core.meters.errors import MeterConfigError
from custom_components.eflux.core.meters.values import Fields

from .central_api import CentralSettings

_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_TOPIC = re.compile(r"^[^#+\s]+$")  # no wildcards or blanks in a publish topic


class BridgeConfigError(Exception):
    """`file: key: reason`, ready to print."""

    def __init__(self, file: str, key: str, reason: str) -> None:
        self.file = file
        self.key = key
        self.reason = reason
        super().__init__(f"{file}: {key}: {reason}")


@dataclass(frozen=True, slots=True)
class BridgeConfig:
    broker: BrokerSettings
    devices: tuple[MeterSourceConfig, ...]
    base_topic: str = "eflux"
    discovery_prefix: str = "homeassistant"
    central: CentralSettings | None = None


def load_bridge_config(path: str | Path) -> BridgeConfig:
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise BridgeConfigError(file, "(file)", f"cannot read: {err}") from err
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise BridgeConfigError(file, "(file)", f"not valid YAML: {err}") from err
    return parse_bridge_config(data, file=file)


def parse_bridge_config(data: Any, *, file: str) -> BridgeConfig:
    try:
        return _parse(data, file)
    except MeterConfigError as err:
        raise BridgeConfigError(file, err.key, err.reason) from err


def _parse(data: Any, file: str) -> BridgeConfig:
    top = Fields(data, where=file)
    top.reject_unknown({"mqtt", "base_topic", "discovery_prefix", "devices", "central"})
    if not top.has("mqtt"):
        raise top.error("mqtt", "is required (the broker to publish to)")
    broker = parse_broker(top.sub("mqtt"))
    base_topic = _topic(top, "base_topic", "eflux")
    discovery = _topic(top, "discovery_prefix", "homeassistant")
    central = _central(top.sub("central")) if top.has("central") else None
    raw_devices = top.data.get("devices", [] if central else None)
    if not isinstance(raw_devices, list) or not (raw_devices or central):
        raise top.error("devices", "must be a non-empty list of Modbus devices (or set central)")
    devices: list[MeterSourceConfig] = []
    for index, raw in enumerate(raw_devices):
        key = f"devices[{index}]"
        try:
            device = parse_meter_config(raw, where=file)
        except MeterConfigError as err:
            raise MeterConfigError(f"{key}.{err.key}", err.reason) from err
        if device.kind is SourceKind.MQTT:
            raise MeterConfigError(f"{key}.kind", "the bridge polls Modbus devices only")
        if not _SLUG.match(device.name):
            raise MeterConfigError(
                f"{key}.name", "use lower-case letters, digits, '_' or '-' (it is a topic level)"
            )
        if any(d.name == device.name for d in devices):
            raise MeterConfigError(f"{key}.name", f"{device.name!r} is used twice")
        devices.append(device)
    return BridgeConfig(broker, tuple(devices), base_topic, discovery, central)


def _central(fields: Fields) -> CentralSettings:
    fields.reject_unknown({"url", "token"})
    url = fields.text("url")
    if not url.startswith(("http://", "https://")):
        raise fields.error("url", f"must start with http:// or https://, got {url!r}")
    return CentralSettings(url=url, token=fields.optional_text("token"))


def _topic(fields: Fields, name: str, default: str) -> str:
    value = fields.text(name, default).strip("/")
    if not _TOPIC.match(value):
        raise fields.error(name, "must be a topic without wildcards or spaces")
    return value
