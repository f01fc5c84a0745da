"""The admin's review-queue page over HTTP on both engines: the queue lists what waits, and
accept, correct and reject work from the page with an audit entry each; customers get 404;
hostile form values are refused with nothing changed."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from backend.api.app_keys import STORE
from backend.store import SessionIn, Store

from .client import Portal
from .conftest import Clock
from .seed import NOW, Seeded

Env = tuple[Portal, Seeded, Path, Clock]


def _store(portal: Portal) -> Store:
    assert portal.client.app is not None
    return portal.client.app[STORE]


async def _implausible(store: Store, tx: str) -> int:
    """Anna's card, 900 kWh against a 1 kWh meter difference at her garage."""
    site_id = await store.db.fetchval("SELECT id FROM sites WHERE name = 'Home'")
    site = await store.sites.get_site(int(site_id))
    start = NOW - timedelta(hours=3)
    item = SessionIn(
        "garage", tx, 1, "A1B2C3D4", start, start + timedelta(hours=1), 0.0, 1000.0, 900_000.0
    )
    (result,) = await store.sessions.ingest(site, [item], now=NOW)
    return result.session_id


async def _review(store: Store, session_id: int) -> str:
    return str(await store.db.fetchval("SELECT review FROM sessions WHERE id = ?", session_id))


async def test_admin_decides_from_the_review_page(env: Env) -> None:
    portal, seeded, _, _ = env
    store = _store(portal)
    ids = [await _implausible(store, f"rv-{n}") for n in range(3)]
    customer = Portal(portal.client)
    await customer.login(seeded.emails["anna"])
    assert (await customer.page("/portal/admin/review"))[0] == 404
    await customer.post("/portal/logout", {}, token_from="/portal/dashboard")
    await portal.login(seeded.emails["admin"])
    status, html = await portal.page("/portal/admin/review")
    assert status == 200
    assert all(f'id="review-{sid}"' in html for sid in ids)
    assert "differs from the meter difference" in html
    page = "/portal/admin/review"

    status, location, _ = await portal.post(
        f"{page}/{ids[0]}", {"action": "accept", "note": ""}, token_from=page
    )
    assert (status, location) == (303, "/portal/admin/review?done=accept")
    assert await _review(store, ids[0]) == "accepted"

    hostile = {
        "action": "correct",
        "energy_wh": "\uff11\uff10\uff10\uff10",  # full-width
        "meter_start_wh": "0",
        "meter_stop_wh": "1000",
        "note": "",
    }
    status, _, _ = await portal.post(f"{page}/{ids[1]}", hostile, token_from=page)
    assert status == 400
    still = {**hostile, "energy_wh": "900000"}  # the correction must pass the rules
    status, _, html = await portal.post(f"{page}/{ids[1]}", still, token_from=page)
    assert status == 400
    assert await _review(store, ids[1]) == "pending"
    status, _, _ = await portal.post(
        f"{page}/{ids[1]}", {**hostile, "energy_wh": "1000"}, token_from=page
    )
    assert status == 303
    assert await _review(store, ids[1]) == "corrected"
    assert await store.db.fetchval("SELECT energy_wh FROM sessions WHERE id = ?", ids[1]) == 1000

    status, _, _ = await portal.post(
        f"{page}/{ids[2]}", {"action": "reject", "note": ""}, token_from=page
    )
    assert status == 400  # a rejection states its reason
    status, _, _ = await portal.post(
        f"{page}/{ids[2]}", {"action": "reject", "note": "test charger"}, token_from=page
    )
    assert status == 303
    assert await _review(store, ids[2]) == "rejected"
    status, _, _ = await portal.post(
        f"{page}/{ids[2]}", {"action": "accept", "note": ""}, token_from=page
    )
    assert status == 400  # decided: final (a Conflict, shown as an error page)
    assert await _review(store, ids[2]) == "rejected"

    audit = (await portal.page("/portal/admin/audit"))[1]
    for action in ("session.review.accept", "session.review.correct", "session.review.reject"):
        assert action in audit
    status, html = await portal.page(page)
    assert 'id="review-empty"' in html
