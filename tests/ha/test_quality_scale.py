"""quality_scale.yaml: every rule of the Integration Quality Scale is marked, exemptions say why."""

from __future__ import annotations

from pathlib import Path

import yaml

SCALE = Path(__file__).resolve().parents[2] / "custom_components" / "eflux" / "quality_scale.yaml"
RULES = {
    "bronze": "action-setup appropriate-polling brands common-modules config-flow-test-coverage "
    "config-flow dependency-transparency docs-actions docs-high-level-description "
    "docs-installation-instructions docs-removal-instructions entity-event-setup "
    "entity-unique-id has-entity-name runtime-data test-before-configure test-before-setup "
    "unique-config-entry",
    "silver": "action-exceptions config-entry-unloading docs-configuration-parameters "
    "docs-installation-parameters entity-unavailable integration-owner log-when-unavailable "
    "parallel-updates reauthentication-flow test-coverage",
    "gold": "devices diagnostics discovery-update-info discovery docs-data-update docs-examples "
    "docs-known-limitations docs-supported-devices docs-supported-functions "
    "docs-troubleshooting docs-use-cases dynamic-devices entity-category entity-device-class "
    "entity-disabled-by-default entity-translations exception-translations icon-translations "
    "reconfiguration-flow repair-issues stale-devices",
    "platinum": "async-dependency inject-websession strict-typing",
}


def test_every_rule_is_marked_and_exemptions_have_reasons() -> None:
    rules = yaml.safe_load(SCALE.read_text())["rules"]
    expected = {rule for tier in RULES.values() for rule in tier.split()}
    assert set(rules) == expected
    for name, rule in rules.items():
        status = rule if isinstance(rule, str) else rule["status"]
        assert status in ("done", "exempt", "todo"), name
        if status != "done":
            assert isinstance(rule, dict), name
            assert rule.get("comment"), f"{name} needs a reason"
            assert "\n" not in rule["comment"].strip(), f"{name}: one line of reason"
        assert status != "todo", f"{name} is still to do"
