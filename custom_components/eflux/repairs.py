"""Repairs that can be fixed from HA: a charger connecting without a password gets one.

The central system generates a password, sends it to the charger (AuthorizationKey in 1.6,
the BasicAuthPassword variable in 2.0.1) and stores it; from then on the charger must give it
when it connects (`LocalSite.rotate_password`). The other repairs are not fixable here.
"""

from __future__ import annotations

from homeassistant import data_entry_flow
from homeassistant.components.repairs import ConfirmRepairFlow, RepairsFlow
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError

from .data import EfluxConfigEntry
from .entity import run_command


class SetPasswordFlow(ConfirmRepairFlow):
    """Confirm, then give the charger a generated password."""

    def __init__(self, entry_id: str, charger: str) -> None:
        self.entry_id = entry_id
        self.charger = charger

    async def async_step_confirm(
        self, user_input: dict[str, str] | None = None
    ) -> data_entry_flow.FlowResult:
        if user_input is None:
            return self.async_show_form(
                step_id="confirm", description_placeholders={"charger": self.charger}
            )
        entry: EfluxConfigEntry | None = self.hass.config_entries.async_get_entry(self.entry_id)
        if entry is None or entry.state is not ConfigEntryState.LOADED:
            return self.async_abort(reason="not_loaded")
        site = entry.runtime_data.site
        try:
            await run_command(site.rotate_password(self.charger))
        except HomeAssistantError as err:  # offline, refused (NotSupported), no answer
            return self.async_abort(reason="refused", description_placeholders={"error": str(err)})
        return self.async_create_entry(data={})


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, str | int | float | None] | None
) -> RepairsFlow:
    """The flow for a fixable issue of ours (only `no_password` is)."""
    assert data is not None
    return SetPasswordFlow(str(data["entry_id"]), str(data["charger"]))
