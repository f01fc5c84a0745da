"""site.yaml validation: every hostile or mistaken file is refused naming file, key and reason."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from custom_components.eflux.core.balancing import MeterLossPolicy, Mode, Phase
from custom_components.eflux.core.config import ConfigError, load_site_config
from custom_components.eflux.core.runner import main

GOOD: dict[str, Any] = {
    "central": {"port": 9100, "db_path": "data/central.sqlite", "cards": ["04A2B3C4"]},
    "site": {"default_mode": "dynamic", "tuning": {"min_change_interval_s": 20}},
    "circuits": [
        {"id": "grid", "limit_a": 25, "margin_a": 1},
        {"id": "garage", "limit_a": [16, 16, 16], "parent": "grid", "on_meter_loss": "stop"},
    ],
    "meters": [{"name": "p1", "circuit": "grid", "kind": "external", "timeout": 4}],
    "chargers": [
        {"id": "left", "circuit": "garage", "charge_point": "CP-1", "mode": "pv"},
        {
            "id": "right",
            "circuit": "garage",
            "charge_point": "CP-2",
            "wiring": ["L2", "L3", "L1"],
            "battery_kwh": 77,
            "safe_limit_a": 10,
        },
    ],
    "controller": {"safe_limit_valid_for_s": 3600},
    "api": {"host": "0.0.0.0", "token": "a-long-enough-token"},
    "console": {"enabled": False},  # no console password here (tests/console test that)
}


def write(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "site.yaml"
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data))
    return path


def changed(path: str, value: Any) -> dict[str, Any]:
    """GOOD with one value replaced; `path` like "chargers.1.wiring" (a `-` value deletes)."""
    data = yaml.safe_load(yaml.safe_dump(GOOD))
    *parents, last = path.split(".")
    node: Any = data
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    key: Any = int(last) if isinstance(node, list) else last
    if value == "-":
        del node[key]
    else:
        node[key] = value
    return data


def test_a_good_file_becomes_a_site_config(tmp_path: Path) -> None:
    config = load_site_config(write(tmp_path, GOOD))
    assert config.central.port == 9100
    assert config.central.db_path == tmp_path / "data/central.sqlite"
    assert config.central.known_charge_points == {"CP-1", "CP-2"}
    assert config.central.authorization.cards == {"04A2B3C4"}
    grid, garage = config.site.circuits
    assert (grid.limit_a, grid.margin_a, grid.metered) == ((25.0,) * 3, 1.0, True)
    assert (garage.parent, garage.metered, garage.on_meter_loss) == (
        "grid",
        False,
        MeterLossPolicy.STOP,
    )
    right = config.site.chargers[1]
    assert right.wiring == (Phase.L2, Phase.L3, Phase.L1)
    assert config.bindings["right"].charge_point_id == "CP-2"
    assert config.bindings["right"].safe_limit_a == 10.0
    assert config.cars["right"].battery_kwh == 77.0
    assert config.controller.modes == {"left": Mode.PV}
    assert config.controller.safe_limit_valid_for == timedelta(hours=1)
    assert config.site.tuning.min_change_interval == timedelta(seconds=20)
    assert config.meters[0].timeout_s == 4.0
    assert not config.api.loopback


@pytest.mark.parametrize(
    ("data", "key", "reason"),
    [
        (changed("circuits.0.limit_a", "lots"), "circuits[grid].limit_a", "must be a number"),
        (changed("circuits.0.limit_a", [25, 25]), "circuits[grid].limit_a", "three"),
        (changed("circuits.1.parent", "attic"), "circuits[garage].parent", "unknown circuit"),
        (changed("circuits.1.on_meter_loss", "panic"), "on_meter_loss", "must be one of"),
        (changed("chargers.0.circuit", "attic"), "chargers[left].circuit", "unknown circuit"),
        (changed("chargers.1.wiring", ["L4"]), "chargers[right].wiring[0]", "L1, L2 or L3"),
        (changed("chargers.1.wiring", ["L1", "L1"]), "chargers[right].wiring", "distinct"),
        (changed("chargers.0.max_current_a", -3), "chargers[left]", ""),
        (changed("chargers.0.max_current_a", float("nan")), "max_current_a", "must be a number"),
        (changed("chargers.0.priority", "high"), "chargers[left].priority", "whole number"),
        (changed("chargers.0.mode", "warp"), "chargers[left].mode", "must be one of"),
        (changed("chargers.0.max_curent_a", 10), "chargers[left].max_curent_a", "unknown"),
        (changed("chargers.1.id", "left"), "chargers[left]", "duplicate"),
        (changed("chargers.1.charge_point", "CP-1"), "chargers[right].connector", "already"),
        (changed("chargers.0.battery_kwh", 0), "chargers[left].battery_kwh", "≥ 1"),
        (changed("meters.0.circuit", "attic"), "meters[p1].circuit", "unknown circuit"),
        (changed("meters.0.timeout", "soon"), "meters[p1].timeout", "must be a number"),
        (changed("meters.0.kind", "mqtt"), "meters[p1]", ""),
        (changed("site.default_mode", "eco"), "site.default_mode", "must be one of"),
        (changed("site.tuning.start_delay_s", -1), "site.tuning.start_delay_s", "≥ 0"),
        (changed("central.port", 70000), "central.port", "≤ 65535"),
        (changed("api.token", "-"), "api.token", "required when the API listens on 0.0.0.0"),
        (changed("api.token", "short"), "api.token", "at least 16"),
        (changed("extra", 1), "extra", "unknown setting"),
        (changed("circuits", {"grid": 25}), "circuits", "must be a list"),
        (changed("chargers.0", "left"), "chargers[0]", "must be a mapping"),
        ([1, 2, 3], "(top level)", "must be a mapping"),
        ("circuits: [\n  {id: grid\n", "(file)", "not valid YAML: line"),
    ],
)
def test_mistakes_name_file_key_and_reason(
    tmp_path: Path, data: Any, key: str, reason: str
) -> None:
    path = write(tmp_path, data)
    with pytest.raises(ConfigError) as caught:
        load_site_config(path)
    err = caught.value
    assert err.file == str(path)
    assert key in err.key
    assert reason in err.reason
    assert str(err).startswith(f"{path}: ")


def test_binary_garbage_and_missing_files_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "site.yaml"
    path.write_bytes(b"\xff\xfe\x00garbage\x00")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_site_config(path)
    with pytest.raises(ConfigError, match="cannot be read"):
        load_site_config(tmp_path / "missing.yaml")
    path.write_bytes(b"a: " + b"x" * 1_000_001)
    with pytest.raises(ConfigError, match="larger than"):
        load_site_config(path)


def test_the_runner_says_what_is_wrong_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, changed("chargers.0.mode", "warp"))
    assert main(["--config", str(path), "--check"]) == 2
    err = capsys.readouterr().err
    assert str(path) in err
    assert "chargers[left].mode" in err
    assert "must be one of" in err
    assert main(["--config", str(write(tmp_path, GOOD)), "--check"]) == 0
    assert "OK (2 chargers)" in capsys.readouterr().out
