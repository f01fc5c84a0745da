"""Sessions checked at the door: whom a reported session may be billed to, and whether it is
plausible (issue 19; DESIGN §4 trust boundaries).

- A card of another account is billed to that account only at a charge point open to guests
  (guest usage, at the owner's tariff) or when the card is roaming-authorized. Otherwise the
  session is kept on the site owner's account, billed to nobody, and flagged `foreign_card`.
- A session that fails a plausibility rule waits in the review queue (`review = pending`): it
  is stored, never lost, and billed only after an admin accepts or corrects it.

The rules (all limits inclusive, so an honest meter never trips them):
- energy ≤ the charge point's maximum power x duration x 1.1;
- meter stop ≥ meter start;
- |energy - (meter stop - meter start)| ≤ max(50 Wh, 1 % of the meter difference);
- start not before the charge point was added minus 7 days, and neither start nor stop after
  the back end's now + 5 minutes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

DEFAULT_AC_KW = 22.0  # a charge point whose maximum is not recorded: the largest AC box
DEFAULT_DC_KW = 350.0  # … or the largest DC fast charger
POWER_MARGIN = 1.1
METER_TOLERANCE_WH = 50.0
METER_TOLERANCE_SHARE = 0.01
BEFORE_ADDED = timedelta(days=7)  # a site may report sessions it stored before it was linked
CLOCK_SKEW = timedelta(minutes=5)

FOREIGN_CARD = "foreign_card"
IMPLAUSIBLE = "implausible"  # an open session failing a rule (finished ones go to review)


@dataclass(frozen=True, slots=True)
class PointFacts:
    """What the rules need to know of the charge point a session ran on."""

    id: int
    account_id: int
    guest_usage: bool  # at the session's start
    max_power_kw: float | None
    fast: bool
    created_at: datetime

    @property
    def power_kw(self) -> float:
        if self.max_power_kw is not None:
            return self.max_power_kw
        return DEFAULT_DC_KW if self.fast else DEFAULT_AC_KW


@dataclass(frozen=True, slots=True)
class CardFacts:
    id: int
    account_id: int | None
    roaming_authorized: bool


@dataclass(frozen=True, slots=True)
class BillTo:
    card_id: int | None
    account_id: int | None
    flag: str | None = None


def bill_to(card: CardFacts | None, point: PointFacts) -> BillTo:
    """Whose session it is. Unknown cards stay unassigned (the run reports them)."""
    if card is None:
        return BillTo(None, None)
    if card.account_id is None or card.account_id == point.account_id:
        return BillTo(card.id, card.account_id)
    if point.guest_usage or card.roaming_authorized:
        return BillTo(card.id, card.account_id)
    return BillTo(None, point.account_id, FOREIGN_CARD)


def implausible(
    *,
    started_at: datetime,
    stopped_at: datetime,
    energy_wh: float,
    meter_start_wh: float,
    meter_stop_wh: float,
    point: PointFacts | None,
    now: datetime,
) -> list[str]:
    """The rules a finished session fails (empty: plausible)."""
    reasons = []
    hours = (stopped_at - started_at).total_seconds() / 3600
    power_kw = point.power_kw if point is not None else DEFAULT_DC_KW
    if energy_wh > power_kw * 1000 * hours * POWER_MARGIN:
        reasons.append(
            f"energy {energy_wh:.0f} Wh is more than {power_kw:g} kW can deliver in"
            f" {hours * 60:.1f} min"
        )
    difference = meter_stop_wh - meter_start_wh
    if difference < 0:
        reasons.append(
            f"meter stop {meter_stop_wh:.0f} Wh is below meter start {meter_start_wh:.0f} Wh"
        )
    elif abs(energy_wh - difference) > max(METER_TOLERANCE_WH, METER_TOLERANCE_SHARE * difference):
        reasons.append(
            f"energy {energy_wh:.0f} Wh differs from the meter difference {difference:.0f} Wh"
        )
    reasons += _times(started_at, stopped_at, point, now)
    return reasons


def implausible_open(
    *, started_at: datetime, energy_wh: float, point: PointFacts, now: datetime
) -> list[str]:
    """The rules an open session fails: its energy so far against the time until now."""
    reasons = _times(started_at, started_at, point, now)
    hours = max(0.0, (now - started_at).total_seconds() / 3600)
    if energy_wh > point.power_kw * 1000 * hours * POWER_MARGIN:
        reasons.append(
            f"energy {energy_wh:.0f} Wh is more than {point.power_kw:g} kW can"
            f" deliver since the start"
        )
    return reasons


def _times(
    started_at: datetime, stopped_at: datetime, point: PointFacts | None, now: datetime
) -> list[str]:
    reasons = []
    if point is not None and started_at < point.created_at - BEFORE_ADDED:
        reasons.append(
            f"starts {started_at.isoformat()}, more than 7 days before the charge point was added"
        )
    if max(started_at, stopped_at) > now + CLOCK_SKEW:
        reasons.append(f"dated in the future ({max(started_at, stopped_at).isoformat()})")
    return reasons
