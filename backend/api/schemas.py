"""Voluptuous schemas of request bodies: strict types, bounded text, aware timestamps."""

from __future__ import annotations

import math
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import voluptuous as vol

from .. import parse
from ..store import AccountKind, CardKind, Role

MAX_BATCH = 500  # sessions per sync batch


def _clean(value: str) -> str:
    try:
        return parse.clean_text(value)
    except parse.ParseError as err:
        raise vol.Invalid(err.detail) from None


def text(max_len: int, min_len: int = 1) -> vol.All:
    """Text of `min_len`-`max_len` characters without NUL or lone surrogates."""
    return vol.All(str, vol.Length(min=min_len, max=max_len), _clean)


def integer(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise vol.Invalid("expected an integer")
    return value


def number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise vol.Invalid("expected a number")
    if not math.isfinite(value):  # JSON's NaN/Infinity extensions pass json.loads
        raise vol.Invalid("expected a finite number")
    return float(value)


def aware_time(value: Any) -> datetime:
    """An ISO-8601 time with a timezone in years 1900-2199 (no overflow into UTC)."""
    try:
        return parse.aware_time(value)
    except parse.ParseError as err:
        raise vol.Invalid(err.detail.removeprefix("time: ")) from None


def day(value: Any) -> date:
    """A calendar day as YYYY-MM-DD."""
    if not isinstance(value, str) or len(value) != 10 or not value.isascii():
        raise vol.Invalid("expected a date YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError as err:
        raise vol.Invalid("expected a date YYYY-MM-DD") from err


def cents(value: Any) -> Decimal:
    """Tariff parts in cents: a number or decimal text (fractions of a cent allowed), ≥ 0."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise vol.Invalid("expected cents as an integer or decimal text (not a float)")
    try:
        amount = Decimal(str(value))
    except InvalidOperation as err:
        raise vol.Invalid("expected cents as decimal text") from err
    if not amount.is_finite() or amount < 0 or amount > 10**9:
        raise vol.Invalid("cents must be between 0 and 1,000,000,000")
    return amount


NAME = text(200)
ADDRESS = text(500)
EMAIL = vol.All(text(254), vol.Match(r"^[^@\s]+@[^@\s]+$", msg="expected an e-mail address"))
UID = vol.All(text(36), vol.Match(r"^[!-~]+$", msg="expected printable ASCII without spaces"))
# A card we issue: the OpenAPI pattern (RFID UIDs are hex; no markup, no separators).
CARD_UID = vol.All(text(36), vol.Match(r"^[0-9A-Za-z]+$", msg="expected letters and digits only"))
MAX_POWER_KW = vol.Any(None, vol.All(number, vol.Range(min=1, max=1000)))
ID = vol.All(integer, vol.Range(min=1, max=2**63 - 1))

ACCOUNT = vol.Schema(
    {
        vol.Required("kind"): vol.Coerce(AccountKind),
        vol.Required("name"): NAME,
        vol.Optional("email"): vol.Any(None, EMAIL),
        vol.Optional("address"): vol.Any(None, ADDRESS),
        vol.Optional("iban"): vol.Any(
            None, vol.All(text(34), vol.Match(r"^[A-Z]{2}\d{2}[A-Z0-9]+$"))
        ),
        vol.Optional("vat_number"): vol.Any(None, text(20)),
    }
)
USER = vol.Schema(
    {
        vol.Required("email"): EMAIL,
        vol.Optional("name"): vol.Any(None, NAME),
        vol.Optional("role", default="customer"): vol.Coerce(Role),
        vol.Optional("password"): vol.Any(None, text(200, 8)),
    }
)
SITE = vol.Schema(
    {
        vol.Required("name"): NAME,
        vol.Optional("address"): vol.Any(None, ADDRESS),
        vol.Optional("account_id"): ID,
    }
)
TOKEN = vol.Schema({vol.Required("name"): NAME, vol.Optional("expires_at"): aware_time})
TARIFF = vol.Schema(
    {
        vol.Required("name"): NAME,
        vol.Optional("start_cents", default=0): cents,
        vol.Optional("per_kwh_cents", default=0): cents,
        vol.Optional("per_minute_cents", default=0): cents,
        vol.Optional("basis", default="incl_vat"): vol.In(["incl_vat", "excl_vat"]),
        vol.Optional("account_id"): vol.Any(None, ID),
    }
)
CHARGE_POINT = vol.Schema(
    {
        vol.Required("ocpp_id"): text(48),
        vol.Optional("name"): NAME,
        vol.Optional("site_id"): vol.Any(None, ID),
        vol.Optional("location"): vol.Any(None, ADDRESS),
        vol.Optional("guest_usage", default=False): bool,
        vol.Optional("tariff_id"): vol.Any(None, ID),
        vol.Optional("fast", default=False): bool,
        vol.Optional("max_power_kw"): MAX_POWER_KW,
        vol.Optional("account_id"): ID,
    }
)
CHARGE_POINT_CHANGE = vol.Schema(
    {
        vol.Optional("name"): NAME,
        vol.Optional("location"): vol.Any(None, ADDRESS),
        vol.Optional("guest_usage"): bool,
        vol.Optional("tariff_id"): vol.Any(None, ID),
        vol.Optional("max_power_kw"): MAX_POWER_KW,
    }
)
DEPARTURE = vol.Schema(
    {
        vol.Required("departure_at"): aware_time,
        vol.Optional("connector_id", default=1): vol.All(integer, vol.Range(min=1, max=100)),
        vol.Optional("car"): vol.Any(None, NAME),
        vol.Optional("soc_now"): vol.Any(None, vol.All(number, vol.Range(min=0, max=100))),
        vol.Optional("target_soc", default=100.0): vol.All(number, vol.Range(min=1, max=100)),
        vol.Optional("battery_kwh"): vol.Any(None, vol.All(number, vol.Range(min=1, max=1000))),
        vol.Optional("max_power_kw"): vol.Any(None, vol.All(number, vol.Range(min=1, max=1000))),
    }
)
CARD = vol.Schema(
    {
        vol.Required("uid"): CARD_UID,
        vol.Optional("roaming_authorized", default=False): bool,
        vol.Optional("kind", default="subscription"): vol.Coerce(CardKind),
        vol.Optional("account_id"): vol.Any(None, ID),
        vol.Optional("label"): vol.Any(None, NAME),
        vol.Optional("expires_at"): vol.Any(None, aware_time),
    }
)
ASSIGN = vol.Schema({vol.Required("account_id"): ID})
IBAN = vol.Schema({vol.Required("iban"): text(64)})  # checked (ISO 13616) by the store
LOST = vol.Schema({vol.Optional("order_replacement", default=True): bool})
EMPTY = vol.Schema({})
AUTHORIZE = vol.Schema({vol.Required("uid"): UID})
REPORT_LOST = vol.Schema(
    {
        vol.Required("uid"): UID,
        vol.Optional("order_replacement", default=True): bool,
    }
)


def _stops_after_start(item: dict[str, Any]) -> dict[str, Any]:
    if item["stopped_at"] < item["started_at"]:
        raise vol.Invalid("stopped_at is before started_at", path=["stopped_at"])
    return item


SESSION = vol.All(
    vol.Schema(
        {
            vol.Required("charge_point_id"): text(48),
            vol.Required("transaction_id"): text(64),
            vol.Required("connector_id"): vol.All(integer, vol.Range(min=0, max=100)),
            vol.Required("id_tag"): vol.Any(None, text(36, 0)),
            vol.Required("started_at"): aware_time,
            vol.Required("stopped_at"): aware_time,
            vol.Required("meter_start_wh"): vol.All(number, vol.Range(min=0, max=1e12)),
            vol.Required("meter_stop_wh"): vol.All(number, vol.Range(min=0, max=1e12)),
            vol.Required("energy_wh"): vol.All(number, vol.Range(min=0, max=1e9)),
            vol.Optional("stop_reason"): vol.Any(None, text(64)),
            vol.Optional("energy_flagged", default=False): bool,
        }
    ),
    _stops_after_start,
)
SESSION_BATCH = vol.Schema(
    {
        vol.Required("sessions"): vol.All([SESSION], vol.Length(min=1, max=MAX_BATCH)),
    }
)

MAX_OPEN = 500  # open transactions per site snapshot


def _one_row_per_transaction(data: dict[str, Any]) -> dict[str, Any]:
    seen: set[tuple[str, str]] = set()
    for index, item in enumerate(data["sessions"]):
        key = (item["charge_point_id"], item["transaction_id"])
        if key in seen:
            raise vol.Invalid(
                "the same transaction twice in one snapshot",
                path=["sessions", index, "transaction_id"],
            )
        seen.add(key)
    return data


OPEN_SESSION = vol.Schema(
    {
        vol.Required("charge_point_id"): text(48),
        vol.Required("connector_id"): vol.All(integer, vol.Range(min=0, max=100)),
        vol.Required("transaction_id"): text(64),
        vol.Required("id_tag"): vol.Any(None, text(36, 0)),
        vol.Required("started_at"): aware_time,
        vol.Required("energy_kwh"): vol.All(number, vol.Range(min=0, max=1e6)),
        vol.Required("power_w"): vol.Any(None, vol.All(number, vol.Range(min=0, max=1e7))),
        vol.Required("updated_at"): aware_time,
    }
)
OPEN_SNAPSHOT = vol.Schema(
    vol.All(
        vol.Schema(
            {
                vol.Required("taken_at"): aware_time,
                vol.Required("sessions"): vol.All([OPEN_SESSION], vol.Length(max=MAX_OPEN)),
            }
        ),
        _one_row_per_transaction,
    )
)
