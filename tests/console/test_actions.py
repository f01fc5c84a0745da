"""Console actions without a browser (issue 17): approving a charge point held Pending and
unlocking a cable, each through its confirmation page and the session's CSRF token; a resident
can do neither."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest_asyncio

from custom_components.eflux.core.config import parse_site_config
from sim.chargepoint import SimChargePoint
from tests.central.support import RawCharger, boot_v16, eventually
from tests.runner.support import Api, serving

from .forms import page, session_of, submit
from .server import ANN_PASSWORD, MANAGER_PASSWORD, site_yaml


@pytest_asyncio.fixture
async def api(tmp_path: Path, unused_port: Callable[[], int]) -> AsyncIterator[Api]:
    data = site_yaml(tmp_path)
    data["central"]["boot_policy"] = "pending"
    config = parse_site_config(data, base_dir=tmp_path)
    async with serving(config, unused_port()) as served:
        yield served


async def test_a_pending_charge_point_is_approved_after_confirmation(api: Api) -> None:
    manager = await session_of(api, "manager", MANAGER_PASSWORD)
    resident = await session_of(api, "CARD-ANN", ANN_PASSWORD)
    async with RawCharger.connect(api.site.central.port, "NEW-CP") as raw:
        assert (await raw.call_ok("BootNotification", boot_v16()))["status"] == "Pending"
        await eventually(lambda: "NEW-CP" in api.site.state().pending_approval)
        status, html, _ = await page(api, manager, "/console/chargers")
        assert status == 200
        assert 'id="approve-NEW-CP"' in html
        status, html, csrf = await page(api, manager, "/console/chargers/NEW-CP/approve/confirm")
        assert status == 200
        assert "NEW-CP" in html
        assert csrf is not None
        assert api.site.pending_charge_points() == ["NEW-CP"]  # the page changed nothing
        # A resident's own token does not make them a manager.
        _, _, resident_csrf = await page(api, resident, "/console/sessions")
        assert resident_csrf is not None
        status, _, _ = await submit(
            api, resident, "/console/chargers/NEW-CP/approve", {"csrf": resident_csrf}
        )
        assert status == 403
        assert api.site.pending_charge_points() == ["NEW-CP"]

        status, location, _ = await submit(
            api, manager, "/console/chargers/NEW-CP/approve", {"csrf": csrf}
        )
        assert (status, location) == (303, "/console/chargers?done=approve")
        trigger = await raw.next_call_from_central()
        while trigger[2] != "TriggerMessage":  # configuration calls sent while Pending
            answer = {"configurationKey": []} if trigger[2] == "GetConfiguration" else {}
            await raw.send(json.dumps([3, trigger[1], answer | {"status": "Accepted"}]))
            trigger = await raw.next_call_from_central()
        assert trigger[3] == {"requestedMessage": "BootNotification"}
        assert (await raw.call_ok("BootNotification", boot_v16()))["status"] == "Accepted"
    assert api.site.pending_charge_points() == []
    status, _, body = await submit(api, manager, "/console/chargers/NOBODY/approve", {"csrf": csrf})
    assert status == 400
    assert "NOBODY" in body


async def test_unlock_is_sent_after_confirmation(api: Api) -> None:
    manager = await session_of(api, "manager", MANAGER_PASSWORD)
    sim = SimChargePoint(f"ws://127.0.0.1:{api.site.central.port}", "CON-A", reconnect_delay=0.05)
    await sim.start()
    try:
        await eventually(sim.connected.is_set)
        await eventually(lambda: api.site.state().chargers["garage"].online)
        _, html, csrf = await page(api, manager, "/console/chargers/garage/unlock/confirm")
        assert "garage" in html
        assert csrf is not None
        assert sim.calls("UnlockConnector") == []
        status, location, _ = await submit(
            api, manager, "/console/chargers/garage/unlock", {"csrf": csrf}
        )
        assert (status, location) == (303, "/console/chargers?done=unlock")
        assert sim.calls("UnlockConnector") == [{"connectorId": 1}]
    finally:
        await sim.close()
