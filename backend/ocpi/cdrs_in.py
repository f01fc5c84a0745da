"""eMSP side: a CDR from a CPO becomes a roaming session of our card, passed on in full.

The session is stored through the platform's roaming path (`Sessions.add_roaming`, origin
`roaming:<CC>*<PID>`, idempotent on (origin, EVSE, CDR id)), which the monthly invoicing run
already bills at start + per kWh + per minute (art. 26.3). The CDR's prices are excl. VAT, so
the parts are stored on that basis. They come from the CDR's tariff (FLAT = start, ENERGY = per
kWh, TIME per hour / 60 = per minute) when those reproduce the CDR's `total_cost` to the cent
over the whole session; otherwise (step sizes, restrictions, parking time, a tariff we are not
given) the total itself is the start fee, so the customer always pays exactly what the CPO
charged us, never our re-computation of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import voluptuous as vol

from ..billing.money import Basis
from ..billing.sessions import SessionTariff
from ..storage import Database, to_db
from ..store import SessionIn, Sessions
from .credentials import checked
from .envelope import INVALID_PARAMETERS, OcpiError, dumps
from .parties import Party

MAX_KWH = Decimal(100_000)
MAX_EUR = Decimal(1_000_000)
CENT = Decimal(100)


def _aware(text: Any) -> datetime:
    if not isinstance(text, str) or len(text) > 40:
        raise vol.Invalid("expected an RFC 3339 time")
    try:
        moment = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise vol.Invalid(f"{text!r} is not an RFC 3339 time") from None
    if moment.tzinfo is None:  # OCPI: UTC; a time without a zone is refused, never guessed
        moment = moment.replace(tzinfo=UTC) if text.endswith("Z") else _no_zone(text)
    if not 1970 <= moment.year <= 2199:
        raise vol.Invalid(f"{text!r}: year out of range")
    return moment.astimezone(UTC)


def _no_zone(text: str) -> datetime:
    raise vol.Invalid(f"{text!r} has no time zone (OCPI times are UTC with 'Z')")


def _amount(limit: Decimal) -> Any:
    def check(value: Any) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
            raise vol.Invalid("expected a number")
        number = Decimal(value)
        if not number.is_finite() or number < 0 or number > limit:
            raise vol.Invalid(f"expected a number from 0 to {limit}")
        return number

    return check


def _text(most: int) -> Any:
    return vol.All(str, vol.Length(min=1, max=most), vol.Match(r"^[^\x00-\x1f]+$"))


_PRICE = vol.Schema(
    {vol.Required("excl_vat"): _amount(MAX_EUR), vol.Optional("incl_vat"): _amount(MAX_EUR)}
)
_COMPONENT = vol.Schema(
    {
        vol.Required("type"): vol.In(["ENERGY", "FLAT", "PARKING_TIME", "TIME"]),
        vol.Required("price"): _amount(MAX_EUR),
        vol.Optional("vat"): _amount(Decimal(100)),
        vol.Required("step_size"): vol.All(int, vol.Range(min=0, max=10**9)),
    }
)
_TARIFF = vol.Schema(
    {
        vol.Required("id"): _text(36),
        vol.Required("currency"): vol.All(str, vol.Length(min=3, max=3)),
        vol.Required("elements"): vol.All(
            [
                vol.Schema(
                    {
                        vol.Required("price_components"): vol.All(
                            [_COMPONENT], vol.Length(min=1, max=10)
                        ),
                        vol.Optional("restrictions"): dict,
                    }
                )
            ],
            vol.Length(min=1, max=50),
        ),
    },
    extra=vol.ALLOW_EXTRA,
)
CDR = vol.Schema(
    {
        vol.Required("country_code"): vol.All(str, vol.Match(r"^[A-Z]{2}$")),
        vol.Required("party_id"): vol.All(str, vol.Match(r"^[A-Z0-9]{3}$")),
        vol.Required("id"): _text(39),
        vol.Required("start_date_time"): _aware,
        vol.Required("end_date_time"): _aware,
        vol.Required("cdr_token"): vol.Schema(
            {
                vol.Required("uid"): _text(36),
                vol.Required("type"): _text(20),
                vol.Required("contract_id"): _text(36),
            },
            extra=vol.ALLOW_EXTRA,
        ),
        vol.Required("auth_method"): vol.In(["AUTH_REQUEST", "COMMAND", "WHITELIST"]),
        vol.Required("cdr_location"): vol.Schema(
            {
                vol.Required("id"): _text(36),
                vol.Required("evse_uid"): _text(36),
                vol.Required("evse_id"): _text(48),
                vol.Required("connector_id"): _text(36),
            },
            extra=vol.ALLOW_EXTRA,
        ),
        vol.Required("currency"): vol.All(str, vol.Length(min=3, max=3)),
        vol.Optional("tariffs"): vol.All([_TARIFF], vol.Length(max=20)),
        vol.Required("charging_periods"): vol.All(list, vol.Length(min=1, max=10_000)),
        vol.Required("total_cost"): _PRICE,
        vol.Required("total_energy"): _amount(MAX_KWH),
        vol.Required("total_time"): _amount(Decimal(24 * 365)),
        vol.Optional("total_parking_time"): _amount(Decimal(24 * 365)),
        vol.Required("last_updated"): _aware,
    },
    extra=vol.ALLOW_EXTRA,
)


@dataclass(frozen=True, slots=True)
class Parts:
    start_cents: Decimal
    per_kwh_cents: Decimal
    per_minute_cents: Decimal


def price_parts(cdr: dict[str, Any]) -> Parts:
    """Start + per kWh + per minute (cents excl. VAT) that bill exactly the CDR's total."""
    total = cdr["total_cost"]["excl_vat"] * CENT
    energy_wh = round(cdr["total_energy"] * 1000)
    duration = cdr["end_date_time"] - cdr["start_date_time"]
    parts = _from_tariff(cdr.get("tariffs") or [])
    if parts is not None:
        tariff = SessionTariff(
            parts.start_cents, parts.per_kwh_cents, parts.per_minute_cents, Basis.NET
        )
        if Decimal(tariff.cost(energy_wh, duration).cents) == total:
            return parts
    return Parts(total, Decimal(0), Decimal(0))


