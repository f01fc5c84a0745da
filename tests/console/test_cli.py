"""`eflux-local --set-password`, `--hash-password` and the refusal to start a console on the
network without a password, as a user runs them (a real process; the in-process checks of
short passwords and the file are in test_access.py)."""

from __future__ import annotations

import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import yaml

from custom_components.eflux.core.config import load_site_config
from custom_components.eflux.core.runner.console.hashing import verify_password

from .server import site_yaml

ROOT = Path(__file__).resolve().parents[2]
RUNNER = [sys.executable, "-m", "custom_components.eflux.core.runner"]


def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*RUNNER, *args], input=stdin, capture_output=True, text=True, cwd=ROOT, timeout=60,
        check=False,
    )  # fmt: skip


def test_set_password_lets_a_networked_site_start(tmp_path: Path) -> None:
    data = site_yaml(tmp_path)
    data["api"] = {"host": "0.0.0.0", "token": "a-long-enough-token"}
    del data["console"]
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump(data))
    refused = run("--config", str(path), "--check")
    assert refused.returncode == 2
    assert "console.password" in refused.stderr
    assert "--set-password" in refused.stderr
    stored = run("--config", str(path), "--set-password", stdin="correct-horse-battery\n")
    assert stored.returncode == 0, stored.stderr
    assert "correct-horse-battery" not in stored.stdout
    assert verify_password("correct-horse-battery", (tmp_path / "console-password").read_text())
    assert load_site_config(path).console.password_hash is not None  # it starts now


def test_hash_password_prints_a_hash_for_a_card_entry() -> None:
    printed = run("--hash-password", stdin="resident-password\n")
    assert printed.returncode == 0, printed.stderr
    assert verify_password("resident-password", printed.stdout.strip())


def test_the_runner_says_where_the_console_is_and_its_port_leads_there(tmp_path: Path) -> None:
    """A user who starts eflux-local finds the console: the address on standard output (the
    port really taken: api.port 0 here), and the API's port opened in a browser (`/`) leads to
    the console's login, also when the API has a token."""
    data = site_yaml(tmp_path)
    data["api"] = {"host": "127.0.0.1", "port": 0, "token": "a-long-enough-token"}
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump(data))
    checked = run("--config", str(path), "--check")
    assert checked.returncode == 0, checked.stderr
    assert "console: http://127.0.0.1:" in checked.stdout
    process = subprocess.Popen(
        [*RUNNER, "--config", str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, cwd=ROOT,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # blocks until the runner prints it (or exits)
        match = re.search(r"building console: (http://127\.0\.0\.1:(\d+)/console/)", line)
        assert match, (line, process.poll())
        assert int(match[2]) > 0
        with urllib.request.urlopen(match[1].replace("/console/", "/"), timeout=10) as page:
            assert page.url.endswith("/console/login")  # / → /console/ → its login
            assert b'name="password"' in page.read()
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert process.returncode == 0
