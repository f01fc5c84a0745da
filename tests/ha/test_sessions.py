"""Session history in HA: the running session's cost, the last session's energy, duration and
cost, this month's totals per card and `eflux.export_sessions` (CSV under the config dir),
all from the central system's SQLite through LocalSite; grid energy from the Modbus meter."""

from __future__ import annotations

import csv
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.eflux.const import CONF_METER, DOMAIN
from sim.modbus_meter import ModbusMeterSim
from tests.support.ports import LOOPBACK, free_port

from .conftest import ENTRY_ID, SimFactory
from .helpers import settle, until

GRID = {
    "current_l1": 10.0, "current_l2": 4.0, "current_l3": 3.0,
    "voltage_l1": 230.0, "voltage_l2": 230.0, "voltage_l3": 230.0,
    "power_l1": 2300.0, "power_l2": 920.0, "power_l3": -690.0,
    "total_power": 2530.0, "import_energy": 12345.5, "export_energy": 678.25,
}  # fmt: skip


def _state(hass: HomeAssistant, entity_id: str) -> str:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return state.state


async def _push_price(hass: HomeAssistant, entry: MockConfigEntry, price: str) -> None:
    now = dt_util.now().replace(minute=0, second=0, microsecond=0)
    items = [
        {"start": (now + timedelta(hours=i)).isoformat(), "price": price} for i in range(-1, 3)
    ]
    await hass.services.async_call(
        DOMAIN, "set_prices", {"config_entry_id": entry.entry_id, "prices": items}, blocking=True
    )


async def test_a_finished_session_shows_up_and_exports(
    hass: HomeAssistant, loaded: MockConfigEntry, make_sim: SimFactory, config_dir: Path
) -> None:
    await _push_price(hass, loaded, "0.30")
    sim = await make_sim("CP-1")
    await sim.plug_in("CARD-A")
    await until(hass, lambda: loaded.runtime_data.site.state().chargers["CP-1"].transaction_id)
    sim.register_wh += 5000  # 5 kWh charged
    await sim.sample_now()
    await until(hass, lambda: bool(sim.sent_samples))
    # The running cost is read again once a minute while a session runs.
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=1, seconds=1))
    await until(hass, lambda: _state(hass, "sensor.cp_1_session_cost") not in ("unknown", "0.00"))
    assert Decimal(_state(hass, "sensor.cp_1_session_cost")) >= Decimal("1.50")
    await sim.unplug()
    await until(hass, lambda: _state(hass, "sensor.cp_1_last_session_energy") != "unknown")
    energy = float(_state(hass, "sensor.cp_1_last_session_energy"))
    assert 5.0 <= energy < 5.1
    cost = Decimal(_state(hass, "sensor.cp_1_last_session_cost"))
    assert cost == (Decimal(str(energy)) * Decimal("0.30")).quantize(Decimal("0.01"))
    assert float(_state(hass, "sensor.cp_1_last_session_duration")) >= 0
    assert hass.states.get("sensor.cp_1_last_session_cost").attributes["unit_of_measurement"] == (
        "EUR"
    )
    # This month's total of the card, as its own sensors.
    card_energy = "sensor.e_flux_site_card_card_a_energy_this_month"
    await until(hass, lambda: hass.states.get(card_energy) is not None)
    assert float(_state(hass, card_energy)) == energy
    assert hass.states.get(card_energy).attributes["sessions"] == 1
    assert hass.states.get(card_energy).attributes["state_class"] == "total"

    response = await hass.services.async_call(
        DOMAIN,
        "export_sessions",
        {"config_entry_id": loaded.entry_id},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    assert response["sessions"] == 1
    path = Path(str(response["path"]))
    assert path.is_relative_to(config_dir / DOMAIN / "exports")
    text = await hass.async_add_executor_job(path.read_text, "utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    assert [(r["card"], r["charger"]) for r in rows] == [("CARD-A", "CP-1"), ("CARD-A", "total")]
    assert float(rows[0]["energy_kwh"]) == energy
    assert Decimal(rows[1]["cost"]) == cost
    assert rows[0]["currency"] == "EUR"


async def test_export_refuses_a_bad_month_and_writes_nothing(
    hass: HomeAssistant, loaded: MockConfigEntry, config_dir: Path
) -> None:
    for month in ("2026-13", "november", "2026-1", "../../etc"):
        with pytest.raises(ServiceValidationError):
            await hass.services.async_call(
                DOMAIN,
                "export_sessions",
                {"config_entry_id": loaded.entry_id, "month": month},
                blocking=True,
                return_response=True,
            )
    assert not (config_dir / DOMAIN / "exports").exists()
    # A hostile card id becomes a plain file name inside the export folder.
    response = await hass.services.async_call(
        DOMAIN,
        "export_sessions",
        {"config_entry_id": loaded.entry_id, "month": "2026-11", "card": "../../x/y"},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    path = Path(str(response["path"]))
    assert path.parent == config_dir / DOMAIN / "exports" / ENTRY_ID
    assert path.name == "sessions-2026-11-______x_y.csv"
    assert response["sessions"] == 0


@pytest.fixture
async def meter() -> AsyncIterator[int]:
    sim = ModbusMeterSim("sdm630", GRID)
    port = free_port()
    await sim.start_tcp(LOOPBACK, port)
    yield port
    await sim.stop()


@pytest.fixture
def options(options: dict[str, Any], meter: int) -> dict[str, Any]:
    modbus = {"type": "modbus", "host": LOOPBACK, "modbus_port": meter, "unit_id": 1}
    return {**options, CONF_METER: {**modbus, "profile": "sdm630"}}


async def test_grid_energy_and_phase_power_for_the_energy_dashboard(
    hass: HomeAssistant, loaded: MockConfigEntry
) -> None:
    imported = "sensor.e_flux_site_grid_import_energy"
    await until(hass, lambda: _state(hass, imported) not in ("unknown", "unavailable"))
    await settle(hass)
    assert float(_state(hass, imported)) == 12345.5
    assert float(_state(hass, "sensor.e_flux_site_grid_export_energy")) == 678.25
    for entity_id in (imported, "sensor.e_flux_site_grid_export_energy"):
        attributes = hass.states.get(entity_id).attributes
        assert attributes["device_class"] == "energy"
        assert attributes["state_class"] == "total_increasing"
        assert attributes["unit_of_measurement"] == "kWh"
    assert float(_state(hass, "sensor.e_flux_site_grid_power_l3")) == -690.0
    assert hass.states.get("sensor.e_flux_site_grid_power_l1").attributes["device_class"] == (
        "power"
    )


async def test_per_phase_currents_restart_and_unlock_are_disabled_by_default(
    hass: HomeAssistant, loaded: MockConfigEntry
) -> None:
    registry = er.async_get(hass)
    for key in ("current_l1", "current_l2", "current_l3", "reset", "unlock"):
        entity_id = next(
            e.entity_id
            for e in er.async_entries_for_config_entry(registry, ENTRY_ID)
            if e.unique_id == f"{ENTRY_ID}_CP-1_{key}"
        )
        entry = registry.async_get(entity_id)
        assert entry is not None
        assert entry.disabled_by is er.RegistryEntryDisabler.INTEGRATION, key
