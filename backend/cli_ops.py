"""`eflux-backend` verbs for what the portal and /api/v1 do, for an operator's scripts:

    eflux-backend card replace --card 7
    eflux-backend account set-iban --account 3 --iban "NL91 ABNA 0417 1643 00"
    eflux-backend charge-point guest-usage --charge-point 2 --open --per-kwh-cents 35
    eflux-backend plans
    eflux-backend subscription show|notice 5          (notice: --on YYYY-MM-DD, default today)
    eflux-backend subscription switch 5 --plan CARD-FLEX
    eflux-backend installation advise|order ...       (the advisor's answers, see --help)
    eflux-backend installation list [--account 3] | show 4
    eflux-backend installation step 4 --action approve --on 2026-11-28 --text CP-HOME

They act as an administrator (every account) through the same service functions as the API
and the portal, and print the result as JSON on stdout. A refusal (unknown id, a step the
terms refuse, an invalid IBAN) is one line on stderr and exit status 1.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Awaitable, Callable
from datetime import date
from decimal import Decimal
from typing import Any

from .api.http import plain
from .billing.advisor import Situation, recommend, situation
from .billing.calendar import local_date
from .services import subscriptions
from .storage.timefmt import utc_now
from .store import Step, StepAction, Store

ACTOR = "cli"
Work = Callable[[Store, argparse.Namespace], Awaitable[Any]]


def add_parsers(sub: Any) -> None:
    card = sub.add_parser("card", help="a lost card's replacement")
    card_sub = card.add_subparsers(dest="action", required=True)
    replace = card_sub.add_parser("replace", help="order a replacement (€7.50) for a lost card")
    replace.add_argument("--card", type=int, required=True, help="card id")

    account = sub.add_parser("account", help="an account's bank account")
    account_sub = account.add_subparsers(dest="action", required=True)
    iban = account_sub.add_parser("set-iban", help="store a checked IBAN")
    iban.add_argument("--account", type=int, required=True)
    iban.add_argument("--iban", required=True)

    point = sub.add_parser("charge-point", help="a charge point's guest usage")
    point_sub = point.add_subparsers(dest="action", required=True)
    guest = point_sub.add_parser("guest-usage", help="open or close to guests at a tariff")
    guest.add_argument("--charge-point", type=int, required=True)
    opened = guest.add_mutually_exclusive_group(required=True)
    opened.add_argument("--open", action="store_true")
    opened.add_argument("--close", action="store_true")
    for part in ("start", "per-kwh", "per-minute"):
        guest.add_argument(f"--{part}-cents", type=Decimal, default=Decimal(0), help="incl. VAT")

    sub.add_parser("plans", help="the plans on offer")

    subscription = sub.add_parser("subscription", help="a subscription's dates, notice, switch")
    sub_sub = subscription.add_subparsers(dest="action", required=True)
    for name, text in (
        ("show", "its dates (minimum-term end, last day for notice)"),
        ("notice", "ordinary notice, received --on (default today)"),
        ("switch", "switch plan from the 1st of next month (fee €7.50)"),
    ):
        verb = sub_sub.add_parser(name, help=text)
        verb.add_argument("id", type=int)
        verb.add_argument("--on", type=date.fromisoformat, help="YYYY-MM-DD (default today)")
        if name == "switch":
            verb.add_argument("--plan", required=True, help="the new plan's code")

    _installation_parser(sub)


def _installation_parser(sub: Any) -> None:
    inst = sub.add_parser("installation", help="installation orders (seed 002)")
    inst_sub = inst.add_subparsers(dest="action", required=True)
    for name, text in (("advise", "the advisor's recommendation"), ("order", "order it")):
        verb = inst_sub.add_parser(name, help=text)
        if name == "order":
            verb.add_argument("--account", type=int, required=True)
        verb.add_argument("--phases", type=int, choices=(1, 3), required=True)
        verb.add_argument("--cable-mm2", type=Decimal, required=True)
        verb.add_argument("--car-max-kw", type=Decimal, required=True)
        verb.add_argument("--battery-kwh", type=Decimal, required=True)
        verb.add_argument("--public", action="store_true")
        verb.add_argument("--outdoor", action="store_true")
        verb.add_argument("--limited-power", action="store_true")
        verb.add_argument("--back-office", action="store_true")
    listing = inst_sub.add_parser("list", help="orders, newest first")
    listing.add_argument("--account", type=int)
    show = inst_sub.add_parser("show", help="one order")
    show.add_argument("id", type=int)
    step = inst_sub.add_parser("step", help="move an order one step")
    step.add_argument("id", type=int)
    step.add_argument("--action", dest="step", choices=[a.value for a in StepAction], required=True)
    step.add_argument("--on", type=date.fromisoformat, required=True, help="YYYY-MM-DD")
    step.add_argument("--date", type=date.fromisoformat, help="the appointment/inspection day")
    step.add_argument(
        "--text", default="", help="test session id, charge point id, or reasons (one per line)"
    )


def _today(args: argparse.Namespace) -> date:
    on: date | None = args.on
    return on if on is not None else local_date(utc_now())


def _situation(args: argparse.Namespace) -> Situation:
    return situation(
        args.phases,
        args.cable_mm2,
        args.car_max_kw,
        args.battery_kwh,
        public=args.public,
        outdoor=args.outdoor,
        limited_power=args.limited_power,
        back_office=args.back_office,
    )


async def _card(store: Store, args: argparse.Namespace) -> Any:
    return await store.cards.order_replacement(args.card, None, now=utc_now(), actor=ACTOR)


async def _account(store: Store, args: argparse.Namespace) -> Any:
    return await store.accounts.set_iban(args.account, args.iban, now=utc_now(), actor=ACTOR)


async def _charge_point(store: Store, args: argparse.Namespace) -> Any:
    return await store.sites.set_guest_tariff(
        args.charge_point,
        None,
        guest_usage=args.open,
        start_cents=args.start_cents,
        per_kwh_cents=args.per_kwh_cents,
        per_minute_cents=args.per_minute_cents,
        now=utc_now(),
        actor=ACTOR,
    )


async def _plans(store: Store, args: argparse.Namespace) -> Any:
    return list((await subscriptions.load_plans(store.db)).values())


async def _subscription(store: Store, args: argparse.Namespace) -> Any:
    today = _today(args)
    if args.action == "notice":
        view = await subscriptions.give_notice_now(
            store.db, args.id, None, today, now=utc_now(), actor=ACTOR
        )
        return view.summary()
    if args.action == "switch":
        return await subscriptions.switch_plan(
            store.db, args.id, None, args.plan, today, now=utc_now(), actor=ACTOR
        )
    return (await subscriptions.subscription(store.db, args.id, None, today)).summary()


async def _installation(store: Store, args: argparse.Namespace) -> Any:
    orders = store.installations
    if args.action == "advise":
        return recommend(_situation(args))
    if args.action == "order":
        await store.accounts.get_account(args.account)
        now = utc_now()
        advice = recommend(_situation(args))
        return await orders.create(
            args.account, advice, now=now, today=local_date(now), actor=ACTOR
        )
    if args.action == "list":
        return await orders.list(args.account)
    if args.action == "show":
        return await orders.get(args.id)
    step = Step(StepAction(args.step), args.on, args.date, args.text)
    return await orders.step(args.id, step, now=utc_now(), actor=ACTOR)


WORK: dict[str, Work] = {
    "card": _card,
    "account": _account,
    "charge-point": _charge_point,
    "plans": _plans,
    "subscription": _subscription,
    "installation": _installation,
}


async def run(store: Store, args: argparse.Namespace) -> int:
    """One verb against an open store; its result as JSON on stdout."""
    print(json.dumps(plain(await WORK[args.command](store, args)), indent=2))
    return 0
