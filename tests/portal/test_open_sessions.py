"""The dashboard's "charging now" panel: what a site's snapshot says, per account, live or
last seen, in English and Dutch, escaped; the live JSON the 30 s refresh reads says the same."""

from __future__ import annotations

import html
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from backend.api.app_keys import CLOCK, STORE
from backend.store import Store

from .client import Portal
from .conftest import Clock
from .seed import XSS, Seeded

Env = tuple[Portal, Seeded, Path, Clock]


def running(tx: str, tag: str, kwh: float, power: float | None) -> dict[str, Any]:
    return {
        "charge_point_id": "garage",
        "connector_id": 1,
        "transaction_id": tx,
        "id_tag": tag,
        "started_at": "2026-11-23T07:30:00Z",
        "energy_kwh": kwh,
        "power_w": power,
        "updated_at": "2026-11-23T08:59:00Z",
    }


async def put_snapshot(portal: Portal, seeded: Seeded, *items: dict[str, Any]) -> None:
    """What the site's sync sends: through the API, with the site's own token."""
    assert portal.client.app is not None
    store: Store = portal.client.app[STORE]
    [site] = await store.sites.list_sites(seeded.accounts["anna"])
    token = (await store.accounts.create_site_token(site, "sync", now=portal_now(portal))).secret
    body = {"taken_at": portal_now(portal).isoformat(), "sessions": list(items)}
    async with portal.client.put(
        "/api/v1/sync/open-sessions", json=body, headers={"Authorization": f"Bearer {token}"}
    ) as response:
        assert response.status == 200, await response.text()


def portal_now(portal: Portal) -> datetime:
    assert portal.client.app is not None
    return portal.client.app[CLOCK]()


def panel(page: str) -> str:
    start = page.index('id="open-sessions"')
    return page[start : page.index("</table>", start)]


async def test_the_dashboard_shows_open_sessions_per_account(env: Env) -> None:
    portal, seeded, _, _ = env
    await put_snapshot(
        portal,
        seeded,
        running("70", "A1B2C3D4", 3.25, 7245.0),
        running("71", "B0B0B0B0", 0.5, None),
    )
    await portal.login(seeded.emails["anna"])
    status, page = await portal.page("/portal/dashboard")
    assert status == 200
    mine = panel(page)
    # Her own card by its label; Bob, a guest on her charger, by his card's uid only.
    assert "<td>Garage</td><td>Anna&#39;s keyring</td><td>2026-11-23 08:30</td>" in mine
    assert "<td>3,25</td><td>7,2</td><td>live</td>" in mine
    assert "<td>B0B0B0B0</td>" in mine
    assert "Bob&#39;s card" not in mine
    async with portal.client.get("/portal/live.json") as response:
        data = await response.json()
    assert data["open"] == [
        {
            "cells": ["Garage", "Anna's keyring", "2026-11-23 08:30", "3,25", "7,2", "live"],
            "live": True,
        },
        {"cells": ["Garage", "B0B0B0B0", "2026-11-23 08:30", "0,50", "-", "live"], "live": True},
    ]
    await portal.post("/portal/logout", {}, token_from="/portal/dashboard")
    await portal.login(seeded.emails["bob"])
    async with portal.client.get("/portal/live.json") as response:
        data = await response.json()
    assert [row["cells"][1] for row in data["open"]] == ["Bob's card"]
    await portal.post("/portal/logout", {}, token_from="/portal/dashboard")
    await portal.login(seeded.emails["chris"])
    _, page = await portal.page("/portal/dashboard")
    assert "Nothing is charging right now." in panel(page)
    assert "Garage" not in panel(page)


async def test_a_quiet_site_shows_last_seen_and_a_stopped_session_leaves(env: Env) -> None:
    portal, seeded, _, clock = env
    await put_snapshot(portal, seeded, running("72", "A1B2C3D4", 1.0, 3600.0))
    await portal.login(seeded.emails["anna"])
    clock.now += timedelta(minutes=10)
    _, page = await portal.page("/portal/dashboard?lang=nl")
    shown = panel(page)
    assert "Nu aan het laden" in page
    assert 'class="stale"' in shown
    assert "<td>1,00</td><td>-</td><td>laatst gezien 2026-11-23 10:00</td>" in shown
    await put_snapshot(portal, seeded)  # the site is back: nothing runs any more
    _, page = await portal.page("/portal/dashboard?lang=nl")
    assert "Er wordt nu niet geladen." in panel(page)


async def test_a_hostile_card_label_is_escaped(env: Env) -> None:
    portal, seeded, _, _ = env
    await put_snapshot(portal, seeded, running("73", "0A0B0C0D", 2.0, 11000.0))
    await portal.login(seeded.emails["anna"])
    _, page = await portal.page("/portal/dashboard")
    assert XSS not in page
    assert f"<td>{html.escape(XSS)}</td>" in panel(page)
