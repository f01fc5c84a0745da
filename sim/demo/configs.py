"""The configuration files the demo writes into its work dir for the processes it starts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .console_part import console_settings
from .scenario import Scenario


@dataclass(frozen=True, slots=True)
class Ports:
    central: int
    api: int
    modbus: int
    mqtt: int


# The demo runs for a minute or two: the controller's calm-down times are shortened so that starts,
# increases and rotation happen while you watch (a real site keeps the defaults).
DEMO_TUNING = {
    "hysteresis_a": 1.0,
    "min_change_interval_s": 5,
    "ramp_step_a": 6.0,
    "start_delay_s": 5,
    "stop_delay_s": 30,
    "rotation_interval_s": 30,
}


def site_config(
    scenario: Scenario, ports: Ports, meter: dict[str, Any], cloud: dict[str, str] | None = None
) -> dict[str, Any]:
    """The site.yaml of the local site (`eflux-local --config`); `cloud`: site.yaml `cloud:`
    (the demo back end, when it runs)."""
    return ({"cloud": cloud} if cloud else {}) | {
        "central": {
            "host": "127.0.0.1",
            "port": ports.central,
            "db_path": "central.sqlite",
            "cards": [c.card for c in scenario.chargers],
            "meter_sample_interval_s": 1,
            "heartbeat_interval_s": 60,
        },
        "site": {"default_mode": "dynamic", "tuning": DEMO_TUNING},
        # Re-plan every 30 s instead of 15 min, so the plan follows the demo's changing load.
        "controller": {"planner_interval_s": 30},
        "circuits": [
            {
                "id": "grid",
                "name": "Grid connection",
                "limit_a": scenario.fuse_a,
                "margin_a": scenario.margin_a,
            }
        ],
        "meters": [{"name": "grid", "circuit": "grid", **meter}],
        "chargers": [
            {
                "id": c.id,
                "name": c.name,
                "circuit": "grid",
                "charge_point": c.id,
                "wiring": list(c.wiring),
                "max_current_a": c.max_current_a,
                "battery_kwh": c.battery_kwh,
            }
            for c in scenario.chargers
        ],
        "api": {"enabled": True, "host": "127.0.0.1", "port": ports.api},
        "console": console_settings(),  # the manager's console (console_part.py)
    }


BRIDGE_BASE_TOPIC = "eflux"
GRID_DEVICE = "grid"


def bridge_config(scenario: Scenario, ports: Ports) -> dict[str, Any]:
    """The bridge.yaml of `eflux-bridge`: poll the SDM630 grid meter and publish it."""
    return {
        "mqtt": {"host": "127.0.0.1", "port": ports.mqtt, "client_id": "eflux-demo-bridge"},
        "base_topic": BRIDGE_BASE_TOPIC,
        "devices": [
            {
                "name": GRID_DEVICE,
                "kind": "modbus_tcp",
                "host": "127.0.0.1",
                "port": ports.modbus,
                "profile": "sdm630",
                "poll_interval": 0.25,
                "fuse_a": scenario.fuse_a,
            }
        ],
    }


def mqtt_meter(ports: Ports) -> dict[str, Any]:
    """The site reads the bridge's state JSON (eflux/grid/state) from the broker."""
    fields = [f"{kind}_l{n}" for kind in ("current", "voltage", "power") for n in (1, 2, 3)]
    fields += ["total_power", "import_energy", "export_energy"]
    return {
        "kind": "mqtt",
        "timeout": 5,
        "profile": "generic_json",
        "topic": f"{BRIDGE_BASE_TOPIC}/{GRID_DEVICE}/state",
        "paths": {field: field for field in fields},
        "broker": {"host": "127.0.0.1", "port": ports.mqtt, "client_id": "eflux-demo-site"},
    }


def modbus_meter(ports: Ports) -> dict[str, Any]:
    return {
        "kind": "modbus_tcp",
        "timeout": 5,
        "profile": "sdm630",
        "host": "127.0.0.1",
        "port": ports.modbus,
        "poll_interval": 0.25,
    }


def write_yaml(path: Path, data: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path
