"""Money rules of issue 19 item 4 over the real API on both engines, each named after its
clause of the terms: the guest maximum in every route (28.3), a checked IBAN wherever one is
stored (what payouts pay to), the card uid pattern of the OpenAPI file, and no subscription
stored that could never be invoiced (22.1). Each refusal leaves nothing changed."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from backend.store import AccountKind, Invalid
from tests.billing.factories import CARD_PPU

from .conftest import NOW, Api


async def _tariff(api: Api, who: str, per_kwh: str, basis: str = "incl_vat") -> int:
    status, body = await api.call(
        "POST",
        "/tariffs",
        who,
        json={"name": f"{per_kwh} ct", "per_kwh_cents": per_kwh, "basis": basis},
    )
    assert status == 201, body
    return int(body["id"])


async def test_art_28_3_the_guest_maximum_holds_on_every_charge_point_route(api: Api) -> None:
    cp = f"/charge-points/{api.ids['cp']}"
    dear = await _tariff(api, "ann", "500")
    status, body = await api.call("PATCH", cp, "ann", json={"guest_usage": True, "tariff_id": dear})
    assert (status, body["error"]) == (400, "invalid")
    assert "28.3" in body["detail"]
    _, point = await api.call("GET", cp, "ann")
    assert (point["guest_usage"], point["tariff_id"]) == (False, None)  # nothing changed
    # Closed to guests it is no guest tariff: allowed; opening it then is refused.
    status, _ = await api.call("PATCH", cp, "ann", json={"tariff_id": dear})
    assert status == 200
    status, body = await api.call("PATCH", cp, "ann", json={"guest_usage": True})
    assert (status, body["error"]) == (400, "invalid")
    fair = await _tariff(api, "ann", "75")
    status, point = await api.call(
        "PATCH", cp, "ann", json={"guest_usage": True, "tariff_id": fair}
    )
    assert (status, point["guest_usage"]) == (200, True)
    status, body = await api.call("PATCH", cp, "ann", json={"tariff_id": dear})  # while open
    assert status == 400
    status, body = await api.call(
        "POST",
        "/charge-points",
        "ann",
        json={"ocpp_id": "NEW", "site_id": api.ids["site"], "guest_usage": True, "tariff_id": dear},
    )
    assert status == 400
    _, listed = await api.call("GET", "/charge-points", "ann")
    assert [p["ocpp_id"] for p in listed["items"]] == ["CP1"]


@pytest.mark.parametrize(
    ("per_kwh", "basis", "allowed"),
    [
        ("75", "incl_vat", True),
        ("75.01", "incl_vat", False),
        ("61.98", "excl_vat", True),  # 74.9958 incl. VAT
        ("62", "excl_vat", False),  # 75.02 incl. VAT
    ],
)
async def test_art_28_3_a_tariff_excl_vat_is_compared_with_vat_added(
    api: Api,
    per_kwh: str,
    basis: str,
    allowed: bool,
) -> None:
    tariff = await _tariff(api, "ann", per_kwh, basis)
    status, _ = await api.call(
        "PATCH",
        f"/charge-points/{api.ids['cp']}",
        "ann",
        json={"guest_usage": True, "tariff_id": tariff},
    )
    assert status == (200 if allowed else 400)


async def _accounts(api: Api) -> int:
    return int(await api.store.db.fetchval("SELECT count(*) FROM accounts"))


@pytest.mark.parametrize(
    "iban",
    [
        "NL00XXXX",  # issue 19: stored unchecked, then paid to by payouts --csv
        "NL92ABNA0417164300",  # a wrong check digit (mod 97)
        "NL91ABNA041716430",  # one character short for NL
        "XX91ABNA0417164300",  # no such country
    ],
)
async def test_iso_13616_an_account_is_created_only_with_a_checked_iban(
    api: Api,
    iban: str,
) -> None:
    before = await _accounts(api)
    status, body = await api.call(
        "POST", "/accounts", "admin", json={"kind": "lease_driver", "name": "Lea", "iban": iban}
    )
    assert (status, body["error"]) == (400, "invalid")
    assert await _accounts(api) == before


async def test_iso_13616_a_valid_iban_is_stored_normalised(api: Api) -> None:
    status, body = await api.call(
        "POST",
        "/accounts",
        "admin",
        json={"kind": "lease_driver", "name": "Lea", "iban": "NL91ABNA0417164300"},
    )
    assert (status, body["iban"]) == (201, "NL91ABNA0417164300")
    account = await api.store.accounts.create_account(
        AccountKind.CONSUMER, "Ed", now=NOW, iban="nl91 abna 0417 1643 00"
    )
    assert account.iban == "NL91ABNA0417164300"


@pytest.mark.parametrize("uid", ["<script>", "AB-12", "AB 12", "ÄB12", "A" * 37, ""])
async def test_openapi_card_uid_pattern_is_enforced(api: Api, uid: str) -> None:
    before = await api.store.db.fetchval("SELECT count(*) FROM cards")
    status, body = await api.call("POST", "/cards", "admin", json={"uid": uid})
    assert (status, body["error"]) == (400, "invalid")
    assert await api.store.db.fetchval("SELECT count(*) FROM cards") == before


@pytest.mark.parametrize("status", ["accepted", "active", "notice_given", "ended"])
async def test_art_22_1_a_subscription_without_a_start_date_is_refused(
    api: Api,
    status: str,
) -> None:
    await api.store.plans.save_plan(CARD_PPU, now=NOW)
    kwargs: dict[str, Any] = {
        "applied_on": date(2026, 11, 1),
        "now": NOW,
        "status": status,
        "card_id": api.ids["ann_card"],
    }
    with pytest.raises(Invalid, match="start date"):
        await api.store.plans.subscribe(api.ids["ann"], CARD_PPU.code, **kwargs)
    assert await api.store.db.fetchval("SELECT count(*) FROM subscriptions") == 0
    applied = await api.store.plans.subscribe(
        api.ids["ann"], CARD_PPU.code, **{**kwargs, "status": "applied"}
    )
    assert applied.starts_on is None  # an application has no start date yet: fine
