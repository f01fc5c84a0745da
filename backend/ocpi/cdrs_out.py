"""CPO side: a finished session of a roaming party's token at our charge point becomes a CDR
POSTed to that party's CDRs receiver, once (table ocpi_cdrs_sent).

Only sessions that passed the door are sent (review none/accepted/corrected; one waiting in
the review queue goes once an admin accepts it). The price is the tariff copied onto the
session when it was stored (the owner's guest tariff then in force), the same amount the
platform credits the owner.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime
from decimal import Decimal
from typing import Any

from ..billing.money import Basis
from ..billing.sessions import SessionTariff
from ..storage import Database, Row, from_db, to_db
from ..store.tariff_parts import TariffParts
from .client import OcpiClient, Refused
from .cpo import connector, evse_id, location_id, tariff_object
from .envelope import timestamp
from .parties import Party
from .settings import OcpiSettings

_LOGGER = logging.getLogger(__name__)
BATCH = 100
_HOURS = Decimal(3600)

_PENDING = (
    "SELECT s.id, s.transaction_id, s.started_at, s.stopped_at, s.energy_wh, s.start_cents,"
    " s.per_kwh_cents, s.per_minute_cents, s.tariff_basis, cp.id AS cp_id, cp.site_id,"
    " cp.tariff_id, cp.fast, cp.max_power_kw, cp.created_at, st.name AS site_name, p.address,"
    " p.city, p.postal_code, p.country, p.latitude, p.longitude, t.body AS token FROM sessions s"
    " JOIN ocpi_tokens t ON t.uid_norm = upper(s.id_tag) AND t.party_row = ?"
    " JOIN charge_points cp ON cp.id = s.charge_point_id JOIN sites st ON st.id = cp.site_id"
    " LEFT JOIN ocpi_site_places p ON p.site_id = cp.site_id"
    " WHERE s.source = 'own_network' AND s.review IN ('none', 'accepted', 'corrected')"
    " AND s.id > ? AND NOT EXISTS (SELECT 1 FROM ocpi_cdrs_sent x WHERE x.session_id = s.id"
    " AND x.party_row = ?) ORDER BY s.id LIMIT ?"
)


def cdr_id(settings: OcpiSettings, session_id: int) -> str:
    return f"{settings.party_id}{session_id:012d}"


def _money(cents: int) -> Decimal:
    return Decimal(cents) / 100


def session_id(cp_id: int, transaction_id: str) -> str:
    """The OCPI Session.id (and CDR session_id) of a transaction at our charge point: stable
    from its start to its CDR. CiString(36): a long OCPP 2.0.1 transaction id is hashed."""
    plain = f"E{cp_id}T{transaction_id}"
    if len(plain) <= 36 and plain.isascii() and plain.isprintable():
        return plain
    return "H" + hashlib.sha256(f"{cp_id}/{transaction_id}".encode()).hexdigest()[:35]


def total_cost(row: Row) -> dict[str, Decimal]:
    """A finished session's price by the billing rules, as an OCPI Price (euros)."""
    started, stopped = from_db(row["started_at"]), from_db(row["stopped_at"])
    assert started is not None
    assert stopped is not None
    parts = TariffParts.of_session_row(row)
    basis = Basis.GROSS if parts.basis == "incl_vat" else Basis.NET
    tariff = SessionTariff(
        Decimal(parts.start_cents),
        Decimal(parts.per_kwh_cents),
        Decimal(parts.per_minute_cents),
        basis,
    )
    split = tariff.cost(int(row["energy_wh"]), stopped - started).split()
    return {"excl_vat": _money(split.net), "incl_vat": _money(split.gross)}


def build_cdr(settings: OcpiSettings, row: Row, now: datetime) -> dict[str, Any]:
    started, stopped = from_db(row["started_at"]), from_db(row["stopped_at"])
    assert started is not None
    assert stopped is not None
    parts = TariffParts.of_session_row(row)
    energy_wh = int(row["energy_wh"])
    token = json.loads(row["token"])
    tariff_id = str(row["tariff_id"] or "0")
    hours = (Decimal(round((stopped - started).total_seconds())) / _HOURS).quantize(
        Decimal("0.0001")
    )
    kwh = Decimal(energy_wh) / 1000
    place = {k: row[k] or "" for k in ("address", "city", "postal_code", "country")}
    return {
        "country_code": settings.country_code,
        "party_id": settings.party_id,
        "id": cdr_id(settings, int(row["id"])),
        "start_date_time": timestamp(started),
        "end_date_time": timestamp(stopped),
        "session_id": session_id(int(row["cp_id"]), str(row["transaction_id"])),
        "cdr_token": {
            "country_code": token["country_code"],
            "party_id": token["party_id"],
            "uid": token["uid"],
            "type": token["type"],
            "contract_id": token["contract_id"],
        },
        "auth_method": "WHITELIST",
        "cdr_location": {
            "id": location_id(int(row["site_id"])),
            "name": row["site_name"],
            **place,
            "coordinates": {
                "latitude": row["latitude"] or "0",
                "longitude": row["longitude"] or "0",
            },
            "evse_uid": f"CP{row['cp_id']}",
            "evse_id": evse_id(settings, int(row["cp_id"])),
            **_connector_fields(row),
        },
        "currency": "EUR",
        "tariffs": [tariff_object(settings, tariff_id, parts, timestamp(now))],
        "charging_periods": [
            {
                "start_date_time": timestamp(started),
                "tariff_id": tariff_id,
                "dimensions": [
                    {"type": "ENERGY", "volume": kwh},
                    {"type": "TIME", "volume": hours},
                ],
            }
        ],
        "total_cost": total_cost(row),
        "total_energy": kwh,
        "total_time": hours,
        "last_updated": timestamp(now),
    }


def _connector_fields(row: Row) -> dict[str, Any]:
    found = connector(row, [], "")
    return {
        "connector_id": found["id"],
        "connector_standard": found["standard"],
        "connector_format": found["format"],
        "connector_power_type": found["power_type"],
    }


async def send_cdrs(
    db: Database, settings: OcpiSettings, client: OcpiClient, party: Party, *, now: datetime
) -> int:
    """POST the party's pending CDRs in session order; the number sent.

    A refusal of one CDR is logged and skipped until the next round (it stays pending); the
    party being unreachable stops the round (OcpiError)."""
    url = party.endpoint("cdrs", "RECEIVER")
    if url is None or party.outgoing_token is None:
        return 0
    sent, after = 0, 0
    while True:
        rows = await db.fetch(_PENDING, party.id, after, party.id, BATCH)
        if not rows:
            return sent
        for row in rows:
            after = int(row["id"])
            cdr = build_cdr(settings, row, now)
            try:
                await client.call("POST", url, party.outgoing_token, cdr)
            except Refused as err:  # unreachable or failing (OcpiError): the round ends
                _LOGGER.warning("OCPI: %s refused CDR %s: %s", party.name, cdr["id"], err)
                continue
            await db.execute(
                "INSERT INTO ocpi_cdrs_sent (session_id, party_row, cdr_id, sent_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                row["id"],
                party.id,
                cdr["id"],
                to_db(now),
            )
            sent += 1
