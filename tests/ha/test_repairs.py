"""A charger that connects without a password is a fixable repair: the fix gives it a
generated password (the central system sends it and requires it from then on); the issue goes
once the charger connects with it."""

from __future__ import annotations

from http import HTTPStatus

from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.eflux.const import DOMAIN

from .conftest import ENTRY_ID, SimFactory
from .helpers import until

ISSUE = f"no_password_{ENTRY_ID}_CP-1"


async def test_a_charger_without_password_is_given_one(
    hass: HomeAssistant,
    loaded: MockConfigEntry,
    make_sim: SimFactory,
    hass_client: ClientSessionGenerator,
) -> None:
    assert await async_setup_component(hass, "repairs", {})
    issues = ir.async_get(hass)
    # A charger that has the AuthorizationKey setting, as 1.6 security profile 1 asks.
    sim = await make_sim("CP-1", configuration={"AuthorizationKey": ""})
    await until(hass, lambda: issues.async_get_issue(DOMAIN, ISSUE) is not None)
    issue = issues.async_get_issue(DOMAIN, ISSUE)
    assert issue is not None
    assert issue.is_fixable
    assert issue.translation_placeholders == {"charger": "CP-1"}

    client = await hass_client()
    response = await client.post(
        "/api/repairs/issues/fix", json={"handler": DOMAIN, "issue_id": ISSUE}
    )
    assert response.status == HTTPStatus.OK
    flow = await response.json()
    assert flow["step_id"] == "confirm"
    assert flow["description_placeholders"] == {"charger": "CP-1"}
    response = await client.post(f"/api/repairs/issues/fix/{flow['flow_id']}", json={})
    assert response.status == HTTPStatus.OK
    assert (await response.json())["type"] == "create_entry"
    password = sim.configuration.get("AuthorizationKey")
    assert password  # the charger was given one

    site = loaded.runtime_data.site
    await sim.drop_connection()  # it reconnects, now with its password
    await until(hass, lambda: not site.charge_points()["CP-1"].online)
    await until(hass, lambda: site.charge_points()["CP-1"].online)
    await until(hass, lambda: issues.async_get_issue(DOMAIN, ISSUE) is None)
    assert site.unprotected_charge_points() == []
