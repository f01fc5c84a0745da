"""The architecture's hard rule: only the HA layer may import Home Assistant."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HA_FREE = ["custom_components/eflux/core", "backend", "mqtt_bridge", "sim"]


def homeassistant_imports(source: str) -> list[int]:
    """Line numbers of statements importing `homeassistant` (anywhere in the module)."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        if any(name == "homeassistant" or name.startswith("homeassistant.") for name in names):
            lines.append(node.lineno)
    return lines


@pytest.mark.parametrize("package", HA_FREE)
def test_package_never_imports_homeassistant(package: str) -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in sorted((ROOT / package).rglob("*.py"))
        for line in homeassistant_imports(path.read_text(encoding="utf-8"))
    ]
    assert offenders == [], f"{package} must not import homeassistant: {offenders}"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import homeassistant", [1]),
        ("import os\nfrom homeassistant.core import HomeAssistant", [2]),
        ("def f():\n    import homeassistant.helpers as h", [2]),
        ("import homeassistant_like\nfrom . import homeassistant", []),
    ],
)
def test_detector_finds_every_form(source: str, expected: list[int]) -> None:
    assert homeassistant_imports(source) == expected
