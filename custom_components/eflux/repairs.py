"""Repairs that can be fixed from HA.

- A charger connecting without a password gets one: the central system generates a password,
  sends it to the charger (AuthorizationKey in 1.6, the BasicAuthPassword variable in 2.0.1)
  and stores it; from then on the charger must give it when it connects
  (`LocalSite.rotate_password`).
- A new charger held Pending (boot policy `pending`, approvals.py) is approved: stored, asked to
  boot again and accepted (`LocalSite.approve`); it then joins the entry as a new charger.

The other repairs are not fixable here.
"""

from __future__ import annotations

from homeassistant import data_entry_flow
from homeassistant.components import persistent_notification
from homeassistant.components.repairs import ConfirmRepairFlow, RepairsFlow
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError

from .approvals import notification_id, waiting_charge_points
from .const import ISSUE_CHARGER_PENDING
from .core.runtime import LocalSite
from .data import EfluxConfigEntry
from .entity import run_command


class _ChargerFlow(ConfirmRepairFlow):
    """Confirm, then act on the charger of the issue in its loaded entry."""

    def __init__(self, entry_id: str, charger: str) -> None:
        self.entry_id = entry_id
        self.charger = charger

    def _site(self) -> LocalSite | None:
        entry: EfluxConfigEntry | None = self.hass.config_entries.async_get_entry(self.entry_id)
        if entry is None or entry.state is not ConfigEntryState.LOADED:
            return None
        return entry.runtime_data.site


class SetPasswordFlow(_ChargerFlow):
    """Confirm, then give the charger a generated password."""

    async def async_step_confirm(
        self, user_input: dict[str, str] | None = None
    ) -> data_entry_flow.FlowResult:
        if user_input is None:
            return self.async_show_form(
                step_id="confirm", description_placeholders={"charger": self.charger}
            )
        if (site := self._site()) is None:
            return self.async_abort(reason="not_loaded")
        try:
            await run_command(site.rotate_password(self.charger))
        except HomeAssistantError as err:  # offline, refused (NotSupported), no answer
            return self.async_abort(reason="refused", description_placeholders={"error": str(err)})
        return self.async_create_entry(data={})


class ApproveChargerFlow(_ChargerFlow):
    """Confirm, then let the waiting charger in."""

    async def async_step_confirm(
        self, user_input: dict[str, str] | None = None
    ) -> data_entry_flow.FlowResult:
        if (site := self._site()) is None:
            return self.async_abort(reason="not_loaded")
        waiting = waiting_charge_points(site).get(self.charger)
        if waiting is None:  # approved meanwhile, or it disconnected
            return self.async_abort(reason="not_waiting")
        if user_input is None:
            return self.async_show_form(step_id="confirm", description_placeholders=waiting)
        try:
            await run_command(site.approve(self.charger))
        except HomeAssistantError as err:
            return self.async_abort(reason="refused", description_placeholders={"error": str(err)})
        persistent_notification.async_dismiss(
            self.hass, notification_id(self.entry_id, self.charger)
        )
        return self.async_create_entry(data={})


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, str | int | float | None] | None
) -> RepairsFlow:
    """The flow for a fixable issue of ours: `charger_pending` or `no_password`."""
    assert data is not None
    entry_id, charger = str(data["entry_id"]), str(data["charger"])
    if issue_id.startswith(f"{ISSUE_CHARGER_PENDING}_"):
        return ApproveChargerFlow(entry_id, charger)
    return SetPasswordFlow(entry_id, charger)
