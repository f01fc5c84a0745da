"""Issue 19.5: prepaid top-ups through the payment provider (sim/payments, Mollie v2 shape) on
both engines: the balance goes up only on a status FETCHED from the provider as 'paid', once per
payment, whatever webhooks say or how often they come."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio

from backend.payments import ledger
from backend.payments.provider import ProviderPayment
from backend.store import AccountKind, Store

from .conftest import NOW, Api
from .payflow import API_KEY, PayWorld, pay_world


@pytest_asyncio.fixture
async def world(store: Store) -> AsyncIterator[PayWorld]:
    async with pay_world(store) as made:
        yield made


async def _start(world: PayWorld, cents: int = 2500) -> dict[str, object]:
    status, payment = await world.call(
        "POST", f"/accounts/{world.account_id}/top-ups", {"amount_cents": cents}
    )
    assert status == 201, payment
    assert payment["status"] == "open"
    assert str(payment["checkout_url"]).startswith(world.provider_url + "/checkout/tr_")
    return dict(payment)


async def _checkout(world: PayWorld, payment: dict[str, object], outcome: str) -> str:
    """The customer presses a button on the provider's page; returns where it sends them."""
    async with world.http.post(
        f"{payment['checkout_url']}/{outcome}", allow_redirects=False
    ) as response:
        assert response.status == 303
        return response.headers["Location"]


async def test_paid_top_up_credits_once_after_the_fetched_status(world: PayWorld) -> None:
    payment = await _start(world)
    assert await world.balance() == 0  # pending: nothing credited on creation
    back = await _checkout(world, payment, "pay")
    assert back == world.url(f"/portal/top-ups/{payment['id']}")
    assert world.provider.webhook_calls == [(payment["provider_id"], 200)]
    assert await world.balance() == 2500
    assert await world.ledger() == [(f"payment:{payment['provider_id']}", 2500)]
    status, listed = await world.call("GET", f"/accounts/{world.account_id}/top-ups")
    assert status == 200
    assert [(p["id"], p["status"]) for p in listed["items"]] == [(payment["id"], "paid")]
    assert listed["items"][0]["credited_at"] is not None


async def test_duplicated_and_concurrent_webhooks_credit_once(world: PayWorld) -> None:
    payment = await _start(world, 1000)
    await _checkout(world, payment, "pay")
    form = {"id": str(payment["provider_id"])}
    fetched = len(world.provider.fetches)
    statuses = await asyncio.gather(*[world.webhook(form) for _ in range(12)])
    assert set(statuses) == {200}
    await world.provider.call_webhook(str(payment["provider_id"]))  # the provider repeats too
    assert await world.balance() == 1000
    assert len(await world.ledger()) == 1
    assert len(world.provider.fetches) == fetched  # paid is final: the provider not asked again


async def test_concurrent_first_webhooks_race_and_credit_once(world: PayWorld) -> None:
    payment = await _start(world, 1500)
    world.provider.fail_next_webhooks = 1  # the checkout's own webhook is lost ...
    await _checkout(world, payment, "pay")
    form = {"id": str(payment["provider_id"])}
    await asyncio.gather(*[world.webhook(form) for _ in range(8)])  # ... then 8 at once
    assert await world.balance() == 1500
    assert len(await world.ledger()) == 1


@pytest.mark.parametrize("outcome", ["fail", "expire", "cancel"])
async def test_failed_expired_and_canceled_payments_credit_nothing(
    world: PayWorld, outcome: str
) -> None:
    payment = await _start(world)
    await _checkout(world, payment, outcome)
    await world.webhook({"id": str(payment["provider_id"])})
    assert await world.balance() == 0
    assert await world.ledger() == []
    status, got = await world.call("GET", f"/top-ups/{payment['id']}")
    assert status == 200
    assert got["status"] == {"fail": "failed", "expire": "expired", "cancel": "canceled"}[outcome]
    assert got["credited_at"] is None


async def test_a_payment_left_alone_expires_and_credits_nothing(world: PayWorld) -> None:
    world.provider.expires_after = timedelta(seconds=0.2)
    payment = await _start(world)
    for _ in range(400):  # waits for the provider's expiry webhook (no timing asserted)
        if world.provider.webhook_calls:
            break
        await asyncio.sleep(0.025)
    assert world.provider.webhook_calls == [(payment["provider_id"], 200)]
    status, got = await world.call("GET", f"/top-ups/{payment['id']}")
    assert (status, got["status"], got["credited_at"]) == (200, "expired", None)
    assert await world.balance() == 0


