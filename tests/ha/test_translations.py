"""English and Dutch are complete and consistent with the code, services.yaml and icons."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from custom_components.eflux import (
    binary_sensor,
    button,
    number,
    select,
    sensor,
    session_sensors,
    switch,
)
from custom_components.eflux import datetime as eflux_datetime
from custom_components.eflux.cloud import SYNC_SENSOR
from custom_components.eflux.core.meters.config import MQTT_PROFILES
from custom_components.eflux.core.meters.profile import builtin_profiles

ROOT = Path(__file__).resolve().parents[2] / "custom_components" / "eflux"
STRINGS = json.loads((ROOT / "strings.json").read_text(encoding="utf-8"))
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _leaves(tree: dict[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in tree.items():
        path = f"{prefix}.{key}" if prefix else key
        out.update(_leaves(value, path) if isinstance(value, dict) else {path: value})
    return out


LANGUAGES = sorted(p.stem for p in (ROOT / "translations").glob("*.json"))


def test_the_languages() -> None:
    assert LANGUAGES == ["de", "en", "fr", "nl"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_string_is_translated_with_the_same_placeholders(language: str) -> None:
    """Every key of strings.json exists in every language (and nothing else), with the same
    placeholders."""
    translated = _leaves(json.loads((ROOT / "translations" / f"{language}.json").read_text()))
    english = _leaves(STRINGS)
    assert translated.keys() == english.keys()
    for key, text in english.items():
        assert translated[key].strip(), key
        assert set(PLACEHOLDER.findall(translated[key])) == set(PLACEHOLDER.findall(text)), key


@pytest.mark.parametrize("language", ["nl", "de", "fr"])
def test_a_translation_is_not_english(language: str) -> None:
    english = _leaves(STRINGS)
    dutch = _leaves(json.loads((ROOT / "translations" / f"{language}.json").read_text()))
    # Product names (selector.profile) are the same in every language.
    same = [
        k
        for k, v in english.items()
        if dutch[k] == v and len(v.split()) > 2 and not k.startswith("selector.profile.")
    ]
    assert same == []


PLATFORM_DESCRIPTIONS: dict[str, list[Any]] = {
    "sensor": [
        *sensor.CHARGER_SENSORS,
        *sensor.SITE_SENSORS,
        sensor.PRICE_SENSOR,
        SYNC_SENSOR,
        *session_sensors.HISTORY_SENSORS,
        session_sensors.CARD_ENERGY,
        session_sensors.CARD_COST,
    ],
    "binary_sensor": list(binary_sensor.BINARY_SENSORS),
    "button": list(button.BUTTONS),
    "number": list(number.NUMBERS),
    "select": [select.MODE, select.PHASES],
    "switch": list(switch.SWITCHES),
    "datetime": [eflux_datetime.DEPARTURE],
}


def _descriptions() -> list[Any]:
    return [d for descriptions in PLATFORM_DESCRIPTIONS.values() for d in descriptions]


def test_entity_translation_keys_exist_with_their_states() -> None:
    for platform, descriptions in PLATFORM_DESCRIPTIONS.items():
        for description in descriptions:
            if description.translation_key is None:  # named by its device class
                assert description.device_class is not None, description.key
                continue
            section = STRINGS["entity"][platform]
            assert description.translation_key in section, (platform, description.key)
            options = getattr(description, "options", None)
            if options:
                assert set(section[description.translation_key]["state"]) == set(options)


def test_icons_name_only_known_translation_keys() -> None:
    icons = json.loads((ROOT / "icons.json").read_text())
    for platform, keys in icons["entity"].items():
        assert set(keys) <= set(STRINGS["entity"][platform]), platform
    assert set(icons["services"]) == set(STRINGS["services"])


def test_services_yaml_matches_the_translations() -> None:
    services = yaml.safe_load((ROOT / "services.yaml").read_text())
    assert set(services) == set(STRINGS["services"])
    for name, spec in services.items():
        assert set(spec["fields"]) == set(STRINGS["services"][name]["fields"]), name


def test_exception_and_issue_keys_used_in_code_exist() -> None:
    code = "\n".join(p.read_text() for p in ROOT.glob("*.py"))
    used = set(re.findall(r'translation_key="(\w+)"', code))
    known = (
        set(STRINGS["exceptions"])
        | set(STRINGS["issues"])
        | {d.translation_key for d in _descriptions() if d.translation_key}
    )
    assert used <= known, used - known
    for issue in ("meter_stale", "charger_offline", "port_conflict"):
        assert issue in STRINGS["issues"]


def test_every_meter_profile_has_a_translated_name() -> None:
    names = STRINGS["selector"]["profile"]["options"]
    assert set(names) == set(builtin_profiles()) | set(MQTT_PROFILES)
