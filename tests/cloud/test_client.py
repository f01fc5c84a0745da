"""The sync client against the real back end: token checks, authorize, report lost, errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from backend.store import AccountKind, CardKind
from custom_components.eflux.core.cloud import (
    CloudAuthError,
    CloudClient,
    CloudError,
    CloudRejected,
    CloudUnavailable,
    api_base,
    check_token,
)
from custom_components.eflux.core.domain import CardStatus
from tests.central.support import FakeClock, central_config, running_central

from .conftest import NOW, Cloud


async def test_check_token_names_the_site_and_refuses_bad_tokens(cloud: Cloud) -> None:
    identity = await check_token(cloud.url, cloud.tokens["site"])
    assert (identity.account_name, identity.site_id, identity.is_admin) == (
        "Ann",
        cloud.ids["site"],
        False,
    )
    with pytest.raises(CloudAuthError):
        await check_token(cloud.url, "efx_forged")
    with pytest.raises(CloudAuthError):
        await check_token(cloud.url + "/api/v1/", "")
    with pytest.raises(CloudError, match="not an http"):
        await check_token("ftp://example.org", cloud.tokens["site"])


async def test_unreachable_cloud_is_unavailable(unused_port: Callable[[], int]) -> None:
    with pytest.raises(CloudUnavailable):
        await check_token(f"http://127.0.0.1:{unused_port()}", "efx_any", seconds=2)


async def test_a_user_token_cannot_sync(cloud: Cloud) -> None:
    client = CloudClient(cloud.url, cloud.tokens["driver"])
    try:
        with pytest.raises(CloudAuthError):
            await client.card_delta(0)
    finally:
        await client.close()


async def test_authorize_and_report_lost(cloud: Cloud) -> None:
    client = CloudClient(cloud.url, cloud.tokens["site"])
    try:
        card = await client.authorize("ann01")
        assert card is not None
        assert card.status is CardStatus.ACTIVE
        assert await client.authorize("NOPE99") is None
        lost = await client.report_card_lost("ANN01")
        assert lost.status is CardStatus.LOST
        orders = await cloud.store.cards.list_orders(cloud.ids["account"])
        assert [o.fee_cents for o in orders] == [750]
        with pytest.raises(CloudRejected) as refused:
            await client.report_card_lost("ANN01")
        assert refused.value.status == 409
        with pytest.raises(CloudRejected):
            await client.report_card_lost("SOMEONE-ELSES")
    finally:
        await client.close()


def test_api_base_accepts_root_or_api_urls() -> None:
    assert api_base("https://cloud.example/") == "https://cloud.example/api/v1"
    assert api_base("https://cloud.example/api/v1/") == "https://cloud.example/api/v1"


async def test_the_cloud_has_the_final_say_on_unlisted_cards_while_reachable(
    tmp_path: Path, cloud: Cloud
) -> None:
    """A guest card of another account at an open charger: the central asks the cloud live."""
    guest_account = await cloud.store.accounts.create_account(
        AccountKind.CONSUMER, "Guest", now=NOW
    )
    await cloud.store.cards.create_card(
        "GUEST01", CardKind.SUBSCRIPTION, now=NOW, account_id=guest_account.id
    )
    await cloud.store.sites.create_charge_point(
        cloud.ids["account"], "open", now=NOW, site_id=cloud.ids["site"], guest_usage=True
    )
    client = CloudClient(cloud.url, cloud.tokens["site"])
    config = central_config(tmp_path)  # no free charging: unknown cards are refused
    try:
        async with running_central(config, FakeClock(NOW), client.authorize) as central:
            verdict = await central.authorize("GUEST01")
            assert (verdict.status, verdict.source) == ("Accepted", "remote")
            assert (await central.authorize("NOBODY")).status == "Invalid"
            await cloud.down()
            # Offline: the cached answer decides, charging does not wait for the internet.
            assert (await central.authorize("GUEST01")).accepted
    finally:
        await client.close()
