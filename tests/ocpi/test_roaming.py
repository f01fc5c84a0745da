"""Two back ends against each other over OCPI 2.2.1: one as CPO (a charge point open to
guests), one as eMSP (a customer with a card). Handshake, locations and tariffs pulled, tokens
pushed (a blocked card goes out invalid), a guest session at the CPO becomes a CDR at the eMSP
and a roaming line on the customer's monthly invoice. Both engines."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from decimal import Decimal

import aiohttp

from backend.billing.calendar import Month
from backend.invoicing import Invoicing
from backend.ocpi.cpo import Place, set_place
from backend.ocpi.credentials import register
from backend.ocpi.envelope import token_header
from backend.ocpi.sync import remote_objects
from backend.store import AccountKind, CardKind, CardStatus
from tests.billing.factories import CARD_PPU

from .conftest import NOW, Platform, Start

OCTOBER = datetime(2026, 10, 1, 8, 0, tzinfo=NOW.tzinfo)


async def _handshake(cpo: Platform, emsp: Platform) -> str:
    """The CPO issues token A; the eMSP registers with it. Returns token A."""
    _, token_a = await cpo.parties.issue_token_a("the eMSP", now=NOW)
    await register(
        emsp.parties,
        emsp.settings,
        emsp.client,
        versions_url=cpo.settings.versions_url,
        token_a=token_a,
        name="the CPO",
        now=NOW,
    )
    return token_a


async def _cpo_world(cpo: Platform) -> tuple[dict[str, int], str]:
    """Olga's site with a charge point open to guests (€0.35 + €0.30/kWh + 2 ct/min excl. VAT)
    and one that is not."""
    store = cpo.store
    olga = await store.accounts.create_account(AccountKind.CONSUMER, "Olga", now=OCTOBER)
    site = await store.sites.create_site(olga.id, "Olga's drive", now=OCTOBER)
    tariff = await store.sites.create_tariff(
        olga.id,
        "guests",
        now=OCTOBER,
        start_cents=Decimal(35),
        per_kwh_cents=Decimal(30),
        per_minute_cents=Decimal(2),
        basis="excl_vat",
    )
    cp = await store.sites.create_charge_point(
        olga.id, "OLGA-1", now=OCTOBER, site_id=site.id, guest_usage=True, tariff_id=tariff.id
    )
    await store.sites.create_charge_point(olga.id, "OLGA-PRIVATE", now=OCTOBER, site_id=site.id)
    await set_place(
        store.db,
        site.id,
        Place("Dorpsstraat 1", "Utrecht", "3511 AA", "NLD", "52.090737", "5.121420"),
    )
    token = await store.accounts.create_site_token(site, "olga", now=OCTOBER)
    return {"site": site.id, "cp": cp.id, "tariff": tariff.id}, token.secret


async def authorize(cpo: Platform, site_token: str, uid: str) -> tuple[int, str, bool]:
    url = str(cpo.server.make_url("/api/v1/sync/authorize"))
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            url, json={"uid": uid}, headers={"Authorization": f"Bearer {site_token}"}
        ) as resp,
    ):
        body = await resp.json()
        return resp.status, body.get("status", ""), body.get("may_start", False)


async def test_two_platforms_roam(start_platform: Start) -> None:
    cpo = await start_platform("NL-CPO")
    emsp = await start_platform("NL-MSP")
    token_a = await _handshake(cpo, emsp)

    # Both sides hold the other registered; token A is spent.
    emsp_view, cpo_view = await emsp.only_party(), await cpo.only_party()
    assert emsp_view.identities() == {("NL", "CPO")}
    assert ("NL", "MSP") in cpo_view.identities()
    assert emsp_view.endpoint("locations", "SENDER") == f"{cpo.settings.version_url}/locations"
    async with (
        aiohttp.ClientSession() as http,
        http.get(
            cpo.settings.versions_url, headers={"Authorization": token_header(token_a)}
        ) as resp,
    ):
        assert resp.status == 401
        assert (await resp.json())["status_code"] == 2000

    ids, site_token = await _cpo_world(cpo)
    mia = await emsp.store.accounts.create_account(AccountKind.CONSUMER, "Mia", now=OCTOBER)
    card = await emsp.store.cards.create_card(
        "MIA01", CardKind.SUBSCRIPTION, now=OCTOBER, account_id=mia.id
    )
    lost = await emsp.store.cards.create_card(
        "MIA02", CardKind.SUBSCRIPTION, now=OCTOBER, account_id=mia.id
    )
    await emsp.store.cards.report_lost(lost.id, None, now=OCTOBER, actor="mia")
    await emsp.store.plans.save_plan(CARD_PPU, now=OCTOBER)
    await emsp.store.plans.subscribe(
        mia.id,
        CARD_PPU.code,
        applied_on=date(2026, 10, 1),
        now=OCTOBER,
        status="active",
        starts_on=date(2026, 10, 1),
        card_id=card.id,
    )

    # The eMSP's round: its cards out as Tokens, the CPO's locations and tariffs in.
    done = await emsp.sync()
    assert done == {"tokens": 2, "sessions": 0, "cdrs": 0, "locations": 1, "tariffs": 1}
    tokens = {
        r["uid"]: bool(r["valid"])
        for r in await cpo.store.db.fetch("SELECT uid, valid FROM ocpi_tokens")
    }
    assert tokens == {"MIA01": True, "MIA02": False}  # the lost card is pushed invalid
    (location,) = await remote_objects(emsp.store.db, emsp_view.id, "locations")
    assert [e["evse_id"] for e in location["evses"]] == [f"NL*CPO*E{ids['cp']}"]
    assert location["evses"][0]["connectors"][0]["tariff_ids"] == [str(ids["tariff"])]
    assert (location["city"], location["country"]) == ("Utrecht", "NLD")
    (tariff,) = await remote_objects(emsp.store.db, emsp_view.id, "tariffs")
    prices = {
        c["type"]: Decimal(str(c["price"])) for c in tariff["elements"][0]["price_components"]
    }
    assert prices == {"FLAT": Decimal("0.35"), "ENERGY": Decimal("0.3"), "TIME": Decimal("1.2")}
    assert (await emsp.sync())["tokens"] == 0  # nothing changed: nothing pushed again

    # Olga's site asks the CPO's cloud about the cards it does not know (a guest).
    assert await authorize(cpo, site_token, "mia01") == (200, "active", True)
    assert await authorize(cpo, site_token, "MIA02") == (200, "blocked", False)
    assert (await authorize(cpo, site_token, "NOBODY"))[0] == 404

    # Mia charges at Olga's: 60 min, 10 kWh, reported by the CPO's site.
    began = datetime(2026, 10, 12, 18, 0, tzinfo=NOW.tzinfo)
    batch = {
        "sessions": [
            {
                "charge_point_id": "OLGA-1",
                "transaction_id": "t1",
                "connector_id": 1,
                "id_tag": "mia01",
                "started_at": began.isoformat(),
                "stopped_at": (began + timedelta(hours=1)).isoformat(),
                "meter_start_wh": 1000,
                "meter_stop_wh": 11_000,
                "energy_wh": 10_000,
            }
        ]
    }
    sync_url = str(cpo.server.make_url("/api/v1/sync/sessions"))
    async with (
        aiohttp.ClientSession() as http,
        http.post(sync_url, json=batch, headers={"Authorization": f"Bearer {site_token}"}) as resp,
    ):
        assert resp.status == 200, await resp.text()

    assert (await cpo.sync())["cdrs"] == 1
    assert (await cpo.sync())["cdrs"] == 0  # sent once
    row = await emsp.store.db.fetchrow(
        "SELECT origin, source, account_id, card_id, energy_wh, start_cents, per_kwh_cents,"
        " per_minute_cents, tariff_basis FROM sessions"
    )
    assert row is not None
    assert (row["origin"], row["source"], row["account_id"], row["card_id"]) == (
        "roaming:NL*CPO",
        "roaming",
        mia.id,
        card.id,
    )
    assert (
        Decimal(row["start_cents"]),
        Decimal(row["per_kwh_cents"]),
        Decimal(row["per_minute_cents"]),
        row["tariff_basis"],
    ) == (Decimal(35), Decimal(30), Decimal(2), "excl_vat")

    # The CPO may read back the CDR it sent (GET by the id in the Location header).
    cdr_row = await emsp.store.db.fetchval("SELECT id FROM ocpi_cdrs_received")
    token_c = (await cpo.only_party()).outgoing_token
    assert token_c is not None
    sent = await cpo.client.call("GET", f"{emsp.settings.version_url}/cdrs/{cdr_row}", token_c)
    assert sent["total_cost"] == {"excl_vat": Decimal("4.55"), "incl_vat": Decimal("5.51")}

    # Mia's October invoice passes it on in full: 35 + 10 x 30 + 60 x 2 = 455 ct excl. VAT.
    invoicing = Invoicing(emsp.store.db)
    await invoicing.run_month(Month(2026, 10), now=NOW)
    (invoice,) = await invoicing.list_invoices(scope=mia.id)
    detail = await invoicing.get_invoice(invoice.id, scope=mia.id)
    roaming = [line for line in detail.lines if line.kind == "session"]
    assert [(line.net_cents, line.gross_cents) for line in roaming] == [(455, 551)]

    # A card blocked later is pushed invalid at the next round.
    await emsp.store.cards.set_status(card.id, None, CardStatus.BLOCKED, now=NOW, actor="ops")
    assert (await emsp.sync())["tokens"] == 1
    valid = await cpo.store.db.fetchval("SELECT valid FROM ocpi_tokens WHERE uid = 'MIA01'")
    assert not valid
    assert await authorize(cpo, site_token, "MIA01") == (200, "blocked", False)
    assert (
        json.loads(await cpo.store.db.fetchval("SELECT body FROM ocpi_tokens WHERE uid = 'MIA01'"))[
            "valid"
        ]
        is False
    )
