"""`eflux-backend serve --log-format json` as a real process: every line on stderr is one JSON
object (time, level, logger, message, and the access log's extras); `text` stays the default."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path


def run_serve(tmp_path: Path, port: int, *extra: str) -> list[str]:
    """Start, answer one request, stop with SIGTERM; the stderr lines."""
    argv = [
        sys.executable,
        "-m",
        "backend.cli",
        "--database",
        str(tmp_path / "b.sqlite"),
        "serve",
        "--port",
        str(port),
        *extra,
    ]
    proc = subprocess.Popen(argv, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    try:
        for _ in range(400):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health") as answer:
                    assert answer.status == 200
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
    return [line for line in err.splitlines() if line.strip()]


def test_serve_logs_json_lines(tmp_path: Path, unused_port: Callable[[], int]) -> None:
    lines = run_serve(tmp_path, unused_port(), "--log-format", "json")
    records = [json.loads(line) for line in lines]  # every line parses
    assert all({"time", "level", "logger", "message"} <= set(r) for r in records)
    access = [r for r in records if "/api/v1/health" in r["message"]]
    assert access, lines
    assert access[0]["client_address"] == "127.0.0.1"  # an access-log extra, as a field
    assert any(r["logger"] == "backend.serve" and r["level"] == "WARNING" for r in records)


def test_text_stays_the_default(tmp_path: Path, unused_port: Callable[[], int]) -> None:
    lines = run_serve(tmp_path, unused_port())
    assert lines
    assert not any(line.startswith("{") for line in lines)
    assert any(" WARNING backend.serve " in line for line in lines)
