"""Site set-up in the UI at parity with site.yaml: the 20-charger building of issue 15
(sim/scenarios/building.yaml: a 3 x 63 A connection, garages of 3 x 32 A and 3 x 40 A, 14
three-phase chargers with rotated wiring and 6 single-phase ones) built through the options
flow gives the same circuits, chargers and bindings as the runner's parse of its site.yaml."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.eflux.const import (
    CONF_ACCEPT_NEW,
    CONF_FUSE_AMPS,
    CONF_MARGIN_AMPS,
    CONF_METER,
    CONF_PHASES,
    CONF_PORT,
    DOMAIN,
)
from custom_components.eflux.core.clock import SYSTEM_CLOCK
from custom_components.eflux.core.config import SiteConfig, parse_site_config
from custom_components.eflux.site_config import CONF_CHARGERS, build_site_config
from sim.scenarios.spec import Scenario, load
from sim.scenarios.world import World


def _runner_config(scenario: Scenario, tmp: Path) -> SiteConfig:
    """The building's site.yaml as the scenario runner writes and parses it."""
    document = World(scenario, SYSTEM_CLOCK, tmp)._site_yaml(9000, 5020)
    return parse_site_config(document, base_dir=tmp)


async def _menu(hass: HomeAssistant, flow_id: str, step: str) -> dict[str, Any]:
    result = await hass.config_entries.options.async_configure(flow_id, {"next_step_id": step})
    return dict(result)


async def test_the_building_through_the_flows_equals_its_site_yaml(
    hass: HomeAssistant, tmp_path: Path
) -> None:
    scenario = await hass.async_add_executor_job(load, "building")
    reference = await hass.async_add_executor_job(_runner_config, scenario, tmp_path)
    meter = {"type": "modbus", "host": "127.0.0.1", "modbus_port": 5020, "unit_id": 1}
    entry = MockConfigEntry(
        domain=DOMAIN,
        data={CONF_PORT: 9000},
        options={
            CONF_ACCEPT_NEW: False,
            CONF_PHASES: 3,
            CONF_FUSE_AMPS: 63,
            CONF_MARGIN_AMPS: 3,
            CONF_METER: {**meter, "profile": "sdm630"},
            CONF_CHARGERS: [c.id for c in scenario.chargers],  # as they joined
        },
    )
    entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    flow_id = result["flow_id"]
    result = await _menu(hass, flow_id, "circuits")
    assert result["type"] is FlowResultType.MENU
    for circuit in scenario.site["circuits"][1:]:  # the grid connection is the entry's own
        result = await _menu(hass, flow_id, "add_circuit")
        result = await hass.config_entries.options.async_configure(
            flow_id,
            {
                "id": circuit["id"],
                "name": circuit["name"],
                "parent": circuit["parent"],
                "limit_a": circuit["limit_a"],
                "margin_a": circuit["margin_a"],
                "on_meter_loss": "safe_limit",
            },
        )
        assert result["step_id"] == "circuits", result.get("errors")
    assert "garage_b" in result["description_placeholders"]["circuits"]

    # A second circuit with the same id, and a limit the parser refuses, are errors that keep
    # the form; nothing was added.
    await _menu(hass, flow_id, "add_circuit")
    same = {"id": "garage_a", "parent": "grid", "limit_a": 10, "margin_a": 0}
    result = await hass.config_entries.options.async_configure(
        flow_id, {**same, "on_meter_loss": "safe_limit"}
    )
    assert result["errors"] == {"id": "circuit_exists"}
    result = await hass.config_entries.options.async_configure(
        flow_id, {**same, "id": "x", "limit_a": 20, "margin_a": 25, "on_meter_loss": "stop"}
    )
    assert result["errors"] == {"base": "invalid_site"}
    assert "margin" in result["description_placeholders"]["reason"]
    result = await hass.config_entries.options.async_configure(
        flow_id, {**same, "id": "spare", "limit_a": 20, "margin_a": 0, "on_meter_loss": "hold"}
    )
    assert result["step_id"] == "circuits"

    for charger in scenario.chargers:
        result = await _menu(hass, flow_id, "charger")
        result = await hass.config_entries.options.async_configure(
            flow_id, {"charger": charger.id}
        )
        assert result["step_id"] == "charger_settings"
        result = await hass.config_entries.options.async_configure(
            flow_id,
            {
                "circuit": charger.circuit,
                "wiring": ",".join(charger.wiring),
                "max_current_a": charger.max_current_a,
                "priority": 0,
                "managed": True,
            },
        )
        assert result["step_id"] == "circuits", result.get("errors")

    # A circuit that chargers are on cannot go; an empty one can.
    await _menu(hass, flow_id, "remove_circuit")
    result = await hass.config_entries.options.async_configure(flow_id, {"circuit": "garage_a"})
    assert result["errors"] == {"base": "invalid_site"}
    result = await hass.config_entries.options.async_configure(flow_id, {"circuit": "spare"})
    assert result["step_id"] == "circuits"

    result = await _menu(hass, flow_id, "save")
    assert result["type"] is FlowResultType.CREATE_ENTRY
    built = await hass.async_add_executor_job(
        build_site_config, entry.data, entry.options, tmp_path, entry.entry_id
    )
    assert built.site.circuits == reference.site.circuits
    assert built.site.chargers == reference.site.chargers
    assert built.bindings == reference.bindings
    assert len(built.site.chargers) == 20
