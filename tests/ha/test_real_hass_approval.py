"""Approving a new charger in a real `hass` process (only custom_components/eflux copied into a
fresh config), all through the APIs the frontend uses: the boot policy set to "Pending until
approved" in the options flow; a new 2.0.1 sim charger connects and is held Pending; Repairs
lists "Charger X asks to join" and a notification leads there; the repair's fix approves it,
it boots again Accepted and becomes a device with its entities; issue and notification gone."""

from __future__ import annotations

from typing import Any

from tests.support.ports import free_port

from .real_hass import HassProcess, SimThread
from .test_real_hass import real_hass  # noqa: F401 - the fixture
from .test_real_hass_services import status_sensor

NEW = "CP-NEW"
PENDING_POLICY: list[dict[str, Any]] = [
    {"next_step_id": "security"},
    {"next_step_id": "central_security"},
    {"boot_policy": "pending", "require_password": False},
    {"next_step_id": "save"},
]


def test_a_new_charger_is_approved_from_repairs(real_hass: HassProcess) -> None:  # noqa: F811
    hass = real_hass
    ocpp_port = free_port()
    entry_id = hass.make_entry(ocpp_port)
    hass.options_flow(entry_id, PENDING_POLICY)
    hass.eventually(lambda: hass.entry_state() == "loaded", "the entry loaded again")
    issue_id = f"charger_pending_{entry_id}_{NEW}"
    note_id = f"eflux_charger_pending_{entry_id}_{NEW}"

    def issue() -> dict[str, Any] | None:
        [answer] = hass.ws({"type": "repairs/list_issues"})
        return next((i for i in answer["issues"] if i["issue_id"] == issue_id), None)

    def notification() -> dict[str, Any] | None:
        [notes] = hass.ws({"type": "persistent_notification/get"})
        return next((n for n in notes if n["notification_id"] == note_id), None)

    charger = SimThread(f"ws://127.0.0.1:{ocpp_port}", NEW, "2.0.1")
    charger.start()
    try:
        waiting = hass.eventually(issue, "the charger's repair issue")
        assert waiting["is_fixable"]
        assert waiting["translation_placeholders"] == {
            "charger": NEW,
            "vendor": "Alfen",
            "model": "Eve Single Pro",
        }
        note = hass.eventually(notification, "the notification")
        assert note["title"] == f"Charger {NEW} asks to join"
        assert f"[Approve charger {NEW}?](/config/repairs)" in note["message"]
        assert status_sensor(NEW) not in hass.states()  # not a device while it waits

        flow = hass.post("/api/repairs/issues/fix", {"handler": "eflux", "issue_id": issue_id})
        assert flow["step_id"] == "confirm"
        done = hass.post(f"/api/repairs/issues/fix/{flow['flow_id']}", {})
        assert done["type"] == "create_entry", done
        hass.eventually(
            lambda: hass.states().get(status_sensor(NEW)) == "available", "the approved charger"
        )
        assert issue() is None
        assert notification() is None
        assert charger.read(lambda s: len(s.calls("TriggerMessage"))) == 1
    finally:
        charger.stop()
    expected = ("connects without a password", f"{NEW}: new charger held Pending")
    assert hass.problems_of_ours(expected) == []
