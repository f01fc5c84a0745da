"""Home Assistant for the demo: `hass -c .demo/ha` with the integration set up as a user would.

Onboarding's owner account is created over the onboarding API (so the UI starts logged-in
ready, without the wizard); HA's MQTT integration is pointed at the demo's broker, where the
bridge announces the grid meter's sensors by MQTT discovery; then the E-Flux Local config flow
is walked through over the REST API: OCPP port, grid fuse and margin, the meter from those
sensors, and the cloud back end with the site token. The chargers then connect to HA's central
system, and the demo reads plans and sets departures through HA's states and services.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from .hass_client import HassClient, HassError
from .procs import Children, StartupError, free_port
from .scenario import DemoCharger, Scenario

ROOT = Path(__file__).resolve().parents[2]
OWNER = ("demo", "demo-password")
GRID_SENSOR = "sensor.eflux_grid_{}"  # the bridge's discovery object ids (base topic eflux)

CONFIGURATION = """\
homeassistant:
  name: E-Flux Local demo
  latitude: 52.09
  longitude: 5.12
  elevation: 2
  unit_system: metric
  time_zone: {timezone}
  country: NL
  currency: EUR
http:
  server_host: 127.0.0.1
  server_port: {port}
api:
config:
frontend:
onboarding:
websocket_api:
logger:
  default: warning
"""


ONBOARDED = {
    "version": 4,
    "minor_version": 1,
    "key": "onboarding",
    "data": {"done": ["core_config", "analytics", "integration"]},
}


@dataclass(frozen=True, slots=True)
class HassSettings:
    ocpp_port: int
    mqtt_port: int
    cloud_url: str | None
    cloud_token: str | None


class HassSite:
    """The demo's view of the site inside Home Assistant: plans and departures."""

    def __init__(self, client: HassClient, entry_id: str) -> None:
        self.client = client
        self.base = client.url
        self.entry_id = entry_id
        self._entities: dict[str, dict[str, Any]] = {}

    async def close(self) -> None:
        await self.client.close()

    async def _entity(self, charger: str, key: str) -> dict[str, Any] | None:
        unique_id = f"{self.entry_id}_{charger}_{key}"
        if unique_id not in self._entities:
            await self._load_registry()
        return self._entities.get(unique_id)

    async def _load_registry(self) -> None:
        self._entities = {
            entry["unique_id"]: entry
            for entry in await self.client.ws({"type": "config/entity_registry/list"})
            if entry.get("platform") == "eflux"
        }

    async def chargers(self) -> dict[str, dict[str, Any]]:
        """Per charger the planner's `expected_finish` and `ready_by_departure`."""
        plans: dict[str, dict[str, Any]] = {}
        for entry in self._entities.values():
            unique_id: str = entry["unique_id"]
            for key, field in (
                ("_expected_finish", "expected_finish"),
                ("_ready_by_departure", "ready_by_departure"),
            ):
                if not unique_id.endswith(key):
                    continue
                charger = unique_id[len(self.entry_id) + 1 : -len(key)]
                state = await self.client.state(entry["entity_id"])
                value = "" if state is None else str(state["state"])
                if field == "ready_by_departure":
                    plans.setdefault(charger, {})[field] = {"on": True, "off": False}.get(value)
                else:
                    plans.setdefault(charger, {})[field] = value
        return plans

    async def describe(self) -> dict[str, str]:
        """For the summary: what Home Assistant shows of the site."""
        await self._load_registry()
        entries = await self.client.ws({"type": "config_entries/get", "domain": "eflux"})
        chargers = {
            e["unique_id"][len(self.entry_id) + 1 : -len("_expected_finish")]
            for e in self._entities.values()
            if e["unique_id"].endswith("_expected_finish")
        }
        facts = {
            "home assistant": f"E-Flux entry {', '.join(e['state'] for e in entries)}; "
            f"{len(self._entities)} entities; chargers {', '.join(sorted(chargers))}",
        }
        sync = next(
            (e for e in self._entities.values() if e["unique_id"].endswith("cloud_sync")), None
        )
        if sync is not None:
            state = await self.client.state(sync["entity_id"])
            facts["cloud sync"] = "unknown" if state is None else str(state["state"])
        return facts

    async def wait_for_charger(self, charger: DemoCharger) -> None:
        """Until the integration made the charger a device (it reloads its entry for each new
        charger; the demo connects them one at a time, as an installer would)."""
        for _ in range(200):
            if await self._entity(charger.id, "expected_finish") is not None:
                return
            self._entities.clear()
            await asyncio.sleep(0.3)
        raise HassError(f"charger {charger.id} did not become a device in Home Assistant")

    async def set_wirings(self, chargers: Sequence[DemoCharger]) -> None:
        """A charger accepted as new is taken for three-phase on L1, L2, L3 with a 32 A breaker:
        the demo's chargers have 16 A ones, and its single-phase carport is on L3 (else the
        balancer, seeing its car on the charger's first phase, counts its amps on L3 as
        household and keeps the three-phase cars out). Set through the options flow, as an
        installer would."""
        steps: list[dict[str, Any]] = [{"next_step_id": "circuits"}]
        for charger in chargers:
            steps += [
                {"next_step_id": "charger"},
                {"charger": charger.id},
                {
                    "circuit": "grid",
                    "wiring": ",".join(charger.wiring),
                    "max_current_a": charger.max_current_a,
                    "priority": 0,
                    "managed": True,
                    "can_switch_phases": False,
                },
            ]
        await self.client.options_flow(self.entry_id, *steps, {"next_step_id": "save"})
        await self._wait_reloaded()
        for charger in chargers:
            await self.wait_for_charger(charger)

    async def serve_console(self, port: int, manager_password: str) -> str:
        """The integration's option "Local API and building console" (docs/home-assistant.md):
        the local API and the manager's console on `port` of loopback, the manager's password
        given as a user would (the integration keeps only its hash); the API's base URL."""
        answers = {
            "serve_api": True,
            "api_port": port,
            "api_host": "127.0.0.1",
            "manager_password": manager_password,
        }
        await self.client.options_flow(self.entry_id, {"next_step_id": "console"}, answers)
        await self._wait_reloaded()
        return f"http://127.0.0.1:{port}"

    async def _wait_reloaded(self) -> None:
        """Saved options reload the entry: wait until it is loaded again."""
        self._entities.clear()
        for _ in range(200):
            entries = await self.client.request("GET", "/api/config/config_entries/entry")
            if any(e["entry_id"] == self.entry_id and e["state"] == "loaded" for e in entries):
                return
            await asyncio.sleep(0.3)
        raise HassError("the E-Flux entry did not load again after its options were saved")

    async def set_departure(self, charger: DemoCharger, departure: datetime) -> None:
        entity = await self._entity(charger.id, "expected_finish")
        if entity is None:
            raise HassError(f"no E-Flux device for charger {charger.id} in Home Assistant")
        await self.client.call(
            "eflux",
            "set_departure",
            {
                "device_id": entity["device_id"],
                "departure": departure.isoformat(),
                "soc": charger.soc,
                "battery_kwh": charger.battery_kwh,
                "target_soc": charger.target_soc,
            },
        )


