"""Logging in with a real browser and reading what the portal shows."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, Page

from .seed import PASSWORD
from .server import PortalServer

PHONE = {"width": 390, "height": 844}


def login(
    browser: Browser, server: PortalServer, email: str, *, phone: bool = False
) -> tuple[BrowserContext, Page]:
    context = browser.new_context(
        base_url=server.url, viewport=PHONE if phone else None, accept_downloads=True
    )
    page = context.new_page()
    page.goto("/portal/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url("**/portal/dashboard")
    return context, page


def shot(page: Page, artifacts: Path, name: str) -> None:
    page.screenshot(path=str(artifacts / f"portal-{name}.png"), full_page=True)


def session_cookie(context: BrowserContext) -> str:
    return next(c["value"] for c in context.cookies() if c["name"] == "eflux_portal")
