"""Login, sessions, CSRF, password reset and hostile form input, over HTTP on both engines."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from backend.api.app_keys import STORE
from backend.store import Store

from .client import Portal
from .conftest import Clock
from .seed import PASSWORD, Seeded


async def test_wrong_passwords_are_rate_limited(env: tuple[Portal, Seeded, Path, Clock]) -> None:
    portal, seeded, _, clock = env
    email = seeded.emails["anna"]
    for _ in range(5):
        status, _, html = await portal.login(email, "wrong password")
        assert status == 401
        assert "E-mail or password is wrong" in html
    status, _, html = await portal.login(email)  # right, but too late
    assert status == 429
    assert "Too many failed attempts" in html
    clock.now += timedelta(minutes=16)  # the window has passed
    status, location, _ = await portal.login(email)
    assert (status, location) == (303, "/portal/dashboard")


async def test_logout_ends_the_session(env: tuple[Portal, Seeded, Path, Clock]) -> None:
    portal, seeded, _, _ = env
    await portal.login(seeded.emails["bob"])
    cookie = portal.cookie()
    assert (await portal.page("/portal/dashboard"))[0] == 200
    status, location, _ = await portal.post("/portal/logout", {}, token_from="/portal/dashboard")
    assert (status, location) == (303, "/portal/login")
    portal.client.session.cookie_jar.update_cookies({"eflux_portal": cookie})
    status, _ = await portal.page("/portal/dashboard")
    assert status == 303  # the old id is dead: back to the login page


async def test_pages_carry_security_headers(env: tuple[Portal, Seeded, Path, Clock]) -> None:
    portal, _, _, _ = env
    async with portal.client.get("/portal/login") as response:
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp
        assert "frame-ancestors 'none'" in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        cookie = response.cookies["eflux_portal"]
        assert cookie["httponly"]
        assert cookie["samesite"] == "Strict"
        assert not cookie["secure"]  # plain http on loopback; https sets Secure


async def test_login_form_needs_its_csrf_token(env: tuple[Portal, Seeded, Path, Clock]) -> None:
    portal, seeded, _, _ = env
    await portal.page("/portal/login")
    form = {"email": seeded.emails["anna"], "password": PASSWORD}
    async with portal.client.post("/portal/login", data=form, allow_redirects=False) as response:
        assert response.status == 403
        assert "This form has expired" in await response.text()
    assert (await portal.page("/portal/dashboard"))[0] == 303  # not logged in


async def test_password_reset_through_the_outbox(env: tuple[Portal, Seeded, Path, Clock]) -> None:
    portal, seeded, outbox, clock = env
    other = Portal(portal.client)
    status, _, html = await portal.post("/portal/reset", {"email": "nobody@portal.test"})
    assert status == 200
    unknown_answer = html
    assert not outbox.exists()  # nothing sent for an unknown address ...
    status, _, html = await portal.post("/portal/reset", {"email": seeded.emails["chris"]})
    assert html.count("If the address is known") == unknown_answer.count("If the address is known")
    (mail,) = outbox.iterdir()  # ... and the same answer for a known one
    text = mail.read_text()
    assert "To: chris@portal.test" in text
    link = next(line for line in text.splitlines() if "/portal/reset/" in line)
    path = link[link.index("/portal/reset/") :]
    status, _, html = await portal.post(path, {"password": "short", "password2": "short"})
    assert status == 400
    new = "a much better password"
    status, location, _ = await portal.post(path, {"password": new, "password2": new})
    assert (status, location) == (303, "/portal/login")
    assert (await portal.page(path))[0] == 404  # a link works once
    status, _, _ = await portal.post(
        path, {"password": new, "password2": new}, token_from="/portal/reset"
    )
    assert status == 404
    assert (await other.login(seeded.emails["chris"]))[0] == 401  # the old password is gone
    assert (await other.login(seeded.emails["chris"], new))[0] == 303
    clock.now += timedelta(hours=2)
    await portal.post("/portal/reset", {"email": seeded.emails["chris"]})
    later = sorted(outbox.iterdir())[-1].read_text()
    late_path = later[later.index("/portal/reset/") :].strip()
    clock.now += timedelta(hours=1, seconds=1)  # links live one hour
    assert (await portal.page(late_path))[0] == 404


@pytest.mark.parametrize(
    ("path", "form", "status"),
    [
        ("/portal/sessions?month=2026-13", None, 400),
        ("/portal/sessions?month=%27%3B%20DROP%20TABLE%20sessions", None, 400),
        ("/portal/sessions?card=1%20OR%201%3D1", None, 400),
        ("/portal/cards/abc/lost", None, 404),
        ("/portal/cards/99999999999999999999999/lost", None, 404),
        ("/portal/invoices/-1", None, 404),
        (
            "/portal/advisor",
            {"phases": "2", "cable_mm2": "6", "car_max_kw": "11", "battery_kwh": "60"},
            400,
        ),
        (
            "/portal/advisor",
            {"phases": "3", "cable_mm2": "NaN", "car_max_kw": "11", "battery_kwh": "60"},
            400,
        ),
        (
            "/portal/advisor",
            {"phases": "3", "cable_mm2": "6", "car_max_kw": "1e999", "battery_kwh": "60"},
            400,
        ),
        ("/portal/prepaid/top-up", {"amount": "-5"}, 400),
        ("/portal/prepaid/top-up", {"amount": "100000"}, 400),
        ("/portal/prepaid/top-up", {"amount": "12.345"}, 400),
        ("/portal/bank-account", {"iban": "NL00 0000 0000 0000 00"}, 400),
        ("/portal/bank-account", {"iban": "x" * 10_000}, 400),
        ("/portal/charge-points/1/guest", {"per_kwh": "-0,10"}, 400),
        ("/portal/charge-points/1/guest", {"per_kwh": "Infinity"}, 400),
        ("/portal/admin/invoicing", {"month": "2026-11"}, 404),  # customers have no admin pages
    ],
)
async def test_hostile_input_gets_a_clear_refusal(
    env: tuple[Portal, Seeded, Path, Clock],
    path: str,
    form: dict[str, str] | None,
    status: int,
) -> None:
    portal, seeded, _, _ = env
    await portal.login(seeded.emails["anna"])
    if form is None:
        got, html = await portal.page(path)
    else:
        got, _, html = await portal.post(path, form, token_from="/portal/dashboard")
    assert got == status, html[:500]
    assert "<h1>Something went wrong</h1>" in html
    assert "Traceback" not in html
    account = await _store(portal).accounts.get_account(seeded.accounts["anna"])
    assert account.prepaid_balance_cents == 0  # nothing was booked by a refused form
    assert account.iban is None


def _store(portal: Portal) -> Store:
    app = portal.client.app
    assert app is not None
    return app[STORE]


async def test_oversized_form_is_refused(env: tuple[Portal, Seeded, Path, Clock]) -> None:
    portal, seeded, _, _ = env
    await portal.login(seeded.emails["anna"])
    csrf = await portal.csrf("/portal/dashboard")
    data = {"csrf": csrf, "amount": "1" * 100_000}
    async with portal.client.post(
        "/portal/prepaid/top-up", data=data, allow_redirects=False
    ) as response:
        assert response.status == 413
    assert (
        await _store(portal).accounts.get_account(seeded.accounts["anna"])
    ).prepaid_balance_cents == 0


async def test_cancel_explains_the_rule_and_records_notice(
    env: tuple[Portal, Seeded, Path, Clock],
) -> None:
    portal, seeded, _, _ = env
    await portal.login(seeded.emails["anna"])
    cp_sub, card_sub = seeded.subscriptions["anna_cp"], seeded.subscriptions["anna_card"]
    # Charge-point plan from 15 Jan 2026, 12 months: notice by 15 Dec ends it on 15 Jan 2027.
    status, html = await portal.page(f"/portal/subscription/{cp_sub}/cancel")
    assert status == 200
    assert "You give notice by 2026-12-15" in html
    assert "Your last day of service is 2027-01-14" in html
    # The card plan's minimum term ended long ago: one month after the notice.
    status, html = await portal.page(f"/portal/subscription/{card_sub}/cancel")
    assert "notice for that had to arrive by 2026-03-01" in html
    assert "your last day of service is 2026-12-22" in html
    status, location, _ = await portal.post(f"/portal/subscription/{cp_sub}/cancel", {})
    assert (status, location) == (303, "/portal/subscription?done=cancelled")
    row = await _store(portal).db.fetchrow(
        "SELECT status, notice_received_on, ends_on FROM subscriptions WHERE id = ?", cp_sub
    )
    assert row == {
        "status": "notice_given",
        "notice_received_on": "2026-11-23",
        "ends_on": "2027-01-15",
    }
    status, _, html = await portal.post(
        f"/portal/subscription/{cp_sub}/cancel", {}, token_from="/portal/subscription"
    )
    assert status == 409  # billing refuses a second notice, in words
    assert "cannot take notice when notice_given" in html
