"""Charger services through Home Assistant's REST API (`POST /api/services/eflux/...`, HA's own
HTTP stack with its `api` component) on a site of two circuits and four chargers of both OCPP
versions: stop_charging stops the session of the charger named and no other, and on a charger
with no session it succeeds without sending anything (HA 2025.4's REST API answers every error
a service raises, ServiceValidationError too, with a 500 and a traceback in the log)."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.eflux.const import DOMAIN
from custom_components.eflux.site_config import CONF_CHARGER_SETTINGS, CONF_CHARGERS, CONF_CIRCUITS
from sim.chargepoint import SimChargePoint

from .conftest import ENTRY_ID, SimFactory
from .helpers import until

VERSIONS = {"CP-A": "1.6", "CP-B": "2.0.1", "CP-C": "1.6", "CP-D": "2.0.1"}
STOP_CALL = {"1.6": "RemoteStopTransaction", "2.0.1": "RequestStopTransaction"}


@pytest.fixture
def options(options: dict[str, Any]) -> dict[str, Any]:
    """The grid connection with CP-A and CP-B; a garage circuit below it with CP-C and CP-D."""
    garage = {"id": "garage", "name": "Garage", "parent": "grid", "limit_a": 16, "margin_a": 1}
    return {
        **options,
        CONF_CHARGERS: list(VERSIONS),
        CONF_CIRCUITS: [garage],
        CONF_CHARGER_SETTINGS: {"CP-C": {"circuit": "garage"}, "CP-D": {"circuit": "garage"}},
    }


def _device_id(hass: HomeAssistant, charger: str) -> str:
    device = dr.async_get(hass).async_get_device({(DOMAIN, f"{ENTRY_ID}_{charger}")})
    assert device is not None
    return device.id


async def test_stop_charging_over_rest_on_a_site_of_two_circuits(
    hass: HomeAssistant,
    loaded: MockConfigEntry,
    make_sim: SimFactory,
    hass_client: ClientSessionGenerator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert await async_setup_component(hass, "api", {})
    site = loaded.runtime_data.site
    assert {c.id: c.circuit for c in site.config.site.chargers} == {
        "CP-A": "grid",
        "CP-B": "grid",
        "CP-C": "garage",
        "CP-D": "garage",
    }
    sims: dict[str, SimChargePoint] = {}
    for cp_id, version in VERSIONS.items():
        sims[cp_id] = await make_sim(cp_id, version)
    charging = ("CP-A", "CP-B", "CP-D")  # one per version and circuit; CP-C stays idle
    for cp_id in charging:
        await sims[cp_id].plug_in("CARD-" + cp_id)
    await until(
        hass, lambda: all(site.state().chargers[cp].transaction_id for cp in charging), wait_s=20
    )
    client = await hass_client()

    async def stop(cp_id: str) -> Any:
        response = await client.post(
            "/api/services/eflux/stop_charging?return_response",
            json={"device_id": _device_id(hass, cp_id)},
        )
        assert response.status == HTTPStatus.OK, await response.text()
        return (await response.json())["service_response"]

    for cp_id in charging:
        sim = sims[cp_id]
        transaction_id = site.state().chargers[cp_id].transaction_id
        assert await stop(cp_id) == {"stopped": True, "transaction_id": transaction_id}
        await sim.wait_for_call(STOP_CALL[sim.version])
        await until(hass, lambda cp=cp_id: site.state().chargers[cp].transaction_id is None)
    # Each stop went to its own charger only.
    assert {cp: len(s.calls(STOP_CALL[s.version])) for cp, s in sims.items()} == {
        "CP-A": 1,
        "CP-B": 1,
        "CP-C": 0,
        "CP-D": 1,
    }

    # Nothing to stop: CP-C never charged, CP-A has stopped already; both answer 200.
    assert await stop("CP-C") == {"stopped": False, "transaction_id": None}
    assert await stop("CP-A") == {"stopped": False, "transaction_id": None}
    response = await client.post(  # without asking for the response: HA's list of states
        "/api/services/eflux/stop_charging", json={"device_id": _device_id(hass, "CP-D")}
    )
    assert response.status == HTTPStatus.OK
    assert isinstance(await response.json(), list)
    assert len(sims["CP-A"].calls("RemoteStopTransaction")) == 1
    assert sims["CP-C"].calls("RemoteStopTransaction") == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
