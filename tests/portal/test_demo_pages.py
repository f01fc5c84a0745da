"""Every portal page renders on the demo data (`eflux-backend seed-demo`), in both languages."""

from __future__ import annotations

from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

from backend.api import create_app
from backend.demo import ADMIN_EMAIL, DEMO_PASSWORD, DRIVER_EMAIL, LEASE_EMAIL, seed_demo
from backend.store import Store

from .client import Portal
from .seed import NOW

PAGES = (
    "/portal/dashboard",
    "/portal/cards",
    "/portal/sessions",
    "/portal/sessions.csv",
    "/portal/invoices",
    "/portal/subscription",
    "/portal/charge-points",
    "/portal/advisor",
    "/portal/top-ups",
)


async def test_every_page_renders_for_the_demo_logins(store: Store, tmp_path: Path) -> None:
    await seed_demo(store, NOW)
    app = create_app(store, clock=lambda: NOW, portal_outbox=tmp_path)
    async with TestClient(TestServer(app)) as client:
        for email in (DRIVER_EMAIL, LEASE_EMAIL, ADMIN_EMAIL):
            portal = Portal(client)
            status, location, _ = await portal.login(email, DEMO_PASSWORD)
            assert (status, location) == (303, "/portal/dashboard")
            extra = ("/portal/admin", "/portal/admin/audit") if email == ADMIN_EMAIL else ()
            for path in (*PAGES, *extra):
                for lang in ("en", "nl"):
                    status, body = await portal.page(f"{path}?lang={lang}")
                    assert status == 200, (email, path, body[:300])
            await portal.post("/portal/logout", {}, token_from="/portal/dashboard")
