# ruff: noqa: S608  (SQL text is built from constant column lists only; values are bound)
"""CPO side: our charge points open to guests as Locations (§8), their tariffs (§11).

A site is published once its place is known (`set_place`: address, city, postal code,
country, coordinates are required by OCPI and not otherwise kept); each of its charge points
open to guests is one EVSE with one connector (the platform records no connector details: AC
type 2 socket, or a DC CCS cable for a fast charger, at the recorded maximum power). Prices
are published excl. VAT with 21 % VAT, as OCPI states them.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..storage import Database, Row, from_db
from ..store.door import DEFAULT_AC_KW, DEFAULT_DC_KW
from ..store.tariff_parts import TariffParts
from .envelope import timestamp
from .settings import OcpiSettings

VAT = Decimal(21)
_GROSS = Decimal("1.21")
_FOUR = Decimal("0.0001")
_PLACE = "address, city, postal_code, country, latitude, longitude"


@dataclass(frozen=True, slots=True)
class Place:
    address: str
    city: str
    postal_code: str
    country: str  # ISO 3166-1 alpha-3
    latitude: str
    longitude: str


async def set_place(db: Database, site_id: int, place: Place) -> None:
    await db.execute(
        f"INSERT INTO ocpi_site_places (site_id, {_PLACE}) VALUES (?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (site_id) DO UPDATE SET address = excluded.address, city = excluded.city,"
        " postal_code = excluded.postal_code, country = excluded.country,"
        " latitude = excluded.latitude, longitude = excluded.longitude",
        site_id,
        place.address,
        place.city,
        place.postal_code,
        place.country,
        place.latitude,
        place.longitude,
    )


def location_id(site_id: int) -> str:
    return f"SITE{site_id}"


def evse_id(settings: OcpiSettings, cp_id: int) -> str:
    return f"{settings.country_code}*{settings.party_id}*E{cp_id}"


def connector(row: Row, tariff_ids: list[str], updated: str) -> dict[str, Any]:
    fast = bool(row["fast"])
    power_kw = row["max_power_kw"] or (DEFAULT_DC_KW if fast else DEFAULT_AC_KW)
    volts = 400 if fast else 230
    amps = int(power_kw * 1000 / volts / (1 if fast else 3))
    return {
        "id": "1",
        "standard": "IEC_62196_T2_COMBO" if fast else "IEC_62196_T2",
        "format": "CABLE" if fast else "SOCKET",
        "power_type": "DC" if fast else "AC_3_PHASE",
        "max_voltage": volts,
        "max_amperage": amps,
        "max_electric_power": int(power_kw * 1000),
        "tariff_ids": tariff_ids,
        "last_updated": updated,
    }


_POINTS = (
    "SELECT cp.id, cp.site_id, cp.ocpp_id, cp.name, cp.tariff_id, cp.fast,"
    " cp.max_power_kw, cp.created_at, s.name AS site_name, p.address, p.city,"
    " p.postal_code, p.country, p.latitude, p.longitude FROM charge_points cp"
    " JOIN sites s ON s.id = cp.site_id JOIN ocpi_site_places p ON p.site_id = s.id"
    " WHERE cp.guest_usage = 1"
)


async def locations(db: Database, settings: OcpiSettings) -> list[dict[str, Any]]:
    """Every published location, in site order."""
    by_site: dict[int, dict[str, Any]] = {}
    for row in await db.fetch(_POINTS + " ORDER BY cp.site_id, cp.id"):
        updated = timestamp(from_db(row["created_at"]))
        tariffs = [str(row["tariff_id"])] if row["tariff_id"] is not None else []
        site = by_site.get(int(row["site_id"]))
        if site is None:
            site = by_site[int(row["site_id"])] = {
                "country_code": settings.country_code,
                "party_id": settings.party_id,
                "id": location_id(int(row["site_id"])),
                "publish": True,
                "name": row["site_name"],
                "address": row["address"],
                "city": row["city"],
                "postal_code": row["postal_code"],
                "country": row["country"],
                "coordinates": {"latitude": row["latitude"], "longitude": row["longitude"]},
                "time_zone": "Europe/Amsterdam",
                "evses": [],
                "last_updated": updated,
            }
        site["evses"].append(
            {
                "uid": f"CP{row['id']}",
                "evse_id": evse_id(settings, int(row["id"])),
                "status": "UNKNOWN",
                "connectors": [connector(row, tariffs, updated)],
                "last_updated": updated,
            }
        )
        site["last_updated"] = max(site["last_updated"], updated)
    return list(by_site.values())


def tariff_object(
    settings: OcpiSettings, tariff_id: str, parts: TariffParts, updated: str
) -> dict[str, Any]:
    def excl(text: str) -> Decimal:
        cents = Decimal(text)
        if parts.basis == "incl_vat":
            cents = cents / _GROSS
        return (cents / 100).quantize(_FOUR)

    found = [
        ("FLAT", excl(parts.start_cents)),
        ("ENERGY", excl(parts.per_kwh_cents)),
        ("TIME", excl(parts.per_minute_cents) * 60),
    ]
    components = [
        {"type": kind, "price": price, "vat": VAT, "step_size": 1}
        for kind, price in found
        if price > 0
    ]
    if not components:  # free charging is a price of 0 per kWh
        components = [{"type": "ENERGY", "price": Decimal(0), "vat": VAT, "step_size": 1}]
    return {
        "country_code": settings.country_code,
        "party_id": settings.party_id,
        "id": tariff_id,
        "currency": "EUR",
        "elements": [{"price_components": components}],
        "last_updated": updated,
    }


async def tariffs(db: Database, settings: OcpiSettings) -> list[dict[str, Any]]:
    """The tariffs of published charge points (the owners' guest tariffs)."""
    rows = await db.fetch(
        "SELECT id, start_cents, per_kwh_cents, per_minute_cents, basis, created_at FROM tariffs"
        " WHERE id IN (SELECT cp.tariff_id FROM charge_points cp JOIN ocpi_site_places p"
        " ON p.site_id = cp.site_id WHERE cp.guest_usage = 1) ORDER BY id"
    )
    return [
        tariff_object(
            settings,
            str(r["id"]),
            TariffParts.of_tariff_row(r),
            timestamp(from_db(r["created_at"])),
        )
        for r in rows
    ]


def page(items: list[dict[str, Any]], offset: int, limit: int) -> list[dict[str, Any]]:
    return items[offset : offset + limit]
