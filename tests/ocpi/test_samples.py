"""The CDR example of the OCPI 2.2.1 specification (tests/ocpi/samples, copied unmodified)
sent by a CPO platform "BE*BEC" to our eMSP over HTTP: stored once as a roaming session of
the card it names and passed on in full on the customer's invoice. Both engines."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from backend.billing.calendar import Month
from backend.invoicing import Invoicing
from backend.ocpi.credentials import register
from backend.store import AccountKind, CardKind
from tests.billing.factories import CARD_PPU

from .conftest import NOW, Platform, Start

SAMPLES = Path(__file__).parent / "samples"


async def roaming_pair(start_platform: Start) -> tuple[Platform, Platform, str]:
    """Our eMSP and a CPO "BE-BEC" registered with it; the CPO's token to call us."""
    emsp = await start_platform("NL-MSP")
    cpo = await start_platform("BE-BEC")
    _, token_a = await emsp.parties.issue_token_a("BeCharged", now=NOW)
    party = await register(
        cpo.parties,
        cpo.settings,
        cpo.client,
        versions_url=emsp.settings.versions_url,
        token_a=token_a,
        name="our eMSP",
        now=NOW,
    )
    assert party.outgoing_token is not None
    return emsp, cpo, party.outgoing_token


@pytest.mark.parametrize("sample", ["cdr_example.json", "cdr_example_2.2.1_bugfixes.json"])
async def test_specification_cdr_is_billed_in_full(start_platform: Start, sample: str) -> None:
    emsp, cpo, token = await roaming_pair(start_platform)
    customer = await emsp.store.accounts.create_account(AccountKind.CONSUMER, "Driver", now=NOW)
    card = await emsp.store.cards.create_card(
        "012345678", CardKind.SUBSCRIPTION, now=NOW, account_id=customer.id
    )
    await emsp.store.plans.save_plan(CARD_PPU, now=NOW)
    await emsp.store.plans.subscribe(
        customer.id,
        CARD_PPU.code,
        applied_on=date(2015, 6, 1),
        now=NOW,
        status="active",
        starts_on=date(2015, 6, 1),
        card_id=card.id,
    )
    body = (SAMPLES / sample).read_text()
    url = f"{emsp.settings.version_url}/cdrs"
    for _ in range(2):  # a repeated POST (a lost answer) changes nothing
        await cpo.client.call("POST", url, token, json.loads(body))
    rows = await emsp.store.db.fetch(
        "SELECT account_id, card_id, origin, cp_ocpp_id, transaction_id, energy_wh,"
        " start_cents, per_kwh_cents, per_minute_cents, tariff_basis FROM sessions"
    )
    assert len(rows) == 1
    row = rows[0]
    assert (
        row["account_id"],
        row["card_id"],
        row["origin"],
        row["cp_ocpp_id"],
        row["transaction_id"],
        row["energy_wh"],
    ) == (customer.id, card.id, "roaming:BE*BEC", "BE*BEC*E041503003", "12345", 15_342)
    # TIME at €2.00/h in steps of 5 minutes is no start + per kWh + per minute: the CDR's
    # total (€4.00 excl. VAT) is billed as it is, never our own re-computation.
    assert (
        Decimal(row["start_cents"]),
        Decimal(row["per_kwh_cents"]),
        Decimal(row["per_minute_cents"]),
        row["tariff_basis"],
    ) == (Decimal(400), Decimal(0), Decimal(0), "excl_vat")

    invoicing = Invoicing(emsp.store.db)
    await invoicing.run_month(Month(2015, 6), now=NOW)
    (invoice,) = await invoicing.list_invoices(scope=customer.id)
    detail = await invoicing.get_invoice(invoice.id, scope=customer.id)
    lines = [(line.net_cents, line.gross_cents) for line in detail.lines if line.kind == "session"]
    assert lines == [(400, 484)]  # €4.00 passed on, 21 % Dutch VAT on top
