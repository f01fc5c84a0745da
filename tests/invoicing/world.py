"""January 2025 in the store, through the platform's own repositories (no SQL of ours):

- Ann (consumer): a charge-point plan (€12.50) and a bundle card (€19.95: 100 kWh, 10 h) from
  16 January; 60 kWh / 330 min at Bob's guest charge point (the bundle covers it, overage on a
  separate invoice); two roaming sessions (€0.35 + €0.59/kWh + 2 ct/min), one from 31 January
  23:30 to 1 February 01:15; her second card lost on 20 January with a replacement (€7.50).
- Bob (consumer, no VAT number): pay-per-use card, a charge point open to guests at 30 ct/kWh,
  where he also charges himself (home: not billed).
- Carl: a prepaid card without subscription, topped up €20, charging 10 kWh at Bob's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from backend.billing.calendar import AMSTERDAM
from backend.invoicing import Invoicing
from backend.store import AccountKind, CardKind, SessionIn, Store
from tests.billing.factories import CARD_BUNDLE, CARD_PPU, CP_FIXED, CP_FLEX, PREPAID

NOW = datetime(2025, 1, 10, 9, 0, tzinfo=UTC)


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=AMSTERDAM)


@dataclass
class World:
    store: Store
    invoicing: Invoicing
    ids: dict[str, int] = field(default_factory=dict)
    counter: int = 0

    async def roaming(self, card: str, start: str, minutes: int, wh: int) -> int:
        self.counter += 1
        began = local(start)
        item = SessionIn(
            "EVB-X1",
            f"r{self.counter}",
            1,
            card,
            began,
            began + timedelta(minutes=minutes),
            0.0,
            float(wh),
            float(wh),
        )
        result = await self.store.sessions.add_roaming(
            "Shell Recharge",
            item,
            now=began + timedelta(minutes=minutes + 5),
            start_cents=Decimal(35),
            per_kwh_cents=Decimal(59),
            per_minute_cents=Decimal(2),
        )
        return result.session_id

    async def at_bob(self, card: str, start: str, minutes: int, wh: int) -> int:
        self.counter += 1
        began = local(start)
        site = await self.store.sites.get_site(self.ids["bob_site"])
        item = SessionIn(
            "BOB-CP",
            f"t{self.counter}",
            1,
            card,
            began,
            began + timedelta(minutes=minutes),
            0.0,
            float(wh),
            float(wh),
        )
        (result,) = await self.store.sessions.ingest(site, [item], now=item.stopped_at)
        return result.session_id


async def build(store: Store) -> World:
    world = World(store, Invoicing(store.db))
    for plan in (CP_FIXED, CP_FLEX, CARD_BUNDLE, CARD_PPU, PREPAID):
        await store.plans.save_plan(plan, now=NOW)
    accounts, cards, sites, plans = store.accounts, store.cards, store.sites, store.plans
    ann = await accounts.create_account(
        AccountKind.CONSUMER, "Ann de Vries", now=NOW, address="Kerkstraat 1, Utrecht"
    )
    bob = await accounts.create_account(AccountKind.CONSUMER, "Bob Jansen", now=NOW)
    carl = await accounts.create_account(AccountKind.CONSUMER, "Carl", now=NOW)
    world.ids.update(ann=ann.id, bob=bob.id, carl=carl.id)
    ann_card = await cards.create_card("ANN01", CardKind.SUBSCRIPTION, now=NOW, account_id=ann.id)
    ann_card2 = await cards.create_card("ANN02", CardKind.SUBSCRIPTION, now=NOW, account_id=ann.id)
    bob_card = await cards.create_card("BOB01", CardKind.SUBSCRIPTION, now=NOW, account_id=bob.id)
    await cards.create_card("CARL01", CardKind.PREPAID, now=NOW, account_id=carl.id)
    ann_site = await sites.create_site(ann.id, "Ann's home", now=NOW)
    ann_cp = await sites.create_charge_point(ann.id, "ANN-CP", now=NOW, site_id=ann_site.id)
    tariff = await sites.create_tariff(bob.id, "guests", now=NOW, per_kwh_cents=Decimal(30))
    bob_site = await sites.create_site(bob.id, "Bob's drive", now=NOW)
    await sites.create_charge_point(
        bob.id, "BOB-CP", now=NOW, site_id=bob_site.id, guest_usage=True, tariff_id=tariff.id
    )
    world.ids.update(
        bob_site=bob_site.id, ann_cp=ann_cp.id, ann_card=ann_card.id, ann_card2=ann_card2.id
    )
    start = date(2025, 1, 16)
    cp_sub = await plans.subscribe(
        ann.id,
        CP_FIXED.code,
        applied_on=date(2025, 1, 1),
        now=NOW,
        status="active",
        starts_on=start,
        charge_point_id=ann_cp.id,
    )
    await plans.subscribe(
        ann.id,
        CARD_BUNDLE.code,
        applied_on=start,
        now=NOW,
        status="active",
        starts_on=start,
        card_id=ann_card.id,
    )
    await plans.subscribe(
        bob.id,
        CARD_PPU.code,
        applied_on=date(2024, 12, 1),
        now=NOW,
        status="active",
        starts_on=date(2024, 12, 1),
        card_id=bob_card.id,
    )
    world.ids["cp_sub"] = cp_sub.id
    await world.invoicing.top_up(carl.id, "ideal-1", 2000, at=local("2025-01-05 12:00"))
    await world.at_bob("ANN01", "2025-01-20 18:00", 330, 60_000)
    await world.at_bob("BOB01", "2025-01-21 18:00", 60, 8_000)
    await world.at_bob("CARL01", "2025-01-22 18:00", 60, 10_000)
    await world.roaming("ANN01", "2025-01-29 10:00", 60, 10_000)
    await world.roaming("ANN01", "2025-01-31 23:30", 105, 20_000)
    await cards.report_lost(ann_card2.id, None, now=local("2025-01-20 10:00"), actor="ann")
    return world
