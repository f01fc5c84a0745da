"""site.yaml rules for buildings: `x-` anchors ignored, "did you mean", circuits above parents."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from custom_components.eflux.core.config import ConfigError, load_site_config
from custom_components.eflux.core.config.checks import circuit_warnings
from custom_components.eflux.core.runner import main

BUILDING = """
x-three-phase: &three_phase
  circuit: garage
  max_current_a: 16
  battery_kwh: 60
x-rotated: [L2, L3, L1]
circuits:
  - {id: grid, limit_a: 63, margin_a: 2}
  - {id: garage, limit_a: 32, parent: grid}
chargers:
  - {<<: *three_phase, id: a, charge_point: CP-A}
  - {<<: *three_phase, id: b, charge_point: CP-B, wiring: [L2, L3, L1]}
api: {enabled: false}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "site.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_top_level_x_keys_hold_anchors_and_are_ignored(tmp_path: Path) -> None:
    config = load_site_config(write(tmp_path, BUILDING))
    chargers = {c.id: c for c in config.site.chargers}
    assert chargers["a"].circuit == chargers["b"].circuit == "garage"
    assert chargers["b"].max_current_a == 16
    assert [p.name for p in chargers["b"].wiring] == ["L2", "L3", "L1"]
    assert config.cars["a"].battery_kwh == 60


@pytest.mark.parametrize(
    ("text", "key"),
    [
        # an x- key below the top level is a mistake like any other
        (BUILDING.replace("margin_a: 2}", "margin_a: 2, x-note: 1}"), "circuits[grid].x-note"),
        # a key that merely contains x- is not an extension
        (BUILDING + "max-x-y: 1\n", "max-x-y"),
    ],
)
def test_x_keys_are_only_ignored_at_the_top_level(tmp_path: Path, text: str, key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_site_config(write(tmp_path, text))
    assert caught.value.key == key
    assert caught.value.reason.startswith("unknown setting")


@pytest.mark.parametrize(
    ("typo", "key", "suggestion"),
    [
        ("wirring: [L1]", "chargers[b].wirring", "did you mean `wiring`?"),
        ("max_curent_a: 10", "chargers[b].max_curent_a", "did you mean `max_current_a`?"),
        ("charge_piont: CP-C", "chargers[b].charge_piont", "did you mean `charge_point`?"),
    ],
)
def test_unknown_key_suggests_the_nearest_known_one(
    tmp_path: Path, typo: str, key: str, suggestion: str
) -> None:
    text = BUILDING.replace("wiring: [L2, L3, L1]}", f"wiring: [L2, L3, L1], {typo}}}")
    with pytest.raises(ConfigError) as caught:
        load_site_config(write(tmp_path, text))
    assert caught.value.key == key
    assert caught.value.reason == f"unknown setting; {suggestion}"


def test_top_level_typo_is_suggested_and_nonsense_is_not(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_site_config(write(tmp_path, BUILDING + "chargerz: []\n"))
    assert caught.value.reason == "unknown setting; did you mean `chargers`?"
    with pytest.raises(ConfigError) as caught:
        load_site_config(write(tmp_path, BUILDING + "qwertyuiop: 1\n"))
    assert caught.value.reason == "unknown setting"


def test_circuit_above_its_parent_is_warned_about_not_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = yaml.safe_load(BUILDING)
    data["circuits"][1]["limit_a"] = [32, 80, 32]
    data["circuits"].append({"id": "bar", "limit_a": 20, "parent": "garage"})
    for key in [k for k in data if k.startswith("x-")]:
        del data[key]
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    config = load_site_config(path)
    assert circuit_warnings(config.site.circuits) == (
        "circuits[garage].limit_a is above its parent 'grid''s (L2 80 A > 63 A):"
        " the parent's limit is what holds",
    )
    assert main(["--config", str(path), "--check"]) == 0
    out = capsys.readouterr().out
    assert "warning: circuits[garage].limit_a is above its parent 'grid''s" in out
    assert "OK (2 chargers)" in out


def test_no_warning_when_every_circuit_fits_its_parent(tmp_path: Path) -> None:
    config = load_site_config(write(tmp_path, BUILDING))
    assert circuit_warnings(config.site.circuits) == ()
