"""The advisor's rules (seed FAQ), both languages complete, CSV cells safe from formulas."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from backend.portal.advisor import recommend, situation_from
from backend.portal.forms import FormError
from backend.services.sessions import cell as _cell

PORTAL = Path(__file__).resolve().parents[2] / "backend" / "portal"


def advise(**answers: str):  # type: ignore[no-untyped-def]
    base = {
        "phases": "3",
        "cable_mm2": "6",
        "car_max_kw": "11",
        "battery_kwh": "60",
        "location": "private",
    }
    return recommend(situation_from({**base, **answers}))


def test_one_phase_is_3_7_kw_basic_or_with_back_office() -> None:
    basic = advise(phases="1")
    assert (basic.power_kw, basic.phases, basic.amps) == (Decimal("3.7"), 1, 16)
    assert basic.station_cents == (50000, 50000)  # "around €500" without a back office
    managed = advise(phases="1", back_office="1")
    assert managed.station_cents == (80000, 100000)  # €800-1,000 with one
    assert basic.installation_cents == (30000, 70000)


def test_three_phase_is_11_or_22_kw_by_cable_and_car() -> None:
    assert advise(car_max_kw="22").power_kw == 22  # 6 mm² carries 32 A
    assert advise(car_max_kw="22", cable_mm2="2.5").power_kw == 11  # 16 A only
    car_limited = advise(car_max_kw="11")
    assert car_limited.power_kw == 11  # 22 kW would not charge this car faster
    assert "advice.note.car_limits" in car_limited.notes
    assert car_limited.station_cents == (150000, 150000)  # "around €1,500"
    assert car_limited.full_charge_hours == Decimal("5.5")  # 60 kWh at 11 kW


def test_location_housing_and_limited_power() -> None:
    public = advise(location="public", outdoor="1", limited_power="1")
    assert (public.ik_class, public.ip_class, public.smart_grid) == ("IK10", "IP55", True)
    assert public.back_office
    home = advise(outdoor="1")
    assert (home.ik_class, home.ip_class, home.smart_grid) == ("IK08", "IP54", False)
    assert advise().ip_class == "IP44"
    assert "advice.note.new_cable" in advise(cable_mm2="1.5").notes


@pytest.mark.parametrize(
    "bad",
    [
        {"phases": "2"},
        {"cable_mm2": "abc"},
        {"car_max_kw": "0"},
        {"battery_kwh": "1e400"},
        {"battery_kwh": "NaN"},
    ],
)
def test_advisor_refuses_nonsense(bad: dict[str, str]) -> None:
    with pytest.raises(FormError):
        advise(**bad)


def test_english_and_dutch_have_the_same_keys_and_templates_use_known_ones() -> None:
    en = json.loads((PORTAL / "locale" / "en.json").read_text())
    nl = json.loads((PORTAL / "locale" / "nl.json").read_text())
    assert set(en) == set(nl)
    used = set()
    for template in (PORTAL / "templates").glob("*.html"):
        used |= set(re.findall(r"t\('([a-z_.]+[a-z])'", template.read_text()))
    assert used - set(en) == set()
    for key, text in en.items():  # the same {placeholders} in both languages
        assert set(re.findall(r"{(\w+)}", text)) == set(re.findall(r"{(\w+)}", nl[key])), key


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+31", "'+31"),
        ("-1+1", "'-1+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("garage", "garage"),
    ],
)
def test_csv_cells_never_start_a_formula(value: str, written: str) -> None:
    assert _cell(value) == written


def test_local_times_are_amsterdam() -> None:
    from backend.portal.render import local_time

    assert local_time(datetime(2026, 7, 1, 22, 30, tzinfo=UTC)) == "2026-07-02 00:30"
    assert local_time(None) == "-"


def test_session_cookie_is_secure_over_https(tmp_path: Path) -> None:
    import ssl

    from aiohttp import web
    from aiohttp.test_utils import make_mocked_request

    from backend.portal.keys import CONFIG, PortalConfig
    from backend.portal.middleware import set_cookie
    from backend.portal.sessions import WebSession

    app = web.Application()
    app[CONFIG] = PortalConfig(outbox=tmp_path)
    for context, secure in ((None, False), (ssl.create_default_context(), True)):
        request = make_mocked_request("GET", "/portal/login", app=app, sslcontext=context)
        response = web.Response()
        set_cookie(request, response, WebSession("secret", "csrf", None))
        cookie = response.cookies["eflux_portal"]
        assert bool(cookie["secure"]) is secure
        assert cookie["httponly"] is True
        assert cookie["samesite"] == "Strict"


@pytest.mark.parametrize(
    ("cents", "shown"),
    [
        (Decimal("24.5"), "0,245"),
        (Decimal(100), "1,00"),
        (Decimal(0), "0,00"),
        (Decimal("7.5"), "0,075"),
        (Decimal(45), "0,45"),
    ],
)
def test_tariff_parts_show_as_euros(cents: Decimal, shown: str) -> None:
    from backend.portal.render import tariff_eur

    assert tariff_eur(cents) == shown
