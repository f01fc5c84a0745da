"""Site set-up in the UI at parity with site.yaml: the 20-charger building of issue 15
(sim/scenarios/building.yaml: a 3 x 63 A connection, garages of 3 x 32 A and 3 x 40 A, 14
three-phase chargers with rotated wiring and 6 single-phase ones) built through the options
flow gives the same circuits, chargers and bindings as the runner's parse of its site.yaml."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
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
        result = await hass.config_entries.options.async_configure(flow_id, {"charger": charger.id})
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


async def test_the_buildings_site_yaml_imported_into_an_entry(
    hass: HomeAssistant, config_dir: Path
) -> None:
    """Import the runner's site.yaml of the building: the same circuits, chargers, bindings;
    what the entry cannot hold, and files outside the config dir, are refused with a reason."""
    scenario = await hass.async_add_executor_job(load, "building")
    reference = await hass.async_add_executor_job(_runner_config, scenario, config_dir)
    document = World(scenario, SYSTEM_CLOCK, config_dir)._site_yaml(9000, 5020)
    document["circuits"][0] = {**document["circuits"][0], "id": "main"}  # any root id
    for circuit in document["circuits"][1:]:
        circuit["parent"] = "main"
    text = yaml.safe_dump(document)
    odd = {**document, "chargers": [{**document["chargers"][0], "charge_point": "OTHER"}]}
    for name, body in (("site.yaml", text), ("odd.yaml", yaml.safe_dump(odd)), ("bad.yaml", ":")):
        await hass.async_add_executor_job((config_dir / name).write_text, body)
    meter = {"type": "modbus", "host": "127.0.0.1", "modbus_port": 5020, "unit_id": 1}
    entry = MockConfigEntry(
        domain=DOMAIN,
        data={CONF_PORT: 9000},
        options={CONF_ACCEPT_NEW: True, CONF_METER: {**meter, "profile": "sdm630"}},
    )
    entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    flow_id = result["flow_id"]
    await _menu(hass, flow_id, "circuits")
    await _menu(hass, flow_id, "import_site_yaml")
    for name, says in (
        ("../outside.yaml", "not inside the configuration directory"),
        ("missing.yaml", "cannot read"),
        ("bad.yaml", "cannot read"),
        ("odd.yaml", "another charge point"),
    ):
        result = await hass.config_entries.options.async_configure(flow_id, {"path": name})
        assert result["errors"] == {"base": "invalid_site"}, name
        assert says in result["description_placeholders"]["reason"], name
    result = await hass.config_entries.options.async_configure(flow_id, {"path": "site.yaml"})
    assert result["step_id"] == "circuits", result.get("description_placeholders")
    result = await _menu(hass, flow_id, "save")
    assert result["type"] is FlowResultType.CREATE_ENTRY
    built = await hass.async_add_executor_job(
        build_site_config, entry.data, entry.options, config_dir, entry.entry_id
    )
    assert built.site.circuits == reference.site.circuits
    assert built.site.chargers == reference.site.chargers
    assert built.bindings == reference.bindings


async def test_a_time_of_use_tariff_in_the_options(hass: HomeAssistant, tmp_path: Path) -> None:
    entry = MockConfigEntry(domain=DOMAIN, data={CONF_PORT: 9000}, options={CONF_PHASES: 3})
    entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    flow_id = result["flow_id"]
    await _menu(hass, flow_id, "circuits")
    result = await _menu(hass, flow_id, "tariff")
    assert result["description_placeholders"]["currency"] == hass.config.currency
    tariff = {"price": 0.30, "night_price": 0.21, "weekend_price": 0.24}
    result = await hass.config_entries.options.async_configure(
        flow_id, {**tariff, "night_hours": "25-7"}
    )
    assert result["errors"] == {"base": "invalid_site"}
    assert "hours" in result["description_placeholders"]["reason"]
    tariff["night_hours"] = "23-7"
    for zones, says in (("17-21 0.40", "a colon"), ("peak 17-21: 0.40", "unknown day")):
        result = await hass.config_entries.options.async_configure(
            flow_id, {**tariff, "other_zones": zones}
        )
        assert result["errors"] == {"base": "invalid_site"}, zones
        assert says in result["description_placeholders"]["reason"], zones
    # Other zones come first: a weekend night in them beats the night and the weekend.
    zones = "mon-fri 17-21: 0.40; sat,sun 0-7: 0.15"
    result = await hass.config_entries.options.async_configure(
        flow_id, {**tariff, "other_zones": zones}
    )
    assert result["step_id"] == "circuits"
    result = await _menu(hass, flow_id, "tariff")  # the form shows what it keeps
    for key, value in {**tariff, "other_zones": zones}.items():
        field = next(f for f in result["data_schema"].schema if f == key)
        assert field.description["suggested_value"] == value, key
    result = await hass.config_entries.options.async_configure(
        flow_id, {**tariff, "other_zones": zones}
    )
    await _menu(hass, flow_id, "save")
    built = await hass.async_add_executor_job(
        build_site_config, entry.data, entry.options, tmp_path, entry.entry_id, "Europe/Amsterdam"
    )
    tariff_of = built.controller.tariff
    assert tariff_of is not None
    zone = ZoneInfo("Europe/Amsterdam")
    assert tariff_of.price_at(datetime(2026, 12, 9, 2, tzinfo=zone)) == Decimal("0.21")  # night
    assert tariff_of.price_at(datetime(2026, 12, 9, 12, tzinfo=zone)) == Decimal("0.3")
    assert tariff_of.price_at(datetime(2026, 12, 12, 12, tzinfo=zone)) == Decimal("0.24")  # Sat
    assert tariff_of.price_at(datetime(2026, 12, 9, 18, tzinfo=zone)) == Decimal("0.40")  # Wed
    assert tariff_of.price_at(datetime(2026, 12, 12, 3, tzinfo=zone)) == Decimal("0.15")  # Sat
    assert tariff_of.price_at(datetime(2026, 12, 12, 18, tzinfo=zone)) == Decimal("0.24")
