"""manifest.json, hacs.json and translations follow the HA and HACS rules."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from importlib.metadata import version
from pathlib import Path

import homeassistant
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
INTEGRATION = ROOT / "custom_components" / "eflux"


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_manifest_has_the_keys_home_assistant_requires() -> None:
    manifest = _load(INTEGRATION / "manifest.json")
    # hassfest: domain and name first, the rest sorted; custom integrations need a version.
    keys = list(manifest)
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:])
    assert manifest["domain"] == "eflux" == INTEGRATION.name
    assert manifest["config_flow"] is True
    assert manifest["iot_class"] == "local_push"
    assert manifest["integration_type"] == "hub"
    assert manifest["documentation"].startswith("https://")
    assert manifest["issue_tracker"].startswith("https://")
    assert all(owner.startswith("@") for owner in manifest["codeowners"])
    assert tuple(int(p) for p in manifest["version"].split(".")) >= (0, 1, 0)


# What Home Assistant pins itself (package_constraints.txt, and its own modbus integration's
# manifest since 2025.8 pins pymodbus into the constraints) beyond the 2025.4 installed here:
# a requirement outside these makes setup fail with "Requirements for eflux not found".
HA_PINS_BEYOND_2025_4 = {"2026.7": {"pymodbus": "3.13.1"}, "2025.4 modbus": {"pymodbus": "3.8.3"}}
# Libraries whose internals we rely on (docs/architecture.md: the ocpp library's gaps) stay
# pinned; Home Assistant does not pin them.
PINNED_ON_PURPOSE = {"ocpp"}


def _requirements() -> list[Requirement]:
    return [Requirement(r) for r in _load(INTEGRATION / "manifest.json")["requirements"]]


def test_manifest_requirements_are_installed_ranges() -> None:
    for requirement in _requirements():
        installed = version(requirement.name)
        assert requirement.specifier.contains(installed), f"installed {requirement.name}"
        if requirement.name not in PINNED_ON_PURPOSE:
            assert not any(s.operator == "==" for s in requirement.specifier), requirement
            assert any(s.operator == "<" for s in requirement.specifier), f"{requirement}: cap"
    # websockets is the demo broker's pin, not the integration's: HA brings its own.
    assert "websockets" not in {r.name for r in _requirements()}


def test_manifest_requirements_install_beside_home_assistants_pins() -> None:
    constraints = (Path(homeassistant.__file__).parent / "package_constraints.txt").read_text()
    pins = {
        Requirement(line).name.lower(): Requirement(line)
        for line in constraints.splitlines()
        if line and not line.startswith("#") and "==" in line
    }
    for requirement in _requirements():
        pinned = pins.get(requirement.name.lower())
        if pinned is not None:  # HA 2025.4 (installed) pins it: ours must admit its version
            (own,) = pinned.specifier
            assert requirement.specifier.contains(own.version), (requirement, pinned)
    for release, pinned_there in HA_PINS_BEYOND_2025_4.items():
        for requirement in _requirements():
            if requirement.name in pinned_there:
                assert requirement.specifier.contains(pinned_there[requirement.name]), release


def test_hacs_json_declares_the_minimum_home_assistant() -> None:
    hacs = _load(ROOT / "hacs.json")
    allowed = {
        "name",
        "content_in_root",
        "zip_release",
        "filename",
        "hide_default_branch",
        "country",
        "homeassistant",
        "persistent_directory",
        "render_readme",
        "hacs",
    }
    assert set(hacs) <= allowed
    assert hacs["name"]
    assert hacs["homeassistant"] == "2025.4.0"
    assert hacs["render_readme"] is True


def test_pyproject_pins_the_ha_test_plugin_for_ha_2025_4() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == ">=3.13"
    test_extra = project["optional-dependencies"]["test"]
    assert "pytest-homeassistant-custom-component==0.13.236" in test_extra
    assert version("homeassistant").startswith("2025.4.")


def _keys(tree: dict, prefix: str = "") -> set[str]:
    keys = set()
    for key, value in tree.items():
        path = f"{prefix}.{key}" if prefix else key
        keys |= _keys(value, path) if isinstance(value, dict) else {path}
    return keys


def test_translations_match_strings() -> None:
    strings = _load(INTEGRATION / "strings.json")
    assert _load(INTEGRATION / "translations" / "en.json") == strings
    for language in ("nl", "de", "fr"):
        assert _keys(_load(INTEGRATION / "translations" / f"{language}.json")) == _keys(strings)


# Home Assistant is only in the `test` extra: the runner and the bridge must work without it.
_WITHOUT_HA = """
import sys
sys.modules["homeassistant"] = None  # importing it now raises ImportError, as when not installed
import custom_components.eflux.core.runner as runner
import mqtt_bridge.cli as bridge
assert runner.main(["--config", sys.argv[1], "--check"]) == 0
try:
    bridge.main(["--help"])
except SystemExit as done:
    assert done.code == 0, done.code
loaded = sorted(m for m in sys.modules if m.startswith("homeassistant."))
assert not loaded, loaded
print("no-ha-ok")
"""


def test_runner_and_bridge_run_without_home_assistant(tmp_path: Path) -> None:
    site = tmp_path / "site.yaml"
    site.write_text(
        "central: {port: 9000, accept_new_chargers: true}\n"
        "circuits: [{id: grid, limit_a: 25}]\n"
        "chargers: [{id: CP-1, charge_point: CP-1, circuit: grid, max_current_a: 16}]\n",
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, "-c", _WITHOUT_HA, str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "site.yaml: OK (1 chargers)" in done.stdout
    assert "usage: eflux-bridge" in done.stdout
    assert done.stdout.rstrip().endswith("no-ha-ok")
