"""Two customers, an admin and a lease driver with cards, a charge point, sessions over three
months and subscriptions, as the portal tests need them (created through the store)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from backend.billing.money import Price
from backend.billing.plans import Bundle, Plan, PlanForm, PlanKind
from backend.store import AccountKind, CardKind, Role, SessionIn, Store

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"
XSS = "<script>alert(1)</script>"
PLANS = (
    Plan(
        "CP-FIXED-1Y",
        "Charge point management, 1 year",
        PlanKind.CHARGE_POINT,
        PlanForm.FIXED,
        monthly_fee=Price.gross(1250),
        duration_years=1,
    ),
    Plan(
        "CARD-BUNDLE-100",
        "Card with 100 kWh",
        PlanKind.CARD,
        PlanForm.FIXED,
        monthly_fee=Price.gross(2500),
        bundle=Bundle(energy_wh=100_000),
    ),
    Plan("CARD-FLEX", "Card, pay per use", PlanKind.CARD, PlanForm.FLEXIBLE),
)


@dataclass
class Seeded:
    emails: dict[str, str] = field(default_factory=dict)
    cards: dict[str, int] = field(default_factory=dict)
    accounts: dict[str, int] = field(default_factory=dict)
    subscriptions: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    charge_point: int = 0


async def _user(
    store: Store, seeded: Seeded, key: str, kind: AccountKind, name: str, role: Role = Role.CUSTOMER
) -> int:
    email = f"{key}@portal.test"
    account = await store.accounts.create_account(
        kind, name, now=NOW, email=email, address="Teststraat 1, Utrecht"
    )
    user = await store.accounts.create_user(
        account.id, email, role, now=NOW, name=name, password=PASSWORD
    )
    seeded.emails[key] = email
    seeded.accounts[key] = account.id
    seeded.tokens[key] = (await store.accounts.create_user_token(user.id, "test", now=NOW)).secret
    return account.id


async def _subscribe(store: Store, account: int, plan: str, starts: date, **ids: int) -> int:
    sub = await store.plans.subscribe(
        account,
        plan,
        applied_on=starts - timedelta(days=3),
        now=NOW,
        starts_on=starts,
        status="active",
        **ids,
    )
    await store.db.execute(
        "UPDATE subscriptions SET accepted_on = ?, immediate_start = 1 WHERE id = ?",
        (starts - timedelta(days=2)).isoformat(),
        sub.id,
    )
    return sub.id


async def seed(store: Store) -> Seeded:
    s = Seeded()
    for plan in PLANS:
        await store.plans.save_plan(plan, now=NOW)
    await _user(store, s, "admin", AccountKind.BUSINESS, "Operations", Role.ADMIN)
    anna = await _user(store, s, "anna", AccountKind.CONSUMER, "Anna de Vries")
    bob = await _user(store, s, "bob", AccountKind.CONSUMER, "Bob Bakker")
    await _user(store, s, "chris", AccountKind.LEASE_DRIVER, "Chris Jansen")
    for key, uid, account, label in (
        ("anna", "A1B2C3D4", anna, "Anna's keyring"),
        ("anna_xss", "0A0B0C0D", anna, XSS),
        ("bob", "B0B0B0B0", bob, "Bob's card"),
    ):
        s.cards[key] = (
            await store.cards.create_card(
                uid, CardKind.SUBSCRIPTION, now=NOW, account_id=account, label=label
            )
        ).id
    tariff = await store.sites.create_tariff(anna, "Home", now=NOW, per_kwh_cents=Decimal(30))
    site = await store.sites.create_site(anna, "Home", now=NOW)
    # Added before the sessions below (older ones would wait in the review queue).
    added = NOW - timedelta(days=90)
    cp = await store.sites.create_charge_point(
        anna,
        "garage",
        now=added,
        name="Garage",
        site_id=site.id,
        tariff_id=tariff.id,
        guest_usage=True,
    )
    s.charge_point = cp.id
    batch = []
    for day in range(0, 80, 4):  # Anna charges every fourth day, Bob twice on her charger
        start = NOW - timedelta(days=day, hours=2)
        tag = "B0B0B0B0" if day in (8, 40) else "A1B2C3D4"
        batch.append(
            SessionIn(
                "garage",
                f"tx-{day}",
                1,
                tag,
                start,
                start + timedelta(hours=2),
                1000.0 * day,
                1000.0 * day + 7000 + 100 * day,
                7000 + 100 * day,
            )
        )
    await store.sessions.ingest(site, batch, now=NOW)
    s.subscriptions["anna_card"] = await _subscribe(
        store, anna, "CARD-BUNDLE-100", date(2026, 3, 1), card_id=s.cards["anna"]
    )
    s.subscriptions["anna_cp"] = await _subscribe(
        store, anna, "CP-FIXED-1Y", date(2026, 1, 15), charge_point_id=cp.id
    )
    s.subscriptions["bob_card"] = await _subscribe(
        store, bob, "CARD-FLEX", date(2026, 6, 1), card_id=s.cards["bob"]
    )
    return s
