"""`eflux-local --config site.yaml` as a real process: serves, stops cleanly, explains failures."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import yaml


def config_file(tmp_path: Path, central_port: int, api_port: int) -> Path:
    path = tmp_path / "site.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "central": {"host": "127.0.0.1", "port": central_port},
                "circuits": [{"id": "grid", "limit_a": 25}],
                "chargers": [{"id": "CP-1", "circuit": "grid"}],
                "api": {"host": "127.0.0.1", "port": api_port},
            }
        )
    )
    return path


def start(path: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "custom_components.eflux.core.runner", "--config", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_the_runner_serves_the_api_and_stops_on_sigterm(
    tmp_path: Path, unused_port: Callable[[], int]
) -> None:
    api_port = unused_port()
    process = start(config_file(tmp_path, unused_port(), api_port))
    try:
        site = None
        for _ in range(200):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{api_port}/api/site") as answer:
                    site = json.load(answer)
                break
            except OSError:
                if process.poll() is not None:
                    break
                time.sleep(0.05)
        assert site is not None, process.stderr.read() if process.poll() is not None else ""
        assert site["fuse_a"] == [25.0, 25.0, 25.0]
        process.send_signal(signal.SIGTERM)
        assert process.wait(10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_a_port_in_use_is_a_clear_error(tmp_path: Path, unused_port: Callable[[], int]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        process = start(config_file(tmp_path, port, unused_port()))
        _, err = process.communicate(timeout=20)
    assert process.returncode == 1
    assert "cannot start" in err
    assert str(port) in err
