"""Session history and monthly totals per card, from the site's SQLite (through LocalSite).

Shared by the console's pages and the API (`GET /api/sessions`, `GET /api/reports/monthly`).
Months and dates are the site's local calendar (site.yaml `timezone`, UTC without one); costs
are Decimal at the site's prices (`LocalSite.session_history`), a total is None ("unknown") as
soon as one of its sessions had an hour without a price.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from ...config.console import Resident
from ...domain import CardStatus, SessionRecord
from ...runtime import LocalSite
from .credit import GuestUsage, guest_usage

NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
CLOUD = "cloud"


class QueryError(ValueError):
    """A filter that does not parse (the API answers 400 naming it)."""


@dataclass(frozen=True, slots=True)
class SessionFilter:
    start: datetime = EARLIEST
    end: datetime = LATEST
    charger: str | None = None
    card: str | None = None


@dataclass(frozen=True, slots=True)
class Totals:
    sessions: int
    energy_kwh: Decimal
    cost: Decimal | None  # None: a session had an hour without a price


@dataclass(frozen=True, slots=True)
class CardMonth:
    card: str | None
    resident: str | None
    apartment: str | None
    cloud_card: bool  # a resident's own E-Flux card: E-Flux bills its guest sessions
    totals: Totals
    sessions: tuple[SessionRecord, ...]
    guest_sessions: int = 0  # of them, billed by E-Flux as guest usage (credit.py)
    guest_amount: Decimal = Decimal(0)  # what the association is credited for them


def site_zone(site: LocalSite) -> tzinfo:
    return ZoneInfo(site.config.timezone) if site.config.timezone else UTC


def month_range(text: str, zone: tzinfo) -> tuple[datetime, datetime]:
    """[first local midnight of the month, first of the next) in UTC; QueryError otherwise."""
    found = MONTH.match(text)
    if found is None:
        raise QueryError(f"month must be YYYY-MM, got {text[:20]!r}")
    year, month = int(found[1]), int(found[2])
    nxt = (year + 1, 1) if month == 12 else (year, month + 1)
    start = datetime(year, month, 1, tzinfo=zone).astimezone(UTC)
    return start, datetime(nxt[0], nxt[1], 1, tzinfo=zone).astimezone(UTC)


def moment(text: str, name: str, zone: tzinfo) -> datetime:
    """A date (local midnight) or a time with a UTC offset."""
    if len(text) > 40:
        raise QueryError(f"{name} is too long")
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)
        value = datetime.fromisoformat(text)
    except ValueError:
        raise QueryError(f"{name} is not a date or an ISO 8601 time: {text!r}") from None
    if value.tzinfo is None:
        raise QueryError(f"{name} needs a UTC offset (e.g. +01:00 or Z), or a plain date")
    return value.astimezone(UTC)


def parse_filter(query: Mapping[str, str], zone: tzinfo) -> SessionFilter:
    """?from=&to= (dates or times, `to` exclusive) or ?month=YYYY-MM, ?charger=, ?card=."""
    start, end = EARLIEST, LATEST
    if query.get("month"):
        start, end = month_range(query["month"], zone)
    if query.get("from"):
        start = moment(query["from"], "from", zone)
    if query.get("to"):
        end = moment(query["to"], "to", zone)
    if end < start:
        raise QueryError("to is before from")
    charger = query.get("charger") or None
    card = query.get("card") or None
    for name, value in (("charger", charger), ("card", card)):
        if value is not None and len(value) > 64:
            raise QueryError(f"{name} is too long")
    return SessionFilter(start, end, charger, card)


async def sessions(site: LocalSite, wanted: SessionFilter) -> list[SessionRecord]:
    found = await site.session_history(wanted.start, wanted.end)
    return [
        s
        for s in found
        if (wanted.charger is None or s.charger_id == wanted.charger)
        and (wanted.card is None or same_card(s.card, wanted.card))
    ]


def same_card(a: str | None, b: str | None) -> bool:
    """OCPP id tags are case-insensitive (CiString): 04a2 and 04A2 are one card."""
    return a is not None and b is not None and a.casefold() == b.casefold()


def totals(records: Iterable[SessionRecord]) -> Totals:
    count, energy, cost = 0, Decimal(0), Decimal(0)
    known = True
    for record in records:
        count += 1
        energy += Decimal(str(record.energy_kwh))
        if record.cost is None:
            known = False
        else:
            cost += record.cost
    return Totals(count, energy, cost if known else None)


class ByCard(Mapping[str, Resident]):
    """Card → resident, found in any case (OCPP id tags are case-insensitive: a charger may
    report 04a2 for the entry 04A2); iterates the cards as their entries spell them."""

    def __init__(self, people: Mapping[str, Resident]) -> None:
        self._people = dict(people)
        self._folded = {uid.casefold(): person for uid, person in people.items()}

    def __getitem__(self, card: str) -> Resident:
        return self._folded[card.casefold()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._people)

    def __len__(self) -> int:
        return len(self._people)


def people(site: LocalSite, entered: Mapping[str, Resident]) -> ByCard:
    """Who holds each card: the resident list (`entered`: site.yaml's card entries and
    /api/residents, residents.py), else the driver a card profile names (site.yaml `cards`,
    the local API or the cloud's card vehicle)."""
    drivers = ByCard(
        {
            uid: Resident(uid, name=profile.driver)
            for uid, profile in site.card_profiles().items()
            if profile.driver
        }
    )
    listed = {uid.casefold() for uid in entered}
    found = {uid: person for uid, person in drivers.items() if uid.casefold() not in listed}
    for uid, person in entered.items():
        driver = drivers.get(uid)
        name = person.name or (driver.name if driver else None)
        found[uid] = Resident(uid, name, person.apartment, person.password_hash)
    return ByCard(found)


def holder_dict(person: Resident | None) -> dict[str, str | None]:
    return {
        "resident": person.name if person else None,
        "apartment": person.apartment if person else None,
    }


def own_cloud_cards(site: LocalSite) -> list[str]:
    """The account's own cards on the cloud's list (another account's are listed blocked)."""
    return [c.uid for c in site.cards().get(CLOUD, []) if c.status is not CardStatus.BLOCKED]


def usage_of(site: LocalSite, cloud_config: Mapping[str, Any] | None) -> GuestUsage | None:
    """Guest usage as the cloud last told the site (None: the site never heard from it)."""
    return guest_usage(cloud_config, own_cloud_cards(site))


async def monthly(
    site: LocalSite,
    month: str,
    entered: Mapping[str, Resident],
    usage: GuestUsage | None = None,
) -> tuple[datetime, datetime, list[CardMonth]]:
    start, end = month_range(month, site_zone(site))
    records = await sessions(site, SessionFilter(start, end))
    residents = people(site, entered)
    by_card: dict[str | None, list[SessionRecord]] = {}
    for record in records:
        by_card.setdefault(record.card, []).append(record)
    rows = []
    for card in sorted(by_card, key=lambda c: (c is None, _apartment(residents, c), c or "")):
        person = residents.get(card or "") or Resident(card or "")
        guest = [] if usage is None else [usage.euros(r) for r in by_card[card]]
        credited = [amount for amount in guest if amount is not None]
        rows.append(
            CardMonth(
                card=card,
                resident=person.name,
                apartment=person.apartment,
                cloud_card=bool(credited),
                totals=totals(by_card[card]),
                sessions=tuple(by_card[card]),
                guest_sessions=len(credited),
                guest_amount=sum(credited, Decimal(0)),
            )
        )
    return start, end, rows


def _apartment(residents: Mapping[str, Resident], card: str | None) -> str:
    person = residents.get(card or "")
    return (person.apartment or "") if person else "~"


def money(value: Decimal | None) -> str:
    return "" if value is None else str(value.quantize(Decimal("0.01")))


def kwh(value: Decimal | float) -> str:
    return str(Decimal(str(value)).quantize(Decimal("0.001")))


def session_dict(record: SessionRecord, residents: Mapping[str, Resident]) -> dict[str, object]:
    person = residents.get(record.card or "")
    return {
        "charger": record.charger_id,
        "charge_point_id": record.charge_point_id,
        "connector_id": record.connector_id,
        "card": record.card,
        "resident": person.name if person else None,
        "apartment": person.apartment if person else None,
        "started_at": record.started_at.isoformat(),
        "stopped_at": record.stopped_at.isoformat(),
        "duration_min": round((record.stopped_at - record.started_at) / timedelta(minutes=1)),
        "energy_kwh": kwh(record.energy_kwh),
        "cost": None if record.cost is None else money(record.cost),
        "stop_reason": record.stop_reason,
    }


CSV_COLUMNS = (
    "started_at",
    "stopped_at",
    "charger",
    "card",
    "resident",
    "apartment",
    "energy_kwh",
    "cost",
    "stop_reason",
)


def sessions_csv(
    records: list[SessionRecord], residents: Mapping[str, Resident], zone: tzinfo
) -> str:
    """One row per session (local times), then a total row."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for record in records:
        row = session_dict(record, residents)
        row["started_at"] = record.started_at.astimezone(zone).isoformat(timespec="minutes")
        row["stopped_at"] = record.stopped_at.astimezone(zone).isoformat(timespec="minutes")
        writer.writerow([csv_cell(row[c]) for c in CSV_COLUMNS])
    total = totals(records)
    writer.writerow(["total", "", "", "", "", "", kwh(total.energy_kwh), money(total.cost), ""])
    return out.getvalue()


def csv_cell(value: object) -> str:
    """Text as a spreadsheet will not run it as a formula (=, +, -, @ first: a quote first)."""
    text = "" if value is None else str(value)
    if isinstance(value, str) and NUMBER.match(text):
        return text
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_response(text: str, name: str) -> web.Response:
    return web.Response(
        body=text.encode("utf-8"),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
