"""Topic layout and Home Assistant discovery for mirrored chargers."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

MODES = ("off", "fast", "static", "dynamic", "pv", "pv_min", "smart")
COMMANDS = ("max_current", "mode", "start", "stop")
_ID = re.compile(r"^[^/#+\s]{1,64}$")

# value topic -> (key in the API's charger JSON, HA sensor device_class, unit, state_class)
SENSORS: dict[str, tuple[str, str | None, str | None, str | None]] = {
    "status": ("status", None, None, None),
    "power_w": ("power_w", "power", "W", "measurement"),
    "session_energy_kwh": ("session_energy_kwh", "energy", "kWh", "total_increasing"),
    "total_energy_kwh": ("total_energy_kwh", "energy", "kWh", "total_increasing"),
    "limit_a": ("limit_a", "current", "A", "measurement"),
    "soc": ("soc", "battery", "%", "measurement"),
    "balancer_status": ("balancer_status", None, None, None),
}
PLAIN = (*SENSORS, "online", "mode", "max_current_a")


@dataclass(frozen=True, slots=True)
class ChargerTopics:
    base: str
    discovery_prefix: str

    @property
    def command_filter(self) -> str:
        return f"{self.base}/charger/+/+/set"

    def usable_id(self, charger_id: str) -> bool:
        return bool(_ID.match(charger_id))

    def root(self, charger_id: str) -> str:
        return f"{self.base}/charger/{charger_id}"

    def state(self, charger_id: str) -> str:
        return f"{self.root(charger_id)}/state"

    def value(self, charger_id: str, key: str) -> str:
        return f"{self.root(charger_id)}/{key}"

    def availability(self, charger_id: str) -> str:
        return f"{self.root(charger_id)}/availability"

    def result(self, charger_id: str) -> str:
        return f"{self.root(charger_id)}/result"

    def command(self, charger_id: str, command: str) -> str:
        return f"{self.root(charger_id)}/{command}/set"

    def parse_command(self, topic: str) -> tuple[str, str] | None:
        prefix = f"{self.base}/charger/"
        if not topic.startswith(prefix) or not topic.endswith("/set"):
            return None
        parts = topic[len(prefix) : -len("/set")].split("/")
        return (parts[0], parts[1]) if len(parts) == 2 else None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def charger_values(charger: Mapping[str, Any]) -> dict[str, str]:
    """Per-value payloads (empty string = unknown), including per-phase currents."""
    values = {key: _text(charger.get(key)) for key in PLAIN}
    phases = charger.get("current_a")
    if isinstance(phases, list) and len(phases) == 3:
        for n, amps in enumerate(phases, start=1):
            values[f"current_l{n}"] = _text(amps)
    return values


def discovery_messages(
    topics: ChargerTopics, charger_id: str, charger: Mapping[str, Any]
) -> Iterator[tuple[str, str]]:
    uid = f"{topics.base}_charger_{charger_id}"
    device = {
        "identifiers": [uid],
        "name": str(charger.get("name") or charger_id),
        "manufacturer": str(charger.get("vendor") or "OCPP charger"),
        "model": str(charger.get("model") or "charge point"),
    }
    common = {
        "device": device,
        "availability_topic": topics.availability(charger_id),
        "origin": {"name": "eflux-bridge"},
    }

    def config(component: str, key: str, extra: dict[str, Any]) -> tuple[str, str]:
        body = {"unique_id": f"{uid}_{key}", "object_id": f"{uid}_{key}", **common, **extra}
        return f"{topics.discovery_prefix}/{component}/{uid}/{key}/config", json.dumps(body)

    for key, (_api_key, device_class, unit, state_class) in SENSORS.items():
        extra: dict[str, Any] = {"name": key.replace("_", " ").capitalize(),
                                 "state_topic": topics.value(charger_id, key)}  # fmt: skip
        for field, value in (("device_class", device_class), ("unit_of_measurement", unit),
                             ("state_class", state_class)):  # fmt: skip
            if value is not None:
                extra[field] = value
        yield config("sensor", key, extra)
    yield config("number", "max_current", {
        "name": "Max current", "command_topic": topics.command(charger_id, "max_current"),
        "state_topic": topics.value(charger_id, "max_current_a"), "min": 0, "max": 32,
        "step": 1, "unit_of_measurement": "A", "device_class": "current",
    })  # fmt: skip
    yield config("select", "mode", {
        "name": "Mode", "command_topic": topics.command(charger_id, "mode"),
        "state_topic": topics.value(charger_id, "mode"), "options": list(MODES),
    })  # fmt: skip
    for command in ("start", "stop"):
        yield config("button", command, {
            "name": command.capitalize(), "command_topic": topics.command(charger_id, command),
            "payload_press": "",
        })  # fmt: skip