async def start_hass(
    children: Children, argv: list[str], config_dir: Path, scenario: Scenario, s: HassSettings
) -> HassSite:
    port = free_port()
    (config_dir / "configuration.yaml").write_text(
        CONFIGURATION.format(port=port, timezone=scenario.timezone), encoding="utf-8"
    )
    # Onboarding's core_config step sets up met, radio_browser and google_translate, whose
    # packages the demo's venv lacks ("No module named 'metno'"): marked done beforehand, only
    # the owner is created. The configuration lists what the demo needs (no default_config).
    storage = config_dir / ".storage"
    storage.mkdir(exist_ok=True)
    (storage / "onboarding").write_text(json.dumps(ONBOARDED), encoding="utf-8")
    components = config_dir / "custom_components"
    components.mkdir()
    (components / "eflux").symlink_to(ROOT / "custom_components" / "eflux")
    client = HassClient(f"http://127.0.0.1:{port}")
    children.env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    try:
        await children.start(
            "hass",
            [*argv, "-c", str(config_dir), "--skip-pip"],
            ready=client.answers,
            timeout_s=240,
        )
    finally:
        children.env = None
    try:
        await client.onboard(*OWNER)
        await client.flow("mqtt", {"broker": "127.0.0.1", "port": s.mqtt_port})
        await _wait_for_states(client, [GRID_SENSOR.format(f"current_l{n}") for n in (1, 2, 3)])
        cloud: dict[str, Any] = {}
        if s.cloud_url and s.cloud_token:
            cloud = {"cloud_url": s.cloud_url, "cloud_token": s.cloud_token}
        entry = await client.flow(
            "eflux",
            {"port": s.ocpp_port, "accept_new_chargers": True},
            {
                "phases": "3",
                "fuse_amps": int(scenario.fuse_a),
                "safety_margin_amps": int(scenario.margin_a),
            },
            {"next_step_id": "meter_sensors"},
            {
                **{f"current_l{n}": GRID_SENSOR.format(f"current_l{n}") for n in (1, 2, 3)},
                "power": GRID_SENSOR.format("total_power"),
            },
            cloud,
        )
    except HassError as err:
        await client.close()
        raise StartupError(f"Home Assistant: {err}") from err
    return HassSite(client, entry["result"]["entry_id"])


async def _wait_for_states(
    client: HassClient, entity_ids: list[str], timeout_s: float = 30
) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while loop.time() < deadline:
        states = []
        for entity_id in entity_ids:
            with contextlib.suppress(HassError):
                states.append(await client.state(entity_id))
        if all(s is not None and s["state"] not in ("unknown", "unavailable") for s in states):
            return
        await asyncio.sleep(0.5)
    raise HassError(f"the bridge's sensors {entity_ids} did not appear in Home Assistant")