async def test_a_forged_webhook_body_is_not_believed(world: PayWorld) -> None:
    payment = await _start(world)
    ident = str(payment["provider_id"])
    # Everything but the id is ignored: the provider still says "open".
    forged = {"id": ident, "status": "paid", "amount": "500.00", "paidAt": NOW.isoformat()}
    assert await world.webhook(forged) == 200
    assert await world.webhook(json={"id": ident, "status": "paid"}) == 400  # not a form
    fetched = len(world.provider.fetches)
    assert await world.webhook({"id": "tr_neverexisted"}) == 200  # says nothing, does nothing
    assert len(world.provider.fetches) == fetched  # and the provider is not asked
    assert await world.webhook({"id": "'; DROP TABLE payments;--"}) == 200
    assert await world.webhook({}) == 400
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    for raw in (
        b"id=\xff\xfe",
        b"id=tr_%ED%A0%80",
        b"id=tr_%00",
        b"id=" + b"9" * 5000,
        b"id=tr_a&id=tr_b",
        b"\x00",
    ):
        assert await world.webhook(data=raw, headers=form) in {200, 400}, raw
    # A payment that exists at the provider but is not ours (another merchant's) is ignored.
    async with world.http.post(
        f"{world.provider_url}/v2/payments",
        json={
            "amount": {"currency": "EUR", "value": "400.00"},
            "redirectUrl": "http://x.test/",
            "webhookUrl": world.url("/api/v1/payments/webhook"),
        },
        headers={"Authorization": f"Bearer {API_KEY}"},
    ) as response:
        stranger = await response.json()
    await world.provider.outcome(stranger["id"], "paid")
    assert await world.balance() == 0
    assert await world.ledger() == []
    assert await world.call("GET", f"/top-ups/{payment['id']}") == (200, {**payment})


async def test_provider_down(world: PayWorld) -> None:
    world.provider.down = True
    status, body = await world.call(
        "POST", f"/accounts/{world.account_id}/top-ups", {"amount_cents": 2500}
    )
    assert (status, body["error"]) == (503, "provider_unavailable")
    assert await world.store.db.fetchval("SELECT count(*) FROM payments") == 0  # none left
    world.provider.down = False
    payment = await _start(world)
    world.provider.down = True
    await _checkout(world, payment, "pay")  # paid, but the webhook cannot fetch it: 503s
    calls = world.provider.webhook_calls
    assert [c[1] for c in calls] == [503] * world.provider.webhook_attempts
    assert await world.balance() == 0
    status, listed = await world.call("GET", f"/accounts/{world.account_id}/top-ups")
    assert (status, [p["status"] for p in listed["items"]]) == (200, ["open"])  # last known
    world.provider.down = False
    await world.provider.call_webhook(str(payment["provider_id"]))  # the provider retries later
    assert await world.balance() == 2500


async def test_a_lost_webhook_is_caught_up_by_reading_the_list(world: PayWorld) -> None:
    payment = await _start(world, 1200)
    world.provider.fail_next_webhooks = 1
    await _checkout(world, payment, "pay")
    assert await world.balance() == 0
    status, listed = await world.call("GET", f"/accounts/{world.account_id}/top-ups")
    assert (status, listed["items"][0]["status"]) == (200, "paid")
    assert await world.balance() == 1200


async def test_top_up_input_and_scope(world: PayWorld, store: Store) -> None:
    path = f"/accounts/{world.account_id}/top-ups"
    for bad in (
        {"amount_cents": 0},
        {"amount_cents": 99},
        {"amount_cents": 50001},
        {"amount_cents": "2500"},
        {"amount_cents": 25.0},
        {"amount_cents": True},
        {},
    ):
        status, body = await world.call("POST", path, bad)
        assert status == 400, (bad, body)
    other = await store.accounts.create_account(AccountKind.CONSUMER, "O", now=NOW)
    status, _ = await world.call("POST", f"/accounts/{other.id}/top-ups", {"amount_cents": 1000})
    assert status == 404
    status, _ = await world.call("GET", f"/accounts/{other.id}/top-ups")
    assert status == 404
    assert await store.db.fetchval("SELECT count(*) FROM payments") == 0


async def test_a_late_status_never_undoes_paid_and_a_wrong_amount_is_not_credited(
    world: PayWorld,
) -> None:
    """ledger.record on what a provider could send: 'expired' after 'paid', another amount."""
    db = world.store.db
    row = await ledger.begin(db, world.account_id, 3000, now=NOW, actor="test")
    made = ProviderPayment("tr_abc123", "open", 3000, "EUR", "http://p.test/c", None)
    await ledger.created(db, row.id, made, now=NOW, actor="test")
    paid_at = datetime(2026, 11, 23, tzinfo=UTC)
    cheap = replace(made, status="paid", amount_cents=1, paid_at=paid_at)
    got = await ledger.record(db, cheap, now=NOW)
    assert got is not None
    assert got.credited_at is None
    assert await world.balance() == 0
    got = await ledger.record(db, replace(cheap, amount_cents=3000), now=NOW)
    assert got is not None
    assert got.credited_at is not None
    expired = replace(made, status="expired")
    after = await ledger.record(db, expired, now=NOW)
    assert after is not None
    assert after.status == "paid"
    assert await world.balance() == 3000
    assert await ledger.record(db, replace(made, id="tr_notours"), now=NOW) is None


async def test_webhook_without_a_provider_set_up_is_404(api: Api) -> None:
    async with api.http.post(api.url + "/payments/webhook", data={"id": "tr_x1"}) as response:
        assert response.status == 404
        assert (await response.json())["error"] == "not_found"
