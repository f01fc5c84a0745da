"""Logging in to the console with a real browser, and reading what the site stored."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, Page

from .server import ConsoleServer

PHONE = {"width": 390, "height": 844}


def login(
    browser: Browser,
    server: ConsoleServer,
    user: str,
    password: str,
    *,
    locale: str = "en-GB",
    phone: bool = False,
) -> tuple[BrowserContext, Page]:
    context = browser.new_context(
        base_url=server.url,
        accept_downloads=True,
        locale=locale,
        viewport=PHONE if phone else None,
    )
    page = context.new_page()
    page.goto("/console/login")
    page.fill("input[name=user]", user)
    page.fill("input[name=password]", password)
    page.click("#login-submit")
    page.wait_for_url("**/console/s*")
    return context, page


def shot(page: Page, artifacts: Path, name: str) -> None:
    page.screenshot(path=str(artifacts / f"console-{name}.png"), full_page=True)


def stored_sessions(server: ConsoleServer) -> list[tuple[str, str, Decimal]]:
    """(card, stopped_at, kWh to the Wh as a statement shows it) of every finished
    transaction, straight from the SQLite file."""
    with sqlite3.connect(server.root / "central.sqlite") as db:
        rows = db.execute(
            "SELECT id_tag, stopped_at, energy_wh FROM transactions WHERE stopped_at IS NOT NULL"
        ).fetchall()
    return [(tag, stopped, round(Decimal(str(wh)) / 1000, 3)) for tag, stopped, wh in rows]