def _from_tariff(tariffs: list[dict[str, Any]]) -> Parts | None:
    """One tariff, one element without restrictions, step size 1 and no parking price:
    the only shape start + per kWh + per minute can express."""
    if len(tariffs) != 1 or len(tariffs[0]["elements"]) != 1:
        return None
    element = tariffs[0]["elements"][0]
    if element.get("restrictions"):
        return None
    found: dict[str, Decimal] = {}
    for part in element["price_components"]:
        if part["type"] == "PARKING_TIME" or part["type"] in found:
            return None
        if part["type"] != "FLAT" and part["step_size"] > 1:
            return None
        found[part["type"]] = part["price"] * CENT
    return Parts(
        found.get("FLAT", Decimal(0)),
        found.get("ENERGY", Decimal(0)),
        found.get("TIME", Decimal(0)) / 60,
    )


@dataclass(frozen=True, slots=True)
class Received:
    row_id: int
    session_id: int
    created: bool


async def receive_cdr(
    db: Database, sessions: Sessions, party: Party, body: Any, *, now: datetime
) -> Received:
    """Validate, bill as a roaming session (once) and keep the CDR as sent."""
    cdr = checked(CDR, body, "CDR")
    if (cdr["country_code"], cdr["party_id"]) not in party.identities():
        raise OcpiError(
            INVALID_PARAMETERS,
            f"CDR of {cdr['country_code']}*{cdr['party_id']}: a party may only send its own CDRs",
        )
    if cdr["currency"] != "EUR":
        raise OcpiError(INVALID_PARAMETERS, f"currency {cdr['currency']}: we bill in EUR only")
    if cdr["end_date_time"] < cdr["start_date_time"]:
        raise OcpiError(INVALID_PARAMETERS, "end_date_time is before start_date_time")
    key = (cdr["country_code"], cdr["party_id"], cdr["id"])
    known = await db.fetchrow(
        "SELECT id, session_id, body FROM ocpi_cdrs_received WHERE country_code = ?"
        " AND party_id = ? AND cdr_id = ?",
        *key,
    )
    text = dumps(body)
    if known is not None:
        if known["body"] != text:  # CDRs are final: a changed one is a credit CDR + a new id
            raise OcpiError(
                INVALID_PARAMETERS,
                f"CDR {cdr['id']} was received with other content; CDRs cannot be changed",
            )
        return Received(int(known["id"]), int(known["session_id"]), False)
    parts = price_parts(cdr)
    energy_wh = float(round(cdr["total_energy"] * 1000))
    location = cdr["cdr_location"]
    item = SessionIn(
        location["evse_id"],
        cdr["id"],
        _connector(location["connector_id"]),
        cdr["cdr_token"]["uid"],
        cdr["start_date_time"],
        cdr["end_date_time"],
        0.0,
        energy_wh,
        energy_wh,
    )
    stored = await sessions.add_roaming(
        f"{cdr['country_code']}*{cdr['party_id']}",
        item,
        now=now,
        start_cents=parts.start_cents,
        per_kwh_cents=parts.per_kwh_cents,
        per_minute_cents=parts.per_minute_cents,
        basis="excl_vat",
    )
    row_id = await db.fetchval(
        "INSERT INTO ocpi_cdrs_received (party_row, country_code, party_id, cdr_id, session_id,"
        " body, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (country_code, party_id, cdr_id) DO NOTHING RETURNING id",
        party.id,
        *key,
        stored.session_id,
        text,
        to_db(now),
    )
    if row_id is None:  # a concurrent POST of the same CDR stored it first
        row_id = await db.fetchval(
            "SELECT id FROM ocpi_cdrs_received WHERE country_code = ? AND party_id = ?"
            " AND cdr_id = ?",
            *key,
        )
    return Received(int(row_id), stored.session_id, stored.created)


def _connector(text: str) -> int:
    """OCPI connector ids are text; ours are numbers (0 when it is not one)."""
    return int(text) if text.isascii() and text.isdigit() and len(text) < 9 else 0


async def cdr_body(db: Database, party: Party, row_id: int) -> Any:
    row = await db.fetchrow(
        "SELECT body FROM ocpi_cdrs_received WHERE id = ? AND party_row = ?", row_id, party.id
    )
    return None if row is None else row["body"]
