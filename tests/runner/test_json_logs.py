"""`eflux-local --log-format json` as a real process: every stderr line is one JSON object."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from custom_components.eflux.core.runner.main import main
from tests.runner.test_cli import config_file


def test_runner_logs_json_lines(tmp_path: Path, unused_port: Callable[[], int]) -> None:
    api_port = unused_port()
    path = config_file(tmp_path, unused_port(), api_port)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "custom_components.eflux.core.runner",
            "--config",
            str(path),
            "--log-format",
            "json",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for _ in range(400):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{api_port}/metrics") as answer:
                    assert b"eflux_local_chargers 1.0" in answer.read()
                break
            except OSError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    records = [json.loads(line) for line in err.splitlines() if line.strip()]
    assert any(r["message"].startswith("local API on http://127.0.0.1") for r in records)
    assert all(r["level"] in {"DEBUG", "INFO", "WARNING", "ERROR"} for r in records)


def test_an_unknown_log_format_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--config", "x.yaml", "--log-format", "xml"])
    assert exited.value.code == 2
    assert "invalid choice: 'xml'" in capsys.readouterr().err
