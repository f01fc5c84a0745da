"""`eflux-bridge` as a process: config errors exit non-zero naming file/key/reason; a killed
bridge is announced offline by its last will; SIGTERM stops it cleanly.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.bridge.conftest import Subscriber, write_config
from tests.meters.conftest import SimFactory
from tests.meters.helpers import GUARD_S
from tests.support.mosquitto import MosquittoBroker

ROOT = Path(__file__).resolve().parents[2]
DEVICE = {"name": "grid", "kind": "modbus_tcp", "host": "127.0.0.1", "port": 5020,
          "profile": "sdm630"}  # fmt: skip


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mqtt_bridge", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ({"devices": [DEVICE]}, "mqtt: is required"),
        ({"mqtt": {"host": "h", "port": 0}, "devices": [DEVICE]}, "mqtt.port: must be between"),
        ({"mqtt": {"host": "h"}, "devices": []}, "devices: must be a non-empty list"),
        ({"mqtt": {"host": "h"}, "devices": [{**DEVICE, "port": "502"}]},
         "devices[0].port: must be a whole number"),
        ({"mqtt": {"host": "h"}, "devices": [DEVICE, {**DEVICE, "profile": "nope"}]},
         "devices[1].profile: unknown profile 'nope'"),
        ({"mqtt": {"host": "h"}, "devices": [DEVICE, DEVICE]}, "devices[1].name: 'grid' is used"),
        ({"mqtt": {"host": "h"}, "devices": [{**DEVICE, "name": "Grid Meter"}]},
         "devices[0].name: use lower-case"),
        ({"mqtt": {"host": "h"}, "devices": [{"name": "p1", "kind": "mqtt", "profile":
          "dsmr_reader", "broker": {"host": "h"}}]}, "devices[0].kind: the bridge polls Modbus"),
        ({"mqtt": {"host": "h"}, "devices": [DEVICE], "base_topic": "a/#"}, "base_topic: must"),
        ({"mqtt": {"host": "h"}, "devices": [DEVICE], "extra": 1}, "extra: unknown key"),
    ],
)  # fmt: skip
def test_config_errors_exit_non_zero_with_file_key_reason(
    tmp_path: Path, content: dict[str, Any], expected: str
) -> None:
    import yaml

    path = tmp_path / "bridge.yaml"
    path.write_text(yaml.safe_dump(content))
    result = run_cli("--config", str(path))
    assert result.returncode == 2
    assert f"{path}: {expected}" in result.stderr


@pytest.mark.parametrize(
    ("text", "expected"), [("mqtt: [unclosed\n", "(file): not valid YAML"), (None, "cannot read")]
)
def test_unreadable_or_broken_file(tmp_path: Path, text: str | None, expected: str) -> None:
    path = tmp_path / "bridge.yaml"
    if text is not None:
        path.write_text(text)
    result = run_cli("--config", str(path))
    assert result.returncode == 2
    assert expected in result.stderr


async def start_bridge_process(config: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "mqtt_bridge", "--config", str(config),
        cwd=ROOT, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


@pytest.mark.parametrize(("sig", "clean"), [(signal.SIGKILL, False), (signal.SIGTERM, True)])
async def test_availability_goes_offline_when_the_bridge_dies_or_stops(
    tmp_path: Path,
    mqtt_broker: MosquittoBroker,
    modbus_sim: SimFactory,
    sig: signal.Signals,
    clean: bool,
) -> None:
    _sim, port = await modbus_sim("sdm120", {"voltage_l1": 230.0, "power_l1": 5.0})
    base = f"t{sig.value}"
    config = write_config(
        tmp_path / "bridge.yaml",
        mqtt_broker.port,
        [{**DEVICE, "port": port, "profile": "sdm120", "poll_interval": 0.1}],
        base_topic=base,
    )
    watcher = Subscriber(mqtt_broker.host, mqtt_broker.port, (f"{base}/#",))
    process = await start_bridge_process(config)
    try:
        await watcher.wait_for(f"{base}/bridge/availability", "online")
        await watcher.wait_for(f"{base}/grid/voltage_l1", "230.0")
        seen = len(watcher.on(f"{base}/bridge/availability"))
        process.send_signal(sig)
        code = await asyncio.wait_for(process.wait(), GUARD_S)
        await watcher.wait_for(f"{base}/bridge/availability", "offline", after=seen)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        watcher.close()
    assert (code == 0) is clean
