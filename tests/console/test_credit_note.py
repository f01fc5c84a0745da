"""Guest usage and the expected credit note in the monthly report (issue 17), against a real
cloud back end on loopback: a building association's site syncs with it (its card list, its
charge points and their guest tariffs), residents charge with their own E-Flux cards at the
charger open to guests and at the one that is not, the association with its own card; the
report (API, page, CSV, PDF) marks the guest sessions and states the month's expected credit
note, which must be what the back end's own credit-note rule gives for the sessions it received."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from backend.billing.calendar import Month
from backend.billing.guest_usage import GuestOwner, guest_credit_note
from backend.billing.money import Basis
from backend.billing.sessions import ChargingSession, Network, SessionTariff
from backend.store import AccountKind, CardKind, Store
from custom_components.eflux.core.config import parse_site_config
from custom_components.eflux.core.runner.api import build_app
from custom_components.eflux.core.runtime import CloudClient, CloudLink, LocalSite
from sim.chargepoint import Car, SimChargePoint
from tests.cloud.conftest import Cloud
from tests.runner.support import Api

from .conftest import ARTIFACTS, CHROMIUM, charge, until
from .forms import page, session_of
from .server import ANN_PASSWORD, CHARGERS, MANAGER_PASSWORD, site_yaml

pytestmark = pytest.mark.timeout(180)
HAVE_CHROMIUM = Path(CHROMIUM).exists()
GUEST_TARIFF = {"start_cents": Decimal(50), "per_kwh_cents": Decimal(30),
                "per_minute_cents": Decimal("0.5")}  # fmt: skip
# (charger, card, Wh): garage (CON-A) is open to guests, visitor (CON-B) is not.
SESSIONS = (
    ("garage", "CARD-ANN", 5000),  # a resident's own E-Flux card, open charger: guest usage
    ("visitor", "CARD-ANN", 2000),  # the same card at the closed one: not guest usage
    ("garage", "VVE-01", 3000),  # the association's own card: not guest usage
    ("garage", "CARD-BOB", 1234),  # another resident's E-Flux card: guest usage
)


@dataclass
class World:
    cloud: Cloud
    site: LocalSite
    link: CloudLink
    api: Api
    sims: dict[str, SimChargePoint]


async def association_cloud(tmp_path: Path, port: int) -> tuple[Cloud, str]:
    """The back end with the association's account, site (token), own card VVE-01, CON-A open
    to guests at GUEST_TARIFF and CON-B closed, and two residents with their own cards."""
    store = await Store.open(str(tmp_path / "cloud.sqlite"))
    cloud = Cloud(store, port, clock=lambda: datetime.now(UTC))
    now = datetime.now(UTC)
    vve = await store.accounts.create_account(AccountKind.LOCATION_OWNER, "VvE", now=now)
    home = await store.sites.create_site(vve.id, "Building", now=now)
    token = (await store.accounts.create_site_token(home, "t", now=now)).secret
    await store.cards.create_card("VVE-01", CardKind.SUBSCRIPTION, now=now, account_id=vve.id)
    for uid, name in (("CARD-ANN", "Ann"), ("CARD-BOB", "Bob")):
        account = await store.accounts.create_account(AccountKind.CONSUMER, name, now=now)
        await store.cards.create_card(uid, CardKind.SUBSCRIPTION, now=now, account_id=account.id)
    garage = await store.sites.create_charge_point(vve.id, "CON-A", now=now, site_id=home.id)
    await store.sites.set_guest_tariff(
        garage.id, vve.id, guest_usage=True, now=now, actor="test", **GUEST_TARIFF
    )
    await store.sites.create_charge_point(vve.id, "CON-B", now=now, site_id=home.id)
    await cloud.up()
    return cloud, token


@asynccontextmanager
async def building(tmp_path: Path, port: int) -> AsyncIterator[World]:
    cloud, token = await association_cloud(tmp_path, port)
    store = cloud.store
    config = parse_site_config(site_yaml(tmp_path), base_dir=tmp_path)
    client = CloudClient(cloud.url, token)
    site = LocalSite(config, remote_authorizer=client.authorize)
    await site.start()
    link = await site.connect_cloud(client)
    runner = web.AppRunner(build_app(site, config.api))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    sims = {}
    try:
        await until(lambda: any(c.uid == "VVE-01" for c in site.cards()["cloud"]))
        await until(lambda: link.status.online, 10)
        for charger, (cp_id, version) in CHARGERS.items():
            sim = SimChargePoint(
                f"ws://127.0.0.1:{site.central.port}",
                cp_id,
                version,
                reconnect_delay=0.05,
                meter_interval=3600,
                car=Car(soc=40.0),
            )
            await sim.start()
            sims[charger] = sim
        await until(lambda: all(s.connected.is_set() for s in sims.values()))
        async with aiohttp.ClientSession() as http:
            base = f"http://127.0.0.1:{runner.addresses[0][1]}"
            yield World(cloud, site, link, Api(site, base, http), sims)
    finally:
        for sim in sims.values():
            await sim.close()
        await runner.cleanup()
        await link.stop()
        await site.stop()
        await cloud.down()
        await store.close()


async def backend_credit_note(cloud: Cloud, month: str) -> tuple[int, int]:
    """(guest sessions, gross cents) of the back end's own credit-note rule over the sessions
    it received: GuestOwner, guest_credit_note (backend/billing/guest_usage.py)."""
    db = cloud.store.db
    points = await db.fetch("SELECT id, account_id, guest_usage FROM charge_points")
    owner_id = str(points[0]["account_id"])
    rows = await db.fetch(
        "SELECT s.id, s.id_tag, s.charge_point_id, s.started_at, s.stopped_at, s.energy_wh"
        " FROM sessions s"
    )
    cards = await db.fetch("SELECT uid, account_id FROM cards")
    owner = GuestOwner(
        account_id=owner_id,
        charge_point_ids=frozenset(str(p["id"]) for p in points if p["guest_usage"]),
        tariff=SessionTariff(**GUEST_TARIFF, basis=Basis.GROSS),
        electricity_cents_per_kwh=Decimal(25),
    )
    sessions = [
        ChargingSession(
            id=str(r["id"]),
            card_uid=str(r["id_tag"]),
            charge_point_id=str(r["charge_point_id"]),
            started_at=datetime.fromisoformat(r["started_at"]),
            stopped_at=datetime.fromisoformat(r["stopped_at"]),
            energy_wh=int(r["energy_wh"]),
            network=Network.OWN,
        )
        for r in rows
    ]
    accounts = {str(c["uid"]): str(c["account_id"]) for c in cards}
    note = guest_credit_note(
        owner, sessions, accounts, Month.parse(month), datetime.now(UTC).date()
    )
    assert note is not None
    return len(note.lines), sum(line.amount.gross for line in note.lines)


async def test_the_report_states_guest_usage_and_the_expected_credit_note(
    tmp_path: Path, unused_port: Callable[[], int]
) -> None:
    async with building(tmp_path, unused_port()) as world:
        api = world.api
        server: Any = world  # charge() takes anything with .sims and .site
        for charger, card, wh in SESSIONS:
            await charge(server, charger, card, wh)
        month = world.site.clock.now().astimezone(_zone()).strftime("%Y-%m")
        await synced(world.cloud, len(SESSIONS))
        count, cents = await backend_credit_note(world.cloud, month)
        assert count == 2

        status, report = await api.call("GET", f"/api/reports/monthly?month={month}")
        assert status == 200
        assert report["credit_note"]["expected"] == f"{Decimal(cents) / 100:.2f}"
        assert report["credit_note"]["guest_sessions"] == 2
        assert report["credit_note"]["energy_kwh"] == "6.234"
        by_card = {c["card"]: c for c in report["cards"]}
        assert (by_card["CARD-ANN"]["cloud_card"], by_card["CARD-ANN"]["guest_sessions"]) == (
            True,
            1,
        )
        assert by_card["CARD-BOB"]["guest_sessions"] == 1
        assert (by_card["VVE-01"]["cloud_card"], by_card["VVE-01"]["guest_sessions"]) == (False, 0)
        credited = sum(Decimal(c["credited"]) for c in report["cards"])
        assert credited == Decimal(report["credit_note"]["expected"])

        manager = await session_of(api, "manager", MANAGER_PASSWORD)
        _, html, _ = await page(api, manager, f"/console/report?month={month}")
        assert 'id="credit-note"' in html
        assert f"{Decimal(cents) / 100:.2f}" in html
        assert html.count('class="guest"') == 2  # the two guest sessions, marked
        async with api.http.get(
            f"{api.base}/console/report.csv?month={month}",
            headers={"Cookie": f"eflux_console={manager}"},
        ) as r:
            rows = list(csv.DictReader(io.StringIO(await r.text())))
        assert Decimal(rows[-1]["credited"]) == Decimal(cents) / 100
        assert rows[-1]["guest_sessions"] == "2"

        if HAVE_CHROMIUM:
            await screenshot_report(api.base, month)

        ann = await session_of(api, "CARD-ANN", ANN_PASSWORD)
        _, mine, _ = await page(api, ann, f"/console/report?month={month}")
        assert 'id="credit-note"' not in mine  # the association's, not a resident's
        assert mine.count('class="guest"') == 1
        assert "CARD-BOB" not in mine


async def screenshot_report(base: str, month: str) -> None:
    """The Report page with its guest sessions and credit note, for tests/artifacts and docs."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            page = await browser.new_page(base_url=base, viewport={"width": 1000, "height": 900})
            await page.goto("/console/login")
            await page.fill("input[name=user]", "manager")
            await page.fill("input[name=password]", MANAGER_PASSWORD)
            await page.click("#login-submit")
            await page.wait_for_url("**/console/site")
            await page.goto(f"/console/report?month={month}")
            await page.locator("#credit-note").wait_for()
            for statement in await page.locator("details.statement").all():
                await statement.evaluate("d => d.open = true")
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            shot = ARTIFACTS / "console-report-credit-note.png"
            await page.screenshot(path=str(shot), full_page=True)
        finally:
            await browser.close()


def _zone() -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo("Europe/Amsterdam")


async def synced(cloud: Cloud, count: int, wait_s: float = 20.0) -> None:
    """Until the back end holds `count` sessions (the link sends each when it ends)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_s
    while int(await cloud.store.db.fetchval("SELECT count(*) FROM sessions")) < count:
        if loop.time() > deadline:
            raise AssertionError(f"the cloud did not receive {count} sessions in {wait_s} s")
        await asyncio.sleep(0.05)
