"""Builders for billing tests: plans, contracts, sessions, local timestamps."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from backend.billing.calendar import AMSTERDAM
from backend.billing.contracts import Contract, accept
from backend.billing.money import Price
from backend.billing.plans import Bundle, OverageRates, Plan, PlanForm, PlanKind
from backend.billing.sessions import ChargingSession, Network, SessionTariff

CP_FIXED = Plan(
    "cp-fixed", "Charge point fixed", PlanKind.CHARGE_POINT, PlanForm.FIXED, Price.gross(1250)
)
CP_FLEX = Plan("cp-flex", "Charge point flexible", PlanKind.CHARGE_POINT, PlanForm.FLEXIBLE)
CARD_BUNDLE = Plan(
    "card-100",
    "Card 100 kWh",
    PlanKind.CARD,
    PlanForm.FIXED,
    Price.gross(1995),
    bundle=Bundle(energy_wh=100_000, connected_minutes=600, fast_energy_wh=20_000),
    overage=OverageRates(Decimal(35), Decimal(120), Decimal(59)),
)
CARD_PPU = Plan("card-ppu", "Card pay per use", PlanKind.CARD, PlanForm.FLEXIBLE)
PREPAID = Plan("prepaid", "Prepaid card", PlanKind.PREPAID, PlanForm.FLEXIBLE)

ROAMING_TARIFF = SessionTariff(Decimal(35), Decimal(59), Decimal(2))  # €0.35 + €0.59/kWh + 2 ct/min
OWN_TARIFF = SessionTariff(Decimal(0), Decimal(39), Decimal(0))


def local(text: str) -> datetime:
    """'2025-01-31 23:30' in Amsterdam time, as an aware datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=AMSTERDAM)


def active_contract(
    plan: Plan,
    start: date,
    *,
    cid: str = "c1",
    account: str = "a1",
    charge_point_id: str | None = None,
) -> Contract:
    """A contract accepted on `start` that starts on `start` (immediate start, no waiting)."""
    contract = Contract(
        cid,
        account,
        plan,
        applied_on=start,
        requested_start=start,
        immediate_start=True,
        charge_point_id=charge_point_id,
    )
    return accept(contract, start)


def session(
    sid: str,
    start: str,
    minutes: int,
    energy_wh: int,
    *,
    card: str = "card1",
    cp: str = "cp-x",
    network: Network = Network.ROAMING,
    tariff: SessionTariff = ROAMING_TARIFF,
    fast: bool = False,
) -> ChargingSession:
    started = local(start)
    return ChargingSession(
        sid,
        card,
        cp,
        started,
        started + timedelta(minutes=minutes),
        energy_wh,
        network,
        tariff,
        fast,
    )


def own_session(
    sid: str, start: str, minutes: int, energy_wh: int, *, fast: bool = False
) -> ChargingSession:
    """A session on E-Flux's own network with card1 (what a bundle covers)."""
    return session(
        sid, start, minutes, energy_wh, network=Network.OWN, tariff=OWN_TARIFF, fast=fast
    )
