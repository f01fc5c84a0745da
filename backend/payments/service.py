"""Prepaid top-ups through the provider: start one, and learn its outcome from the provider.

The flow (Mollie's): create the payment → send the customer to its checkout link → the
provider calls our webhook with only the payment id → we fetch that payment from the provider
and believe the fetched status, nothing in the webhook's body. The portal's return page and the
top-up list fetch the same way, so a lost webhook delays nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from ..storage import Database
from ..store import Invalid, Store
from . import ledger
from .ledger import Payment
from .provider import PAYMENT_ID, PaymentProvider, ProviderError

_LOGGER = logging.getLogger(__name__)

MAX_TOP_UP_CENTS = 50000  # €500 at once: a typo must not book thousands
MIN_TOP_UP_CENTS = 100
REFRESH_AT_MOST = 5  # open payments fetched when a list is shown


class Payments:
    def __init__(
        self, store: Store, provider: PaymentProvider, clock: Callable[[], datetime]
    ) -> None:
        self.store = store
        self.provider = provider
        self.clock = clock

    @property
    def db(self) -> Database:
        return self.store.db

    async def start_top_up(
        self,
        account_id: int,
        cents: int,
        *,
        return_url: Callable[[int], str],
        webhook_url: str,
        actor: str,
    ) -> Payment:
        """A pending payment at the provider; `return_url(payment id)` is where it sends the
        customer back. Raises ProviderUnavailable/ProviderError (nothing is left behind)."""
        if (
            isinstance(cents, bool)
            or not isinstance(cents, int)
            or not (MIN_TOP_UP_CENTS <= cents <= MAX_TOP_UP_CENTS)
        ):
            raise Invalid(f"a top-up is between {MIN_TOP_UP_CENTS} and {MAX_TOP_UP_CENTS} cents")
        row = await ledger.begin(self.db, account_id, cents, now=self.clock(), actor=actor)
        try:
            made = await self.provider.create(
                cents,
                description=f"E-Flux prepaid top-up {row.id}",
                redirect_url=return_url(row.id),
                webhook_url=webhook_url,
                metadata={"payment": row.id},
            )
        except BaseException:
            await ledger.abandon(self.db, row.id)
            raise
        return await ledger.created(self.db, row.id, made, now=self.clock(), actor=actor)

    async def webhook(self, provider_id: str) -> Payment | None:
        """The provider says something happened to `provider_id`: fetch it and record it.

        An id we never made is ignored without asking the provider (None); so is one whose
        status is final already (paid, failed, canceled, expired), so repeated webhooks cost
        the provider nothing."""
        if PAYMENT_ID.fullmatch(provider_id) is None:
            return None
        mine = await ledger.by_provider_id(self.db, provider_id)
        if mine is None:
            return None
        return await self.refresh(mine)  # a final one is not fetched again: no amplification

    async def refresh(self, payment: Payment) -> Payment:
        """The payment as the provider has it now (final ones are not asked again)."""
        if payment.final or payment.provider_id is None:
            return payment
        return await self._refresh(payment.provider_id) or payment

    async def list_fresh(self, account_id: int, *, limit: int = 20) -> list[Payment]:
        """The account's payments, the newest open ones fetched from the provider first.

        The first provider failure stops the fetching (the rest shown as last known), so a
        provider that hangs costs one timeout, not one per payment."""
        items = await ledger.list_for(self.db, account_id, limit=limit)
        fresh: list[Payment] = []
        reachable = True
        for index, item in enumerate(items):
            if reachable and index < REFRESH_AT_MOST:
                try:
                    item = await self.refresh(item)
                except ProviderError as err:
                    _LOGGER.warning(
                        "top-ups of account %s shown as last known: %s", account_id, err
                    )
                    reachable = False
            fresh.append(item)
        return fresh

    async def _refresh(self, provider_id: str) -> Payment | None:
        fetched = await self.provider.get(provider_id)
        before = await ledger.by_provider_id(self.db, provider_id)
        after = await ledger.record(self.db, fetched, now=self.clock())
        if (
            after is not None
            and after.credited_at is not None
            and (before is None or before.credited_at is None)
        ):
            await self.store.cards.touch_account(after.account_id)  # sites learn "may start"
        return after
