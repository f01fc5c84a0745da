"""New chargers held Pending (boot policy `pending`): "Charger X asks to join", to approve.

One fixable repair issue per charge point whose last boot was answered Pending while it is
connected, and beside it a persistent notification (as HA announces discovered devices) that
leads to it; the repair's fix approves the charger (repairs.py → `LocalSite.approve`: stored,
the charger asked to boot again, then adopted as any new charger by new_chargers.py). Issue and
notification go when the charger is approved (it boots again, Accepted), when it disconnects
(it asks again when it is back) and when the entry unloads (its central system stops).
"""

from __future__ import annotations

from collections.abc import Mapping

from homeassistant.components import persistent_notification
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.translation import async_get_translations

from .const import DOMAIN, ISSUE_CHARGER_PENDING
from .core.runtime import LocalSite

PENDING_BOOT = "Pending"  # the BootNotification answer's status while it waits
REPAIRS_PAGE = "/config/repairs"


def pending_issue_id(entry_id: str, cp_id: str) -> str:
    return f"{ISSUE_CHARGER_PENDING}_{entry_id}_{cp_id}"


def notification_id(entry_id: str, cp_id: str) -> str:
    return f"{DOMAIN}_{ISSUE_CHARGER_PENDING}_{entry_id}_{cp_id}"


def waiting_charge_points(site: LocalSite) -> dict[str, dict[str, str]]:
    """The connected charge points waiting for approval, with the placeholders of their issue
    (charger, vendor, model as they booted)."""
    states = site.charge_points()
    waiting: dict[str, dict[str, str]] = {}
    for cp_id in site.pending_charge_points():
        state = states.get(cp_id)
        if state is None or not state.online or state.boot_status != PENDING_BOOT:
            continue  # gone, or approved and booted again meanwhile
        waiting[cp_id] = {
            "charger": cp_id,
            "vendor": state.vendor or "?",
            "model": state.model or "?",
        }
    return waiting


class PendingChargers:
    """Keeps the issues and notifications of one entry in line with its waiting chargers."""

    def __init__(self, hass: HomeAssistant, entry_id: str, site: LocalSite) -> None:
        self.hass = hass
        self.entry_id = entry_id
        self.site = site
        self._raised: set[str] = set()

    @callback
    def async_update(self) -> None:
        waiting = waiting_charge_points(self.site)
        new, gone = waiting.keys() - self._raised, self._raised - waiting.keys()
        self._raised = set(waiting)
        for cp_id in sorted(new):
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                pending_issue_id(self.entry_id, cp_id),
                is_fixable=True,  # repairs.py approves it
                data={"entry_id": self.entry_id, "charger": cp_id},
                severity=ir.IssueSeverity.WARNING,
                translation_key=ISSUE_CHARGER_PENDING,
                translation_placeholders=waiting[cp_id],
            )
            self.hass.async_create_task(self._async_notify(cp_id, waiting[cp_id]))
        for cp_id in gone:
            self._withdraw(cp_id)

    @callback
    def async_stop(self) -> None:
        """The entry unloads: its central system (and so every waiting charger) goes."""
        for cp_id in self._raised:
            self._withdraw(cp_id)
        self._raised = set()

    def _withdraw(self, cp_id: str) -> None:
        ir.async_delete_issue(self.hass, DOMAIN, pending_issue_id(self.entry_id, cp_id))
        persistent_notification.async_dismiss(self.hass, notification_id(self.entry_id, cp_id))

    async def _async_notify(self, cp_id: str, placeholders: Mapping[str, str]) -> None:
        """The notification in the user's language, from the issue's own strings; a link to
        the repairs page, where the issue's fix approves the charger."""
        strings = await async_get_translations(
            self.hass, self.hass.config.language, "issues", [DOMAIN]
        )
        if cp_id not in self._raised:
            return  # approved or gone while the strings loaded
        base = f"component.{DOMAIN}.issues.{ISSUE_CHARGER_PENDING}"

        def text(key: str) -> str:
            return strings.get(f"{base}.{key}", key).format(**placeholders)

        persistent_notification.async_create(
            self.hass,
            f"{text('fix_flow.step.confirm.description')}\n\n"
            f"[{text('fix_flow.step.confirm.title')}]({REPAIRS_PAGE})",
            title=text("title"),
            notification_id=notification_id(self.entry_id, cp_id),
        )
