"""Admin pages over HTTP: block/unblock a card (seen by the API), approve an installation
(the charge point joins the customer's account), and the live JSON stays per account."""

from __future__ import annotations

import re
from pathlib import Path

from backend.api.app_keys import STORE
from backend.store import CardStatus, Store

from .client import Portal
from .conftest import Clock
from .seed import Seeded

Env = tuple[Portal, Seeded, Path, Clock]


def _store(portal: Portal) -> Store:
    assert portal.client.app is not None
    return portal.client.app[STORE]


async def test_admin_blocks_and_unblocks_a_card(env: Env) -> None:
    portal, seeded, _, _ = env
    await portal.login(seeded.emails["admin"])
    card = seeded.cards["bob"]
    status, location, _ = await portal.post(
        f"/portal/admin/cards/{card}/status", {"block": "1"}, token_from="/portal/admin"
    )
    assert (status, location) == (303, "/portal/admin")
    assert (await _store(portal).cards.get_card(card)).status is CardStatus.BLOCKED
    await portal.post(
        f"/portal/admin/cards/{card}/status", {"block": "0"}, token_from="/portal/admin"
    )
    assert (await _store(portal).cards.get_card(card)).status is CardStatus.ACTIVE
    audit = (await portal.page("/portal/admin/audit"))[1]
    assert "card.blocked" in audit
    assert "card.active" in audit


async def test_approved_installation_adds_the_charge_point(env: Env) -> None:
    portal, seeded, _, _ = env
    customer = Portal(portal.client)
    await customer.login(seeded.emails["bob"])
    answers = {
        "phases": "1",
        "cable_mm2": "2.5",
        "car_max_kw": "7.4",
        "battery_kwh": "40",
        "location": "private",
    }
    status, location, _ = await customer.post(
        "/portal/advisor/order", answers, token_from="/portal/advisor"
    )
    assert (status, location) == (303, "/portal/charge-points?done=ordered")
    await customer.post("/portal/logout", {}, token_from="/portal/dashboard")
    await portal.login(seeded.emails["admin"])
    html = (await portal.page("/portal/admin"))[1]
    order = re.findall(r'id="admin-installation-(\d+)"', html)[0]
    path = f"/portal/admin/installations/{order}"
    # Approving before the inspection is refused by the billing rules; nothing is created.
    status, _, html = await portal.post(
        path,
        {"action": "approve", "on": "2026-11-23", "text": "bob-home"},
        token_from="/portal/admin",
    )
    assert status == 409
    assert "cannot approve when ordered" in html
    bob = seeded.accounts["bob"]
    assert await _store(portal).sites.list_charge_points(bob) == []
    for action, on, day, text in (
        ("schedule", "2026-11-23", "2026-11-25", ""),
        ("installed", "2026-11-25", "", "tx-test"),
        ("inspection", "2026-11-25", "2026-11-28", ""),
        ("approve", "2026-11-28", "", "bob-home"),
    ):
        status, _, html = await portal.post(
            path,
            {"action": action, "on": on, "date": day, "text": text},
            token_from="/portal/admin",
        )
        assert status == 303, html[:400]
    (point,) = await _store(portal).sites.list_charge_points(bob)
    assert point.ocpp_id == "bob-home"
    await portal.post("/portal/logout", {}, token_from="/portal/dashboard")
    await customer.login(seeded.emails["bob"])
    html = (await customer.page("/portal/charge-points"))[1]
    assert "bob-home" in html
    assert 'class="current">Approved' in html


async def test_live_json_is_per_account(env: Env) -> None:
    portal, seeded, _, _ = env
    await portal.login(seeded.emails["bob"])
    async with portal.client.get("/portal/live.json") as response:
        data = await response.json()
    # Bob charged twice on Anna's charger; he sees those, never Anna's own sessions.
    assert [s["energy_wh"] for s in data["sessions"]] == [7800, 11000]
