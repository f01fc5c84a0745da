"""The console in a real headless Chromium against a running site with sim chargers (issue 17).

One site and one browser for the module; every page is photographed under tests/artifacts/.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.controller.support import last_limit
from tests.portal.pdftext import pdf_text

from .browsing import login, shot, stored_sessions
from .conftest import until
from .server import (
    ANN_PASSWORD,
    MANAGER_PASSWORD,
    PRICE,
    XSS,
    ConsoleServer,
    grid_reading,
    local_month,
)

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def manager(browser: Browser, server: ConsoleServer) -> Iterator[Page]:
    context, page = login(browser, server, "manager", MANAGER_PASSWORD)
    yield page
    context.close()


def month_of_sessions(server: ConsoleServer) -> str:
    months = {local_month(stopped) for _, stopped, _ in stored_sessions(server)}
    assert len(months) == 1, months  # seeded together (at a month's edge the test says so)
    return months.pop()


def test_site_updates_live_when_the_household_changes(
    manager: Page, server: ConsoleServer, artifacts: Path
) -> None:
    manager.goto("/console/site")
    expect(manager.locator("#grid-1")).to_have_text("5.0 A")
    assert manager.locator("#circuit-garage-row meter").count() == 3
    site = server.site
    assert site is not None
    server.run(_push(server, 17.5))
    # No reload: the page's script rewrites the number from the event stream.
    expect(manager.locator("#grid-1")).to_have_text("17.5 A")
    expect(manager.locator("#grid-3")).to_have_text("17.5 A")
    expect(manager.locator("#circuit-grid .bar-value").first).to_have_text("17.5 / 25 A")
    assert manager.locator("svg#chart line.fuse").count() == 1  # lines: test_chart.py
    shot(manager, artifacts, "site")


async def _push(server: ConsoleServer, amps: float) -> None:
    assert server.site is not None
    server.site.external_meter("p1").push(grid_reading(amps))


def test_mode_change_is_confirmed_and_reaches_the_sim(
    manager: Page, server: ConsoleServer, artifacts: Path
) -> None:
    sim = server.sims["garage"]
    site = server.site
    assert site is not None

    async def plug() -> None:
        await sim.plug_in("CARD-ANN")
        await until(lambda: (last_limit(sim) or 0) > 0)

    server.run(plug())
    try:
        manager.goto("/console/chargers")
        box = manager.locator("#charger-garage")
        expect(box.locator('[data-field="card"]')).to_contain_text("Ann de Vries")
        shot(manager, artifacts, "chargers")
        box.locator("select[name=value]").select_option("off")
        box.locator("button.mode-button").click()
        manager.wait_for_url("**/console/chargers/garage/mode/confirm?value=off")
        expect(manager.locator("#confirm-text")).to_contain_text("garage")
        assert site.state().chargers["garage"].mode != "off"  # nothing before the confirmation
        shot(manager, artifacts, "confirm")
        manager.click("#confirm")
        manager.wait_for_url("**/console/chargers?done=mode")
        expect(manager.locator("#done")).to_be_visible()
        server.run(until(lambda: last_limit(sim) == 0))
        assert site.state().chargers["garage"].mode == "off"
        expect(box.locator('[data-field="mode"]')).to_have_text("off")
    finally:

        async def unplug() -> None:
            await site.set_mode("garage", None)
            await sim.unplug()

        server.run(unplug())


def test_max_current_and_stop_are_confirmed_and_sent(manager: Page, server: ConsoleServer) -> None:
    sim = server.sims["visitor"]
    site = server.site
    assert site is not None

    async def plug() -> None:
        await sim.plug_in("CARD-BOB")
        await until(lambda: (last_limit(sim) or 0) > 0)

    server.run(plug())
    try:
        manager.goto("/console/chargers")
        box = manager.locator("#charger-visitor")
        box.locator("input[name=value]").fill("7")
        box.get_by_role("button", name="Set max current").click()
        manager.click("#confirm")
        manager.wait_for_url("**/console/chargers?done=max_current")
        server.run(until(lambda: last_limit(sim) == 7.0))
        box.get_by_role("link", name="Stop").click()
        expect(manager.locator("#confirm-text")).to_contain_text("visitor")
        manager.click("#confirm")
        manager.wait_for_url("**/console/chargers?done=stop")
        server.run(until(lambda: sim.transaction is None))  # RemoteStop ended the session
    finally:

        async def unplug() -> None:
            await site.set_max_current("visitor", None)
            await sim.unplug()
            await until(lambda: site.state().chargers["visitor"].transaction_id is None)

        server.run(unplug())


@pytest.mark.parametrize("value", ["abc", "1e9", "-1", "nan", "99"])
def test_a_bad_max_current_changes_nothing(
    manager: Page, server: ConsoleServer, value: str
) -> None:
    site = server.site
    assert site is not None
    manager.goto(f"/console/chargers/garage/max_current/confirm?value={value}")
    expect(manager.locator("#error")).to_be_visible()
    assert manager.locator("#confirm").count() == 0
    # Posting it anyway (with the right token) is refused the same way.
    csrf = manager.locator("input[name=csrf]").first.get_attribute("value")
    answer = manager.request.post(
        "/console/chargers/garage/max_current", form={"value": value, "csrf": csrf or ""}
    )
    assert answer.status == 400
    assert site.state().chargers["garage"].max_current_a is None


def test_month_csv_and_pdf_match_the_database(
    manager: Page, server: ConsoleServer, artifacts: Path
) -> None:
    month = month_of_sessions(server)
    stored = stored_sessions(server)
    kwh = sum((e for _, _, e in stored), Decimal(0))
    # One flat price: each session costs its kWh x the price, to the cent.
    cost = sum(((e * Decimal(PRICE)).quantize(Decimal("0.01")) for _, _, e in stored), Decimal(0))
    manager.goto(f"/console/report?month={month}")
    expect(manager.locator("#report-sessions")).to_have_text(str(len(stored)))
    assert manager.locator("details.statement").count() == len({c for c, _, _ in stored})
    shot(manager, artifacts, "report")

    with manager.expect_download() as got:
        manager.click("#report-csv")
    rows = list(csv.DictReader(io.StringIO(Path(got.value.path()).read_text("utf-8"))))
    total = rows[-1]
    assert total["apartment"] == "total"
    assert Decimal(total["energy_kwh"]) == kwh
    assert Decimal(total["cost"]) == cost
    per_card = {r["card"]: Decimal(r["energy_kwh"]) for r in rows[:-1]}
    for card in {c for c, _, _ in stored}:
        assert per_card[card] == sum((e for c, _, e in stored if c == card), Decimal(0))
    ann = next(r for r in rows if r["card"] == "CARD-ANN")
    assert (ann["resident"], ann["apartment"]) == ("Ann de Vries", "1A")

    with manager.expect_download() as got:
        manager.click("#report-pdf")
    pdf = Path(got.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf)
    assert f"Total: {len(stored)} sessions, {kwh:.3f} kWh, EUR {cost}" in text
    assert "1A - Ann de Vries - CARD-ANN" in text

    manager.goto(f"/console/sessions?month={month}")
    with manager.expect_download() as got:
        manager.click("#csv")
    sessions = list(csv.DictReader(io.StringIO(Path(got.value.path()).read_text("utf-8"))))
    assert len(sessions) == len(stored) + 1
    assert Decimal(sessions[-1]["energy_kwh"]) == kwh
    shot(manager, artifacts, "sessions")


def test_a_resident_sees_only_their_own_sessions(
    browser: Browser, server: ConsoleServer, artifacts: Path
) -> None:
    context, page = login(browser, server, "CARD-ANN", ANN_PASSWORD, phone=True)
    try:
        month = month_of_sessions(server)
        page.goto(f"/console/sessions?month={month}&card=CARD-BOB")  # asks for Bob's
        cards = page.locator("#sessions td.card-id").all_inner_texts()
        assert cards
        assert set(cards) == {"CARD-ANN"}
        ann = [s for s in stored_sessions(server) if s[0] == "CARD-ANN"]
        assert len(cards) == len(ann)
        assert "CARD-BOB" not in page.content()
        shot(page, artifacts, "resident-phone")
        # One column on a phone: the filter fields sit under each other.
        boxes = [page.locator(f".filters label >> nth={i}").bounding_box() for i in range(2)]
        assert boxes[0]
        assert boxes[1]
        assert boxes[1]["y"] > boxes[0]["y"]
        page.goto(f"/console/report?month={month}")
        assert page.locator("#report td.card-id").all_inner_texts() == ["CARD-ANN"]
        csv_text = page.request.get(f"/console/sessions.csv?month={month}&card=CARD-BOB").text()
        assert "CARD-BOB" not in csv_text
        assert "CARD-ANN" in csv_text
        for manager_only in ("/console/site", "/console/chargers", "/console/decisions"):
            assert page.request.get(manager_only).status == 403
    finally:
        context.close()


def test_a_form_without_the_session_token_is_refused(manager: Page, server: ConsoleServer) -> None:
    site = server.site
    assert site is not None
    before = site.state().chargers["visitor"].mode
    for token in ("", "not-the-token"):
        answer = manager.request.post(
            "/console/chargers/visitor/mode", form={"value": "fast", "csrf": token}
        )
        assert answer.status == 403
        assert "nothing was changed" in answer.text()
    # A page on another origin posting the same form: the API's guard refuses it first.
    answer = manager.request.post(
        "/console/chargers/visitor/mode",
        form={"value": "fast", "csrf": "x"},
        headers={"Origin": "http://evil.example"},
    )
    assert answer.status == 403
    assert site.state().chargers["visitor"].mode == before


def test_a_card_named_like_a_script_is_shown_as_text(
    manager: Page, server: ConsoleServer, artifacts: Path
) -> None:
    dialogs: list[str] = []
    manager.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    month = month_of_sessions(server)
    for path in (f"/console/sessions?month={month}", f"/console/report?month={month}"):
        manager.goto(path)
        assert XSS in manager.locator("main").inner_text()
        assert manager.locator("main script").count() == 0
        assert manager.locator("main b").count() == 0  # the apartment "<b>3C</b>" as text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in manager.content()
    assert dialogs == []


def test_decisions_page_and_dutch(
    manager: Page, browser: Browser, server: ConsoleServer, artifacts: Path
) -> None:
    manager.goto("/console/decisions")
    texts = manager.locator("#decisions tbody td:nth-child(3)").all_inner_texts()
    assert any("garage" in t and "→" in t for t in texts)
    shot(manager, artifacts, "decisions")
    context, page = login(browser, server, "manager", MANAGER_PASSWORD, locale="nl-NL")
    try:
        expect(page.locator("h1")).to_have_text("Locatie")
        page.goto("/console/chargers")
        expect(page.locator("h1")).to_have_text("Laadpalen")
        shot(page, artifacts, "chargers-nl")
    finally:
        context.close()
