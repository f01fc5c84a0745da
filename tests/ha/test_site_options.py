"""Site settings in the options beyond the circuits tree (issue 21.1, site.yaml parity): fixed
budgets while meters are silent, meter_includes_chargers, 1p/3p switching, a flexibility price,
the capacity tariff, and a site.yaml imported with its charger security, circuit meters and
charger extras — each compared with the runner's parse of the same site.yaml."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.eflux.const import (
    CONF_ACCEPT_NEW,
    CONF_METER,
    CONF_PHASES,
    CONF_PORT,
    DOMAIN,
)
from custom_components.eflux.core.config import SiteConfig, load_site_config, parse_site_config
from custom_components.eflux.site_config import CONF_CHARGERS, build_site_config
from tests.central.test_server import _self_signed


async def _menu(hass: HomeAssistant, flow_id: str, step: str) -> dict[str, Any]:
    result = await hass.config_entries.options.async_configure(flow_id, {"next_step_id": step})
    return dict(result)


async def test_circuit_meter_loss_fallbacks_and_phase_switching(
    hass: HomeAssistant, tmp_path: Path
) -> None:
    """A circuit whose meter sees only the other loads, fixed budgets while meters are silent
    (the grid's and a circuit's), a box that switches between 1 and 3 phases: as site.yaml."""
    entry = MockConfigEntry(
        domain=DOMAIN, data={CONF_PORT: 9000}, options={CONF_PHASES: 3, CONF_CHARGERS: ["CP-1"]}
    )
    entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    flow_id = result["flow_id"]
    await _menu(hass, flow_id, "circuits")
    await _menu(hass, flow_id, "add_circuit")
    garage = {"id": "garage", "parent": "grid", "limit_a": 20, "margin_a": 0}
    result = await hass.config_entries.options.async_configure(
        flow_id, {**garage, "on_meter_loss": "fixed_budget", "meter_includes_chargers": False}
    )
    assert result["errors"] == {"base": "invalid_site"}  # a fixed budget needs its amps
    assert "fallback_budget_a" in result["description_placeholders"]["reason"]
    result = await hass.config_entries.options.async_configure(
        flow_id,
        {
            **garage,
            "on_meter_loss": "fixed_budget",
            "fallback_budget_a": 8,
            "meter_includes_chargers": False,
        },
    )
    assert result["step_id"] == "circuits", result.get("errors")
    await _menu(hass, flow_id, "grid_circuit")
    result = await hass.config_entries.options.async_configure(
        flow_id, {"on_meter_loss": "fixed_budget", "fallback_budget_a": 12}
    )
    assert result["step_id"] == "circuits", result.get("errors")
    await _menu(hass, flow_id, "charger")
    await hass.config_entries.options.async_configure(flow_id, {"charger": "CP-1"})
    settings = {"circuit": "garage", "wiring": "L1,L2,L3", "max_current_a": 16, "priority": 0}
    result = await hass.config_entries.options.async_configure(
        flow_id, {**settings, "managed": True, "can_switch_phases": True}
    )
    assert result["step_id"] == "circuits", result.get("errors")
    await _menu(hass, flow_id, "save")
    built = await hass.async_add_executor_job(
        build_site_config, entry.data, entry.options, tmp_path, entry.entry_id
    )
    reference = parse_site_config(
        {
            "circuits": [
                {
                    "id": "grid",
                    "name": "Grid connection",
                    "limit_a": 25.0,
                    "margin_a": 1.0,
                    "on_meter_loss": "fixed_budget",
                    "fallback_budget_a": 12,
                },
                {
                    **garage,
                    "on_meter_loss": "fixed_budget",
                    "fallback_budget_a": 8,
                    "meter_includes_chargers": False,
                },
            ],
            "chargers": [
                {
                    "id": "CP-1",
                    "circuit": "garage",
                    "max_current_a": 16,
                    "can_switch_phases": True,
                }
            ],
        },
        base_dir=tmp_path,
    )
    assert built.site.circuits == reference.site.circuits
    assert built.site.chargers == reference.site.chargers
    assert entry.options["phase_switching"] == ["CP-1"]  # the box's Phases select

    # Switching off again takes the box off the list.
    result = await hass.config_entries.options.async_init(entry.entry_id)
    await _menu(hass, result["flow_id"], "circuits")
    await _menu(hass, result["flow_id"], "charger")
    await hass.config_entries.options.async_configure(result["flow_id"], {"charger": "CP-1"})
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**settings, "managed": True, "can_switch_phases": False}
    )
    await _menu(hass, result["flow_id"], "save")
    assert entry.options["phase_switching"] == []


async def test_a_flexibility_price_and_the_capacity_tariff(
    hass: HomeAssistant, tmp_path: Path
) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN, data={CONF_PORT: 9000}, options={CONF_PHASES: 3, CONF_CHARGERS: ["CP-1"]}
    )
    entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    flow_id = result["flow_id"]
    await _menu(hass, flow_id, "circuits")
    await _menu(hass, flow_id, "flexibility")
    prices = {"charger": "CP-1", "price_per_kwh": 0.30, "price_per_hour": 0.5}
    for discounts, says in (("4h", "stay: percent"), ("4h: 10, 2h: 25", "discounts")):
        result = await hass.config_entries.options.async_configure(
            flow_id, {**prices, "discounts": discounts}
        )
        assert result["errors"] == {"base": "invalid_site"}, discounts
        assert says in result["description_placeholders"]["reason"], discounts
    result = await hass.config_entries.options.async_configure(
        flow_id, {**prices, "discounts": "4h: 10, 8h: 25%"}
    )
    assert result["step_id"] == "circuits", result.get("description_placeholders")
    # Setting the charger up afterwards keeps its flexibility price.
    await _menu(hass, flow_id, "charger")
    await hass.config_entries.options.async_configure(flow_id, {"charger": "CP-1"})
    settings = {"circuit": "grid", "wiring": "L1,L2,L3", "max_current_a": 16, "priority": 0}
    await hass.config_entries.options.async_configure(
        flow_id, {**settings, "managed": True, "can_switch_phases": False}
    )
    await _menu(hass, flow_id, "capacity_tariff")
    result = await hass.config_entries.options.async_configure(flow_id, {"capacity_target_kw": 5.5})
    assert result["step_id"] == "circuits"
    await _menu(hass, flow_id, "save")
    built = await hass.async_add_executor_job(
        build_site_config, entry.data, entry.options, tmp_path, entry.entry_id
    )
    reference = parse_site_config(
        {
            "circuits": [{"id": "grid", "limit_a": 25}],
            "chargers": [
                {
                    "id": "CP-1",
                    "circuit": "grid",
                    "flexibility": {
                        "price_per_kwh": "0.30",
                        "price_per_hour": "0.5",
                        "discounts": [
                            {"min_stay": "4h", "percent": 10},
                            {"min_stay": "8h", "percent": 25},
                        ],
                    },
                }
            ],
        },
        base_dir=tmp_path,
    )
    assert built.controller.flexibility == reference.controller.flexibility
    capacity = built.controller.planner.capacity_tariff
    assert capacity is not None
    assert (capacity.circuit, capacity.target_kw) == ("grid", 5.5)


async def test_a_site_yamls_security_meters_and_charger_extras_are_imported(
    hass: HomeAssistant, config_dir: Path
) -> None:
    """Charger security (TLS files next to the file), a circuit's own meter, fixed budgets,
    meter_includes_chargers, phase switching and a flexibility price come in with the import
    and make the site the runner makes of the same file."""
    site = config_dir / "site"
    (site / "certs").mkdir(parents=True)
    cert, key = await hass.async_add_executor_job(_self_signed, site / "certs")
    password = "Garage-Door-Secret-2026"
    document = {
        "central": {
            "passwords": {"CP-1": password},
            "require_password": True,
            "boot_policy": "pending",
            "tls_cert": "certs/cert.pem",
            "tls_key": "certs/key.pem",
        },
        "circuits": [
            {
                "id": "grid",
                "name": "Grid connection",
                "limit_a": 40,
                "margin_a": 2,
                "on_meter_loss": "fixed_budget",
                "fallback_budget_a": 16,
            },
            {
                "id": "garage",
                "parent": "grid",
                "limit_a": 25,
                "meter_includes_chargers": False,
                "on_meter_loss": "fixed_budget",
                "fallback_budget_a": 10,
            },
        ],
        "meters": [
            {
                "name": "grid",
                "circuit": "grid",
                "kind": "modbus_tcp",
                "host": "127.0.0.1",
                "port": 5020,
                "device_id": 1,
                "profile": "sdm630",
            },
            {
                "name": "meter_garage",
                "circuit": "garage",
                "kind": "modbus_tcp",
                "host": "127.0.0.1",
                "port": 5021,
                "device_id": 2,
                "profile": "sdm630",
            },
        ],
        "chargers": [
            {
                "id": "CP-1",
                "circuit": "garage",
                "max_current_a": 16,
                "can_switch_phases": True,
                "flexibility": {
                    "price_per_kwh": 0.3,
                    "discounts": [{"min_stay": "4h", "percent": 10}],
                },
            }
        ],
    }
    await hass.async_add_executor_job((site / "site.yaml").write_text, yaml.safe_dump(document))
    reference = await hass.async_add_executor_job(load_site_config, site / "site.yaml")
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
    result = await hass.config_entries.options.async_configure(flow_id, {"path": "site/site.yaml"})
    assert result["step_id"] == "circuits", result.get("description_placeholders")
    await _menu(hass, flow_id, "save")
    built = await hass.async_add_executor_job(
        build_site_config, entry.data, entry.options, config_dir, entry.entry_id
    )
    assert built.site.circuits == reference.site.circuits
    assert built.site.chargers == reference.site.chargers
    assert built.controller.flexibility == reference.controller.flexibility
    for field in ("passwords", "require_password", "boot_policy", "tls_cert", "tls_key"):
        assert getattr(built.central, field) == getattr(reference.central, field), field
    assert (built.central.tls_cert, built.central.tls_key) == (cert, key)

    def where(config: SiteConfig) -> list[tuple[str, str, Any, Any, Any]]:
        return sorted(
            (m.circuit, m.kind, m.options["host"], m.options["port"], m.options["device_id"])
            for m in config.meters
        )

    assert where(built) == where(reference)
    assert not entry.options[CONF_ACCEPT_NEW]  # pending: new chargers wait for approval
