"""The portal in a real headless Chromium against the back end on loopback.

One browser for the module; Anna's logged-in context is shared by the tests that follow her.
Each main page is photographed under tests/artifacts/.
"""

from __future__ import annotations

import csv
import io
import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from .browsing import login, session_cookie, shot
from .pdftext import pdf_text
from .seed import XSS, Seeded
from .server import PortalServer

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def anna(browser: Browser, server: PortalServer, seeded: Seeded) -> Iterator[Page]:
    context, page = login(browser, server, seeded.emails["anna"])
    yield page
    context.close()


def api(server: PortalServer, token: str, path: str) -> Any:
    request = urllib.request.Request(
        f"{server.url}/api/v1{path}", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def test_dashboard_shows_this_month(anna: Page, artifacts: Path) -> None:
    anna.goto("/portal/dashboard")
    # Seeded: Anna charged 0, 4, 12, 16 and 20 days before 23 November, 7 kWh + 0.1 kWh per
    # day back, at € 0.30/kWh; Bob's session 8 days back (on her charger) is not her cost.
    assert anna.locator("#month-kwh").inner_text() == "40,20 kWh"
    assert anna.locator("#month-cost").inner_text() == "€ 12,06"
    assert anna.locator("svg rect.bar").count() == 90
    assert anna.locator("#live-sessions tbody tr").count() == 10
    shot(anna, artifacts, "dashboard")


def test_card_name_is_escaped(anna: Page, seeded: Seeded, artifacts: Path) -> None:
    dialogs: list[str] = []
    anna.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    anna.goto("/portal/cards")
    label = anna.locator(f"#card-{seeded.cards['anna_xss']} td.label")
    assert label.inner_text() == XSS  # shown as text ...
    assert anna.locator("main script").count() == 0  # ... never as an element
    assert XSS not in anna.content().replace("&lt;", "<").split("<main>")[0]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in anna.content()
    assert dialogs == []
    shot(anna, artifacts, "cards")


def test_report_lost_blocks_card_in_api(anna: Page, server: PortalServer, seeded: Seeded) -> None:
    card = seeded.cards["anna"]
    anna.goto("/portal/cards")
    anna.click(f"#card-{card} a.button")
    assert "€ 7,50" in anna.locator("#fee").inner_text()  # the fee is shown before confirming
    anna.uncheck("input[name=replacement]")
    anna.click("#confirm-lost")
    anna.wait_for_url("**/portal/cards?done=lost")
    row = anna.locator(f"#card-{card}")
    assert "blocked since 2026-11-23 10:00" in row.inner_text()  # 09:00 UTC in Amsterdam
    body = api(server, seeded.tokens["anna"], f"/cards/{card}")
    assert body["status"] == "lost"
    # The replacement, ordered afterwards, shows its fee first too.
    row.locator("a.button").click()
    assert "€ 7,50" in anna.locator("#fee").inner_text()
    anna.click("#confirm-replace")
    anna.wait_for_url("**/portal/cards?done=ordered")
    orders = api(server, seeded.tokens["anna"], "/card-orders")
    assert [(o["replaces_card_id"], o["fee_cents"]) for o in orders["items"]] == [(card, 750)]


def test_sessions_filter_and_csv(anna: Page, seeded: Seeded, artifacts: Path) -> None:
    anna.goto("/portal/sessions?month=2026-10")
    rows = anna.locator("#sessions tbody tr")
    october = rows.count()
    assert october >= 7
    anna.select_option("select[name=card]", str(seeded.cards["anna"]))
    anna.click("form.filters button")
    anna.wait_for_url("**card=*")
    shot(anna, artifacts, "sessions")
    with anna.expect_download() as info:
        anna.click("#csv")
    text = Path(info.value.path()).read_text(encoding="utf-8")
    table = list(csv.DictReader(io.StringIO(text)))
    assert table
    assert len(table) == anna.locator("#sessions tbody tr").count()
    assert {r["card"] for r in table} == {"A1B2C3D4"}  # Bob's sessions filtered out
    # October in Amsterdam: 30 Sep 22:00 UTC up to 31 Oct 23:00 UTC.
    assert all("2026-09-30T22" <= r["started_at_utc"] < "2026-10-31T23" for r in table)
    assert len(table) == 7  # Anna's sessions 24, 28, ..., 52 days before 23 November
    day_36 = next(r for r in table if r["energy_kwh"] == "10.600")
    assert day_36["cost_eur_incl_vat"] == "3.18"  # 10.6 kWh at € 0.30


def test_switch_plan_fee_on_next_invoice(
    anna: Page, browser: Browser, server: PortalServer, seeded: Seeded, artifacts: Path
) -> None:
    sub = seeded.subscriptions["anna_card"]
    anna.goto("/portal/subscription")
    shot(anna, artifacts, "subscription")
    anna.select_option(f"#sub-{sub} select[name=plan]", "CARD-FLEX")
    anna.click(f"#switch-{sub}")
    assert "€ 7,50" in anna.locator("#fee").inner_text()
    assert "2026-12-01" in anna.locator("main").inner_text()
    anna.click("#confirm-switch")
    anna.wait_for_url("**/portal/subscription?done=switched")
    assert "Card, pay per use" in anna.locator(f"#sub-{sub} .pending").inner_text()

    admin, page = login(browser, server, seeded.emails["admin"])
    page.goto("/portal/admin")
    page.fill("input[name=month]", "2026-11")
    page.click("#run-invoicing")
    assert "2026-11" in page.locator("#run-summary").inner_text()
    shot(page, artifacts, "admin")
    page.goto("/portal/admin/audit")
    assert "subscription.switch" in page.locator("#audit").inner_text()
    shot(page, artifacts, "audit")
    admin.close()

    anna.goto("/portal/invoices")
    shot(anna, artifacts, "invoices")
    # Bob charged on Anna's guest charger in November: she gets a credit note for it.
    anna.locator("#credit-notes a").first.click()
    assert anna.locator("h1").inner_text().startswith("Credit note")
    assert anna.locator("#total").inner_text() == "€ 2,34"  # 7.8 kWh at € 0.30
    anna.goto("/portal/invoices")
    anna.locator("#invoices a").first.click()
    lines = anna.locator("#lines").inner_text()
    assert "€ 7,50" in lines
    assert "21 %" in lines
    shot(anna, artifacts, "invoice")
    number = anna.locator("h1").inner_text().split()[-1]
    with anna.expect_download() as info:
        anna.click("#pdf")
    pdf = Path(info.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf)
    assert number in text
    assert "7,50" in text


def test_other_customer_cannot_reach_annas_pages(
    browser: Browser, server: PortalServer, seeded: Seeded
) -> None:
    context, page = login(browser, server, seeded.emails["bob"])
    card = seeded.cards["anna_xss"]
    for path in (
        f"/portal/cards/{card}/lost",
        f"/portal/cards/{card}/replace",
        f"/portal/subscription/{seeded.subscriptions['anna_card']}/cancel",
        f"/portal/subscription/{seeded.subscriptions['anna_cp']}/switch?plan=CP-FIXED-1Y",
        "/portal/admin",
        "/portal/admin/audit",
    ):
        response = page.goto(path)
        assert response is not None
        assert response.status == 404, path
    anna_id = seeded.accounts["anna"]
    invoices = server.call(
        lambda store: store.db.fetch("SELECT id FROM invoices WHERE account_id = ?", anna_id)
    )
    assert invoices
    for row in invoices:
        assert page.goto(f"/portal/invoices/{row['id']}").status == 404  # type: ignore[union-attr]
        response = page.request.get(f"/portal/invoices/{row['id']}/pdf")
        assert response.status == 404
    page.goto("/portal/cards")
    assert "Anna" not in page.locator("main").inner_text()
    csrf = page.locator("input[name=csrf]").first.input_value()
    # Even with a valid token of his own, Bob's post for Anna's card finds nothing.
    response = page.request.post(f"/portal/cards/{card}/lost", form={"csrf": csrf})
    assert response.status == 404
    assert api(server, seeded.tokens["anna"], f"/cards/{card}")["status"] == "active"
    csv_text = page.request.get("/portal/sessions.csv").text()
    assert "A1B2C3D4" not in csv_text  # only his own sessions
    context.close()


def test_form_without_csrf_token_is_refused(
    anna: Page, server: PortalServer, seeded: Seeded
) -> None:
    card = seeded.cards["anna_xss"]
    anna.goto("/portal/cards")
    refused = anna.request.post(f"/portal/cards/{card}/lost", form={"replacement": "1"})
    assert refused.status == 403
    wrong = anna.request.post(f"/portal/cards/{card}/lost", form={"csrf": "x" * 43})
    assert wrong.status == 403
    assert api(server, seeded.tokens["anna"], f"/cards/{card}")["status"] == "active"


def test_login_replaces_the_session_id(
    browser: Browser, server: PortalServer, seeded: Seeded
) -> None:
    context = browser.new_context(base_url=server.url)
    page = context.new_page()
    page.goto("/portal/login")
    planted = session_cookie(context)  # what an attacker could have fixed in the victim
    page.fill("input[name=email]", seeded.emails["anna"])
    page.fill("input[name=password]", "correct horse battery")
    page.click("#login-submit")
    page.wait_for_url("**/portal/dashboard")
    assert session_cookie(context) != planted
    cookie = next(c for c in context.cookies() if c["name"] == "eflux_portal")
    assert cookie["httpOnly"]
    assert cookie["sameSite"] == "Strict"
    attacker = browser.new_context(base_url=server.url)
    attacker.add_cookies([{"name": "eflux_portal", "value": planted, "url": server.url}])
    spy = attacker.new_page()
    spy.goto("/portal/dashboard")
    assert spy.url.endswith("/portal/login")  # the planted id never became a login
    attacker.close()
    context.close()


def test_charge_points_advisor_and_installation(
    anna: Page, browser: Browser, server: PortalServer, seeded: Seeded, artifacts: Path
) -> None:
    anna.goto("/portal/advisor")
    anna.check("input[name=location][value=public]")
    anna.check("input[name=limited_power]")
    anna.fill("input[name=car_max_kw]", "22")
    anna.click("#advise")
    assert anna.locator("#power").inner_text().startswith("22 kW")
    assert "IK10" in anna.locator("#housing").inner_text()
    assert anna.locator("#smart-grid").inner_text() == "Yes"
    assert "€ 1.500,00" in anna.locator("#station-price").inner_text()
    assert anna.locator("#installation-price").inner_text() == "€ 300,00 \u2013 € 700,00"
    shot(anna, artifacts, "advisor")
    anna.click("#order")
    anna.wait_for_url("**/portal/charge-points?done=ordered")
    order = anna.locator("section.installation").first
    assert "22 kW" in order.inner_text()
    order_id = order.get_attribute("id").removeprefix("installation-")  # type: ignore[union-attr]

    admin, page = login(browser, server, seeded.emails["admin"])
    page.goto("/portal/admin")
    steps = (
        ("schedule", "2026-11-23", "2026-11-30", ""),
        ("installed", "2026-11-30", "", "tx-test-1"),
        ("inspection", "2026-11-30", "2026-12-05", ""),
        ("reject", "2026-12-05", "", "Earth leakage breaker missing\nCable not fixed"),
    )
    for action, on, day, text in steps:
        form = page.locator(f"#admin-installation-{order_id} form")
        form.locator("select[name=action]").select_option(action)
        form.locator("input[name=on]").fill(on)
        if day:
            form.locator("input[name=date]").fill(day)
        form.locator("textarea[name=text]").fill(text)
        form.locator("button").click()
        page.wait_for_url("**/portal/admin")
    admin.close()

    anna.goto("/portal/charge-points")
    report = anna.locator(f"#installation-{order_id} .report.rejected")
    assert "Earth leakage breaker missing" in report.inner_text()
    assert "Cable not fixed" in report.inner_text()
    # Guest usage: a tariff over the platform maximum is refused, one under it is kept.
    cp = anna.locator(f"#cp-{seeded.charge_point}")
    cp.locator("input[name=guest_usage]").check()
    cp.locator("input[name=per_kwh]").fill("0,99")
    cp.locator("button").click()
    assert "may not exceed the platform maximum" in anna.locator("#error-message").inner_text()
    anna.goto("/portal/charge-points")
    cp.locator("input[name=guest_usage]").check()
    cp.locator("input[name=per_kwh]").fill("0,45")
    cp.locator("button").click()
    anna.wait_for_url("**done=guest")
    assert cp.locator("input[name=guest_usage]").is_checked()
    # Top-up through the payment provider: pending until the provider says paid.
    anna.fill("input[name=amount]", "25,00")
    anna.click("#top-up")
    anna.wait_for_url("**/portal/top-ups/*")
    assert anna.locator("#status").inner_text() == "pending"
    anna.click("#pay")  # to the provider's checkout page, then back
    anna.click("#pay")
    anna.wait_for_url("**/portal/top-ups/*")
    assert anna.locator("#status").inner_text() == "paid"
    anna.goto("/portal/charge-points")
    assert anna.locator("#balance").inner_text() == "€ 25,00"
    shot(anna, artifacts, "charge-points")


def test_phone_layout_and_dutch(
    browser: Browser, server: PortalServer, seeded: Seeded, artifacts: Path
) -> None:
    context, page = login(browser, server, seeded.emails["chris"], phone=True)
    page.goto("/portal/charge-points?lang=nl")
    assert page.locator("h1").inner_text() == "Uw laadpunten"
    page.fill("input[name=iban]", "NL91 ABNA 0417 1643 01")  # one digit off
    page.click("#save-iban")
    assert "Dit is geen geldig IBAN" in page.locator("#error-message").inner_text()
    page.goto("/portal/charge-points")  # the language stays (cookie)
    page.fill("input[name=iban]", "NL91 ABNA 0417 1643 00")
    page.click("#save-iban")
    page.wait_for_url("**done=iban")
    assert page.locator("#iban").inner_text() == "NL91ABNA0417164300"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scroll
    page.click("label.menu-button")
    assert page.locator("nav.menu").is_visible()
    shot(page, artifacts, "phone-nl")
    context.close()


def test_login_page_screenshot(browser: Browser, server: PortalServer, artifacts: Path) -> None:
    context = browser.new_context(base_url=server.url)
    page = context.new_page()
    page.goto("/portal/dashboard")
    assert page.url.endswith("/portal/login")
    shot(page, artifacts, "login")
    context.close()
