"""What the next invoicing run bills besides sessions and fees, and an invoice's collection,
through backend.invoicing's service functions (the amounts and rules are backend.billing's):
one-off charges (contract transfer €45, misuse), outages (compensated when ours and over 12 h),
the yearly CPI indexation, lease-driver terms, an owner's electricity cost, payments received
and reminders. Writes are for administrators; an invoice's payment state and an account's
prepaid ledger are read in the caller's scope (another account's: 404)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import voluptuous as vol
from aiohttp import web

from ..billing.calendar import local_date
from ..billing.outages import OutageCause
from ..invoicing import Invoicing
from ..services import billing
from . import schemas
from .app_keys import CLOCK, STORE
from .auth import admin, scope
from .http import body, ok, path_id

CENTS = vol.All(schemas.integer, vol.Range(min=0, max=10**9))


def _decimal(value: Any) -> Decimal:
    """Decimal text or an integer (no float: money and percentages stay exact)."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise vol.Invalid("expected decimal text or an integer")
    try:
        number = Decimal(str(value))
    except InvalidOperation as err:
        raise vol.Invalid("expected decimal text") from err
    if not number.is_finite() or abs(number) > 10**6:
        raise vol.Invalid("expected a number up to 1,000,000")
    return number


CHARGE = vol.Schema(
    {
        vol.Required("kind"): vol.In(billing.CHARGE_KINDS),
        vol.Optional("on"): schemas.day,
        vol.Optional("subscription_id"): schemas.ID,  # transfer: the contract moved
        vol.Optional("costs_net_cents", default=0): CENTS,  # misuse: our costs
        vol.Optional("admin_net_cents", default=4000): CENTS,  # misuse: at least €40
        vol.Optional("excess_mb", default=0): CENTS,
    }
)
OUTAGE = vol.Schema(
    {
        vol.Required("started_at"): schemas.aware_time,
        vol.Required("ended_at"): schemas.aware_time,
        vol.Required("cause"): vol.Coerce(OutageCause),
    }
)
INDEXATION = vol.Schema(
    {
        vol.Required("cpi_percent"): _decimal,
        vol.Required("planned_on"): schemas.day,
        vol.Optional("announced_on"): schemas.day,
    }
)
LEASE = vol.Schema(
    {
        vol.Required("charge_point_id"): schemas.ID,
        vol.Required("rate_cents_per_kwh"): _decimal,
        vol.Optional("iban"): vol.Any(None, schemas.text(64)),
        vol.Optional("active_from"): vol.Any(None, schemas.day),
    }
)
COST = vol.Schema({vol.Required("cents_per_kwh"): _decimal})
PAYMENT = vol.Schema({vol.Required("cents"): vol.All(schemas.integer, vol.Range(min=1))})
REMINDER = vol.Schema({vol.Optional("on"): schemas.day})


def _invoicing(request: web.Request) -> Invoicing:
    return Invoicing(request.app[STORE].db)


def _today(request: web.Request, data: dict[str, Any], name: str = "on") -> date:
    day: date | None = data.get(name)
    return day if day is not None else local_date(request.app[CLOCK]())


async def add_charge(request: web.Request) -> web.Response:
    """A one-off charge for the invoice of its day's month (art. 8.2, 12.2)."""
    admin(request)
    data = await body(request, CHARGE)
    data["on"] = _today(request, data)
    ids = await billing.add_charges(
        request.app[STORE].db, path_id(request), billing.ChargeIn(**data), now=request.app[CLOCK]()
    )
    return ok({"ids": ids}, 201)


async def record_outage(request: web.Request) -> web.Response:
    admin(request)
    data = await body(request, OUTAGE)
    new_id = await _invoicing(request).record_outage(
        path_id(request),
        data["started_at"],
        data["ended_at"],
        data["cause"],
        now=request.app[CLOCK](),
    )
    return ok({"id": new_id}, 201)


async def record_indexation(
    request: web.Request,
) -> web.Response:
    """The yearly CPI indexation; it takes effect no sooner than a month after its
    announcement."""
    admin(request)
    data = await body(request, INDEXATION)
    new_id, effective = await billing.record_indexation(
        request.app[STORE].db,
        data["cpi_percent"],
        data["planned_on"],
        _today(request, data, "announced_on"),
        now=request.app[CLOCK](),
    )
    return ok({"id": new_id, "effective_on": effective}, 201)


async def set_lease_terms(request: web.Request) -> web.Response:
    admin(request)
    data = await body(request, LEASE)
    account_id = path_id(request)
    await _invoicing(request).set_lease_driver(
        account_id,
        data["charge_point_id"],
        data["rate_cents_per_kwh"],
        data.get("iban"),
        data.get("active_from"),
        now=request.app[CLOCK](),
    )
    return ok({"account_id": account_id, **data})


async def set_electricity_cost(request: web.Request) -> web.Response:
    """What a guest-usage owner pays for electricity (the cap when other MSPs don't pay)."""
    admin(request)
    data = await body(request, COST)
    account_id = path_id(request)
    await _invoicing(request).set_electricity_cost(
        account_id, data["cents_per_kwh"], now=request.app[CLOCK]()
    )
    return ok({"account_id": account_id, "cents_per_kwh": data["cents_per_kwh"]})


async def payment_state(request: web.Request) -> web.Response:
    text = request.query.get("as_of")
    as_of = schemas.day(text) if text is not None else local_date(request.app[CLOCK]())
    state = await _invoicing(request).payment_state(path_id(request), scope(request), as_of)
    return ok(state)


async def record_payment(request: web.Request) -> web.Response:
    admin(request)
    data = await body(request, PAYMENT)
    state = await _invoicing(request).record_payment(
        path_id(request), data["cents"], now=request.app[CLOCK]()
    )
    return ok(state, 201)


async def send_reminder(request: web.Request) -> web.Response:
    admin(request)
    data = await body(request, REMINDER)
    state = await _invoicing(request).send_reminder(
        path_id(request), _today(request, data), now=request.app[CLOCK]()
    )
    return ok(state, 201)


async def prepaid_ledger(request: web.Request) -> web.Response:
    return ok(await _invoicing(request).prepaid_ledger(path_id(request), scope(request)))


def setup(app: web.Application) -> None:
    r = app.router
    r.add_post("/api/v1/accounts/{id}/charges", add_charge)
    r.add_put("/api/v1/accounts/{id}/lease-terms", set_lease_terms)
    r.add_put("/api/v1/accounts/{id}/electricity-cost", set_electricity_cost)
    r.add_get("/api/v1/accounts/{id}/prepaid", prepaid_ledger)
    r.add_post("/api/v1/subscriptions/{id}/outages", record_outage)
    r.add_post("/api/v1/indexations", record_indexation)
    r.add_get("/api/v1/invoices/{id}/payment", payment_state)
    r.add_post("/api/v1/invoices/{id}/payments", record_payment)
    r.add_post("/api/v1/invoices/{id}/reminders", send_reminder)
