"""`eflux-backend billing …`: what the next invoicing run bills besides sessions and fees, and
an invoice's collection, as /api/v1 records them (backend.services.billing, backend.invoicing):

    eflux-backend billing charge --account 3 --kind transfer --subscription 5 [--on DATE]
    eflux-backend billing charge --account 3 --kind misuse --costs-net-cents 1200
    eflux-backend billing outage --subscription 5 --from 2026-11-20T08:00+01:00 \\
        --to 2026-11-21T08:00+01:00 --cause our_software
    eflux-backend billing indexation --cpi-percent 3.1 --planned-on 2027-01-01 [--announced-on D]
    eflux-backend billing lease-terms --account 4 --charge-point 9 --rate-cents-per-kwh 30 \\
        [--iban I] [--active-from D]
    eflux-backend billing electricity-cost --account 3 --cents-per-kwh 24.5
    eflux-backend billing payment-state|payment|reminder --invoice 17 [--cents N] [--on D]
    eflux-backend billing prepaid --account 3
"""

from __future__ import annotations

import argparse
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from .billing.calendar import local_date
from .billing.outages import OutageCause
from .invoicing import Invoicing
from .parse import ParseError, aware_time
from .services import billing
from .storage.timefmt import utc_now
from .store import Store


def _time(text: str) -> datetime:
    try:
        return aware_time(text)
    except ParseError as err:
        raise argparse.ArgumentTypeError(err.detail) from None


def add_parser(sub: Any) -> None:
    group = sub.add_parser("billing", help="charges, outages, indexation, lease terms, payments")
    verbs = group.add_subparsers(dest="action", required=True)
    charge = verbs.add_parser("charge", help="a one-off charge (transfer €45, misuse)")
    charge.add_argument("--account", type=int, required=True)
    charge.add_argument("--kind", choices=billing.CHARGE_KINDS, required=True)
    charge.add_argument("--on", type=date.fromisoformat, help="YYYY-MM-DD (default today)")
    charge.add_argument("--subscription", type=int, help="transfer: the subscription moved")
    charge.add_argument("--costs-net-cents", type=int, default=0)
    charge.add_argument("--admin-net-cents", type=int, default=4000)
    charge.add_argument("--excess-mb", type=int, default=0)
    outage = verbs.add_parser("outage", help="a subscription's outage (credited when ours)")
    outage.add_argument("--subscription", type=int, required=True)
    outage.add_argument("--from", dest="started_at", type=_time, required=True)
    outage.add_argument("--to", dest="ended_at", type=_time, required=True)
    outage.add_argument("--cause", type=OutageCause, choices=list(OutageCause), required=True)
    index = verbs.add_parser("indexation", help="the yearly CPI indexation")
    index.add_argument("--cpi-percent", type=Decimal, required=True)
    index.add_argument("--planned-on", type=date.fromisoformat, required=True)
    index.add_argument("--announced-on", type=date.fromisoformat, help="default today")
    lease = verbs.add_parser("lease-terms", help="a lease driver's reimbursement terms")
    lease.add_argument("--account", type=int, required=True)
    lease.add_argument("--charge-point", type=int, required=True)
    lease.add_argument("--rate-cents-per-kwh", type=Decimal, required=True)
    lease.add_argument("--iban")
    lease.add_argument("--active-from", type=date.fromisoformat)
    cost = verbs.add_parser("electricity-cost", help="a guest-usage owner's electricity cost")
    cost.add_argument("--account", type=int, required=True)
    cost.add_argument("--cents-per-kwh", type=Decimal, required=True)
    for name, text in (
        ("payment-state", "where an invoice stands (--on: as of)"),
        ("payment", "a payment received (--cents)"),
        ("reminder", "the reminder, sent --on (default today)"),
    ):
        verb = verbs.add_parser(name, help=text)
        verb.add_argument("--invoice", type=int, required=True)
        verb.add_argument("--on", type=date.fromisoformat)
        if name == "payment":
            verb.add_argument("--cents", type=int, required=True)
    prepaid = verbs.add_parser("prepaid", help="an account's prepaid balance and ledger")
    prepaid.add_argument("--account", type=int, required=True)


async def run(store: Store, args: argparse.Namespace) -> Any:
    invoicing, now = Invoicing(store.db), utc_now()
    today: date = getattr(args, "on", None) or local_date(now)
    match args.action:
        case "charge":
            charge = billing.ChargeIn(
                args.kind,
                today,
                args.subscription,
                args.costs_net_cents,
                args.admin_net_cents,
                args.excess_mb,
            )
            return {"ids": await billing.add_charges(store.db, args.account, charge, now=now)}
        case "outage":
            new_id = await invoicing.record_outage(
                args.subscription, args.started_at, args.ended_at, args.cause, now=now
            )
            return {"id": new_id}
        case "indexation":
            announced = args.announced_on or local_date(now)
            new_id, effective = await billing.record_indexation(
                store.db, args.cpi_percent, args.planned_on, announced, now=now
            )
            return {"id": new_id, "effective_on": effective}
        case "lease-terms":
            await invoicing.set_lease_driver(
                args.account,
                args.charge_point,
                args.rate_cents_per_kwh,
                args.iban,
                args.active_from,
                now=now,
            )
            return {"account_id": args.account, "rate_cents_per_kwh": args.rate_cents_per_kwh}
        case "electricity-cost":
            await invoicing.set_electricity_cost(args.account, args.cents_per_kwh, now=now)
            return {"account_id": args.account, "cents_per_kwh": args.cents_per_kwh}
        case "payment-state":
            return await invoicing.payment_state(args.invoice, None, today)
        case "payment":
            return await invoicing.record_payment(args.invoice, args.cents, now=now)
        case "reminder":
            return await invoicing.send_reminder(args.invoice, today, now=now)
        case _:
            return await invoicing.prepaid_ledger(args.account, None)
