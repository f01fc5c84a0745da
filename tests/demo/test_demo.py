"""`scripts/demo --headless --duration 60`: every part starts, the cars charge under the fuse, the
summary says so, and the exit code follows the fuse verdict."""

from __future__ import annotations

import json
import re
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]


def run_demo(workdir: Path, *args: str, timeout: float = 200) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sim.demo", "--workdir", str(workdir), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def highest_phase(summary: str) -> tuple[float, float]:
    match = re.search(r"highest phase current: ([\d.]+) A on L\d \(fuse ([\d.]+) A\)", summary)
    assert match, summary
    return float(match.group(1)), float(match.group(2))


def test_headless_demo_runs_a_minute_under_the_fuse_and_reports(tmp_path: Path) -> None:
    result = run_demo(tmp_path / "demo", "--headless", "--duration", "60", "--no-hass")
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert "RESULT: OK" in out
    # The standalone site's console, the demo manager logged in once (sim/demo/console_part.py).
    assert re.search(r"console\s+http://127\.0\.0\.1:\d+/console/\s+\(login manager / ", out)
    # eflux-local synced with the demo back end (site.yaml cloud:): the cloud's site config,
    # the carport open to guests, is in the site's file for the console's report.
    with sqlite3.connect(tmp_path / "demo" / "site" / "central.sqlite") as db:
        row = db.execute("SELECT value FROM cloud_sync_state WHERE key = 'site_config'").fetchone()
    assert row is not None, "the standalone site never heard from the demo cloud"
    carport = next(c for c in json.loads(row[0])["charge_points"] if c["ocpp_id"] == "carport")
    assert carport["guest_usage"] is True
    assert re.search(r"fuse: never exceeded \(\d+ ticks\)", out)
    highest, fuse = highest_phase(out)
    assert 0 < highest <= fuse
    # The cars drew energy through the balancer, and the planner judged each one.
    energies = {
        m.group(1): float(m.group(2))
        for m in re.finditer(r"^\s{4}(\w+)\s+.+?\s+([\d.]+) kWh\s+SoC", out, re.MULTILINE)
    }
    assert set(energies) == {"garage", "driveway", "carport"}, out
    assert sum(energies.values()) > 0, out
    verdicts = re.findall(r"will (NOT )?be ready", out)
    assert len(verdicts) == 3, out
    # The 1-phase car leaves in two hours with 37.5 kWh to go at 3.7 kW at most: not ready.
    assert re.search(r"carport .* will NOT be ready", out), out
    # Every child was stopped: nothing listens on the ports it announced any more.
    for port in re.findall(r"127\.0\.0\.1:(\d+)", out):
        assert not _port_open(int(port)), f"port {port} still open after the demo"


def test_full_demo_sets_up_home_assistant_and_the_cloud_link(tmp_path: Path) -> None:
    """The default demo: HA with the integration from its config flow, the chargers as its
    devices, the back end's site token accepted by the cloud link."""
    result = run_demo(tmp_path / "demo", "--headless", "--duration", "15")
    out = result.stdout
    # HA sets up only what the demo's configuration lists and the venv can load: no default
    # integration failing on a missing package (metno, radios, gtts), nothing failing at all.
    hass_log = (tmp_path / "demo" / "logs" / "hass.log").read_text(errors="replace")
    assert "No module named" not in hass_log
    assert "Setup failed for" not in hass_log
    assert result.returncode == 0, out + result.stderr
    assert re.search(r"Home Assistant\s+http://127\.0\.0\.1:\d+\s+\(login demo / ", out), out
    # The integration serves the console too (its option, set through the options flow): the
    # demo manager logged in once over HTTP (sim/demo/console_part.py), as with --no-hass.
    served = re.search(
        r"local site API\s+http://127\.0\.0\.1:(\d+)\s+\(served by Home Assistant\)", out
    )
    assert served, out
    assert not _port_open(int(served.group(1))), "the console's port still open after the demo"
    assert re.search(r"console\s+http://127\.0\.0\.1:\d+/console/\s+\(login manager / ", out), out
    ha = re.search(r"home assistant: E-Flux entry loaded; (\d+) entities; chargers (.+)", out)
    assert ha, out
    assert int(ha.group(1)) > 0
    assert ha.group(2).split(", ") == ["carport", "driveway", "garage"]
    assert "cloud sync: ok" in out
    assert len(re.findall(r"will (NOT )?be ready", out)) == 3, out
    # The installer's step (options flow): the single-phase carport is on L3 with its 16 A
    # breaker, not the three-phase default (else its amps on L3 passed for household there).
    entries = json.loads(
        (tmp_path / "demo" / "ha" / ".storage" / "core.config_entries").read_text()
    )
    eflux = next(e for e in entries["data"]["entries"] if e["domain"] == "eflux")
    carport = eflux["options"]["charger_settings"]["carport"]
    assert (carport["wiring"], carport["max_current_a"]) == (["L3"], 16.0)
    assert re.search(r"power: [\d.]+ kW delivered against [\d.]+ kW that fit", out), out


def test_an_unusable_work_dir_fails_the_demo_clearly(tmp_path: Path) -> None:
    workdir = tmp_path / "demo"
    workdir.write_text("a file where the demo's directory must go")
    result = run_demo(workdir, "--headless", "--duration", "5", "--no-hass", timeout=60)
    assert result.returncode == 1
    assert "demo: failed" in result.stderr
    assert str(workdir) in result.stderr


def _started(workdir: Path) -> tuple[subprocess.Popen[str], list[int]]:
    """A demo (no HA, no back end) up to its "Ctrl-C stops everything" line, and its ports."""
    process = subprocess.Popen(
        [sys.executable, "-m", "sim.demo", "--workdir", str(workdir), "--no-hass", "--no-backend"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    lines = []
    for line in process.stdout:
        lines.append(line)
        if "Ctrl-C stops everything" in line:
            break
    else:
        pytest.fail("".join(lines) + (process.stderr.read() if process.stderr else ""))
    ports = [int(p) for p in re.findall(r"127\.0\.0\.1:(\d+)", "".join(lines))]
    assert ports
    return process, ports


# Ctrl-C, `kill`, and closing the demo's terminal (SIGHUP) all end every child.
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_signal_stops_every_child(tmp_path: Path, sig: signal.Signals) -> None:
    process, ports = _started(tmp_path / "demo")
    process.send_signal(sig)
    process.communicate(timeout=60)
    assert process.returncode == 130
    for port in ports:
        assert not _port_open(port), f"port {port} still open after {sig.name}"


def test_a_second_demo_on_the_same_work_dir_stops_at_once(tmp_path: Path) -> None:
    workdir = tmp_path / "demo"
    first, ports = _started(workdir)
    try:
        second = run_demo(workdir, "--headless", "--duration", "5", "--no-hass", timeout=60)
        assert second.returncode == 1
        assert f"another demo (pid {first.pid}) runs in {workdir}" in second.stderr
        for port in ports:  # the first one is untouched
            assert _port_open(port)
    finally:
        first.send_signal(signal.SIGINT)
        first.communicate(timeout=60)
    assert first.returncode == 130
    # Its lock went with it: the work dir is free again (a killed demo frees it the same way).
    third, _ = _started(workdir)
    third.send_signal(signal.SIGTERM)
    third.communicate(timeout=60)
    assert third.returncode == 130


def _port_open(port: int) -> bool:
    import socket

    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0
