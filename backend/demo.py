"""`eflux-backend seed-demo`: the demo's accounts, cards, plans, site and tokens.

Run twice, it keeps the data and issues fresh tokens, so the demo can always start from it.
The card UIDs and charge point ids are those of sim/demo/scenario.py.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from .billing.money import Price
from .billing.plans import Bundle, Plan, PlanForm, PlanKind
from .store import AccountKind, CardKind, Role, Store

ADMIN_EMAIL = "admin@demo.eflux.test"
DRIVER_EMAIL = "anna@demo.eflux.test"
LEASE_EMAIL = "chris@demo.eflux.test"
DEMO_PASSWORD = "demo-password"  # noqa: S105 (a published demo login, loopback only)
CHARGERS = (("garage", "Garage"), ("driveway", "Driveway"), ("carport", "Carport"))

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
    Plan("PREPAID", "Prepaid card", PlanKind.PREPAID, PlanForm.FIXED),
)


async def seed_demo(store: Store, now: datetime) -> dict[str, Any]:
    existing = await store.accounts.find_user(ADMIN_EMAIL)
    if existing is None:
        await _create(store, now)
    return await _tokens(store, now)


async def _create(store: Store, now: datetime) -> None:
    accounts, cards, sites = store.accounts, store.cards, store.sites
    for plan in PLANS:
        await store.plans.save_plan(plan, now=now)
    ops = await accounts.create_account(AccountKind.BUSINESS, "E-Flux demo operations", now=now)
    await accounts.create_user(
        ops.id, ADMIN_EMAIL, Role.ADMIN, now=now, name="Demo admin", password=DEMO_PASSWORD
    )
    home = await accounts.create_account(
        AccountKind.CONSUMER,
        "Anna de Vries",
        now=now,
        email=DRIVER_EMAIL,
        address="Demostraat 1, 1234 AB Utrecht",
    )
    await accounts.create_user(
        home.id, DRIVER_EMAIL, Role.CUSTOMER, now=now, name="Anna", password=DEMO_PASSWORD
    )
    lease = await accounts.create_account(
        AccountKind.LEASE_DRIVER, "Chris Jansen", now=now, email=LEASE_EMAIL
    )
    await accounts.create_user(
        lease.id, LEASE_EMAIL, Role.CUSTOMER, now=now, name="Chris", password=DEMO_PASSWORD
    )
    await accounts.create_account(AccountKind.LOCATION_OWNER, "Parking De Demo BV", now=now)
    await accounts.set_prepaid_balance(lease.id, 2500, now=now, actor="seed-demo")
    tariff = await sites.create_tariff(
        home.id, "Home tariff", now=now, per_kwh_cents=Decimal("24.5")
    )
    site = await sites.create_site(
        home.id, "Demo home", now=now, address="Demostraat 1, 1234 AB Utrecht"
    )
    for ocpp_id, name in CHARGERS:
        await sites.create_charge_point(
            home.id,
            ocpp_id,
            now=now,
            name=name,
            site_id=site.id,
            tariff_id=tariff.id,
            guest_usage=ocpp_id == "carport",
        )
    anna = await cards.create_card(
        "DEMO-CARD-ANNA", CardKind.SUBSCRIPTION, now=now, account_id=home.id, label="Anna"
    )
    await cards.create_card(
        "DEMO-CARD-BRAM", CardKind.SUBSCRIPTION, now=now, account_id=home.id, label="Bram"
    )
    await cards.create_card(
        "DEMO-CARD-CHRIS", CardKind.PREPAID, now=now, account_id=lease.id, label="Chris"
    )
    today = now.date()
    await store.plans.subscribe(
        home.id,
        "CARD-BUNDLE-100",
        applied_on=today,
        now=now,
        status="active",
        starts_on=date(today.year, today.month, 1),
        card_id=anna.id,
    )


async def _tokens(store: Store, now: datetime) -> dict[str, Any]:
    accounts = store.accounts
    result: dict[str, Any] = {"users": {}}
    for email in (ADMIN_EMAIL, DRIVER_EMAIL, LEASE_EMAIL):
        user = await accounts.find_user(email)
        assert user is not None
        issued = await accounts.create_user_token(user.id, "seed-demo", now=now)
        result["users"][email] = {"token": issued.secret, "password": DEMO_PASSWORD}
    anna = await accounts.find_user(DRIVER_EMAIL)
    assert anna is not None
    site = (await store.sites.list_sites(anna.account_id, limit=1))[0]
    issued = await accounts.create_site_token(site, "seed-demo", now=now)
    result.update(
        site_id=site.id,
        site_token=issued.secret,
        admin_token=result["users"][ADMIN_EMAIL]["token"],
        charge_points=[cp for cp, _ in CHARGERS],
    )
    return result
