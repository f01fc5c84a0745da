"""Forward compatibility with the Home Assistant users run (2026.x) while the tests run on
2025.4: the hassfest/HACS rules applied to our files, no deprecated device-registry call
outside compat.py, no update-reload-and-abort next to the entry's update listener, and the
compat helpers doing the right thing on the HA installed here."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from PIL import Image
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.eflux import compat
from custom_components.eflux.const import DOMAIN

ROOT = Path(__file__).resolve().parents[2] / "custom_components" / "eflux"
TRANSLATION_FILES = [ROOT / "strings.json", *sorted((ROOT / "translations").glob("*.json"))]
# hassfest: no URLs (use description placeholders) and no HTML-like `<...>` in strings.
FORBIDDEN = re.compile(r"[a-z]+://|www\.|<[^>]*>", re.IGNORECASE)


def _leaves(tree: dict[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in tree.items():
        path = f"{prefix}.{key}" if prefix else key
        out.update(_leaves(value, path) if isinstance(value, dict) else {path: value})
    return out


@pytest.mark.parametrize("path", TRANSLATION_FILES, ids=lambda p: p.name)
def test_translation_strings_have_no_urls_or_markup(path: Path) -> None:
    strings = _leaves(json.loads(path.read_text(encoding="utf-8")))
    assert {k: v for k, v in strings.items() if FORBIDDEN.search(v)} == {}


def test_the_rule_catches_what_it_should() -> None:
    for bad in ("see https://x.y", "ws://<host>:<port>/", "at www.example.com", "a <b>c</b>"):
        assert FORBIDDEN.search(bad), bad
    assert not FORBIDDEN.search("Chargers connect at {url}.")


@pytest.mark.parametrize(
    ("name", "size"),
    [
        ("icon.png", (256, 256)),
        ("icon@2x.png", (512, 512)),
        ("logo.png", None),
        ("logo@2x.png", None),
    ],
)
def test_brand_images(name: str, size: tuple[int, int] | None) -> None:
    """HACS's brands check and HA 2026.3+'s local brand folder: PNG, icon square 256 (512
    @2x), logo with its short side 128-256 (256-512 @2x)."""
    with Image.open(ROOT / "brand" / name) as image:
        assert image.format == "PNG"
        assert image.mode == "RGBA"  # a transparent background
        if size is not None:
            assert image.size == size
        else:
            low, high = (256, 512) if "@2x" in name else (128, 256)
            assert low <= min(image.size) <= high


DEPRECATED_CALLS = {"async_get_device", "async_update_reload_and_abort"}
DEPRECATED_KEYWORDS = {"via_device", "remove_config_entry_id", "add_config_entry_id"}


def _deprecated_uses(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in DEPRECATED_CALLS:
            found.append(f"{node.attr}:{node.lineno}")
        if isinstance(node, ast.keyword) and node.arg in DEPRECATED_KEYWORDS:
            found.append(f"{node.arg}=:{node.lineno}")
        # DeviceEntry.config_entries (hass.config_entries is the config entry manager)
        if (
            isinstance(node, ast.Attribute)
            and node.attr == "config_entries"
            and not (isinstance(node.value, ast.Attribute) and node.value.attr == "hass")
            and not (isinstance(node.value, ast.Name) and node.value.id == "hass")
        ):
            found.append(f"config_entries:{node.lineno}")
    return found


def test_no_deprecated_registry_or_flow_call_outside_compat() -> None:
    offenders = {
        path.name: uses
        for path in sorted(ROOT.glob("*.py"))
        if path.name != "compat.py"
        and (uses := _deprecated_uses(ast.parse(path.read_text(encoding="utf-8"))))
    }
    assert offenders == {}


def test_the_scan_catches_a_deprecated_call() -> None:
    code = (
        "d = registry.async_get_device({(DOMAIN, x)})\n"
        "registry.async_update_device(d.id, remove_config_entry_id=e)\n"
        "ids = device.config_entries\n"
        "ok = hass.config_entries.async_entries()\n"
        "DeviceInfo(via_device=(DOMAIN, y))\n"
    )
    expected = ["async_get_device:1", "remove_config_entry_id=:2", "config_entries:3"]
    assert sorted(_deprecated_uses(ast.parse(code))) == sorted([*expected, "via_device=:5"])


async def test_compat_helpers_on_the_installed_home_assistant(hass: HomeAssistant) -> None:
    entry = MockConfigEntry(domain=DOMAIN)
    entry.add_to_hass(hass)
    registry = dr.async_get(hass)
    site = dr.DeviceInfo(identifiers={(DOMAIN, "site")}, name="site")
    box_info = compat.with_via_device(
        hass, entry.entry_id, dr.DeviceInfo(identifiers={(DOMAIN, "box")}, name="box"), site
    )
    registry.async_get_or_create(config_entry_id=entry.entry_id, **site)
    box = registry.async_get_or_create(config_entry_id=entry.entry_id, **box_info)
    found_site = compat.get_device(registry, (DOMAIN, "site"), entry.entry_id)
    assert found_site is not None
    assert box.via_device_id == found_site.id
    assert compat.get_device(registry, (DOMAIN, "box"), entry.entry_id) == box
    assert compat.device_entry_ids(box) == {entry.entry_id}
    compat.remove_device(registry, box.id, entry.entry_id)
    assert compat.get_device(registry, (DOMAIN, "box"), entry.entry_id) is None
