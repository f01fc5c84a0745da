"""What the bridge publishes: state JSON, one topic per value, availability, HA discovery."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from custom_components.eflux.core.meters.profile import Profile
from custom_components.eflux.core.meters.reading import MeterReading

ONLINE, OFFLINE = "online", "offline"


@dataclass(frozen=True, slots=True)
class Value:
    key: str
    name: str
    device_class: str
    state_class: str
    unit: str


def _phase_values(key: str, name: str, device_class: str, unit: str) -> list[Value]:
    return [
        Value(f"{key}_l{n}", f"{name} L{n}", device_class, "measurement", unit) for n in (1, 2, 3)
    ]


VALUES: tuple[Value, ...] = (
    *_phase_values("current", "Current", "current", "A"),
    *_phase_values("voltage", "Voltage", "voltage", "V"),
    *_phase_values("power", "Power", "power", "W"),
    Value("total_power", "Power", "power", "measurement", "W"),
    Value("import_energy", "Energy imported", "energy", "total_increasing", "kWh"),
    Value("export_energy", "Energy exported", "energy", "total_increasing", "kWh"),
)


def reading_values(reading: MeterReading) -> dict[str, float | None]:
    """The reading flattened to the value keys (None = not measured or not a finite number)."""
    values: dict[str, float | None] = {}
    for n in range(3):
        values[f"current_l{n + 1}"] = reading.current_a[n]
        values[f"voltage_l{n + 1}"] = reading.voltage_v[n]
        values[f"power_l{n + 1}"] = reading.power_w[n]
    values["total_power"] = reading.total_power_w
    values["import_energy"] = reading.import_kwh
    values["export_energy"] = reading.export_kwh
    return {k: v if v is not None and math.isfinite(v) else None for k, v in values.items()}


@dataclass(frozen=True, slots=True)
class Topics:
    base: str
    discovery_prefix: str

    @property
    def bridge_availability(self) -> str:
        return f"{self.base}/bridge/availability"

    def state(self, device: str) -> str:
        return f"{self.base}/{device}/state"

    def value(self, device: str, key: str) -> str:
        return f"{self.base}/{device}/{key}"

    def availability(self, device: str) -> str:
        return f"{self.base}/{device}/availability"

    def discovery(self, device: str, key: str) -> str:
        return f"{self.discovery_prefix}/sensor/{self.base}_{device}/{key}/config"


def state_payload(reading: MeterReading) -> str:
    body: dict[str, Any] = {
        "timestamp": reading.timestamp.isoformat(),
        "quality": reading.quality.value,
        **reading_values(reading),
    }
    if reading.problems:
        body["problems"] = list(reading.problems)
    return json.dumps(body, allow_nan=False)


def discovery_payload(topics: Topics, device: str, profile: Profile, value: Value) -> str:
    """A retained Home Assistant MQTT discovery config for one sensor."""
    return json.dumps(
        {
            "name": value.name,
            "unique_id": f"{topics.base}_{device}_{value.key}",
            "object_id": f"{topics.base}_{device}_{value.key}",
            "state_topic": topics.value(device, value.key),
            "device_class": value.device_class,
            "state_class": value.state_class,
            "unit_of_measurement": value.unit,
            "availability": [
                {"topic": topics.bridge_availability},
                {"topic": topics.availability(device)},
            ],
            "availability_mode": "all",
            "device": {
                "identifiers": [f"{topics.base}_{device}"],
                "name": device,
                "model": profile.name,
                "manufacturer": profile.name.split()[0],
            },
            "origin": {"name": "eflux-bridge"},
        }
    )


def measured(profile: Profile) -> tuple[Value, ...]:
    """The values this profile can deliver (no discovery for what the device lacks)."""
    fields = {spec.field for spec in profile.registers}
    if {"power_l1", "power_l2", "power_l3"} <= fields:
        fields.add("total_power")
    return tuple(v for v in VALUES if v.key in fields)
