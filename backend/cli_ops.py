"""`eflux-backend` verbs for what the portal and /api/v1 do, for an operator's scripts:

    eflux-backend card replace|block|unblock|lost --card 7   (lost: --no-replacement)
    eflux-backend account set-iban --account 3 --iban "NL91 ABNA 0417 1643 00"
    eflux-backend charge-point guest-usage --charge-point 2 --open --per-kwh-cents 35
    eflux-backend plans [add --code C --name N --kind card --form fixed --monthly-fee-cents F …]
    eflux-backend subscription show|notice|withdraw 5     (--on YYYY-MM-DD, default today)
    eflux-backend subscription switch 5 --plan CARD-FLEX
    eflux-backend subscription apply --account 3 --plan CP-FIXED-1Y --charge-point 2 | accept 5
    eflux-backend installation advise|order ...       (the advisor's answers, see --help)
    eflux-backend installation list [--account 3] | show 4
    eflux-backend installation step 4 --action approve --on 2026-11-28 --text CP-HOME
    eflux-backend review list [--status pending] | accept 9 [--note ..] | reject 9 --reason ..
    eflux-backend review correct 9 --energy-wh 7400 --meter-start-wh 0 --meter-stop-wh 7400
    eflux-backend sessions --account 3 [--month 2026-11] [--card 7] [--charge-point 2]  (CSV)
    eflux-backend usage --account 3 [--month 2026-11]
    eflux-backend billing charge|outage|indexation|lease-terms|electricity-cost|payment-state|
        payment|reminder|prepaid …                           (backend/cli_billing.py)

They act as an administrator (every account) through the same service functions as the API
and the portal, and print the result as JSON on stdout (`sessions`: the portal's CSV). A
refusal (unknown id, a step the terms refuse, an invalid IBAN) is one line on stderr and exit
status 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import date
from decimal import Decimal
from typing import Any

from . import cli_billing
from .api.http import plain
from .billing.advisor import Situation, recommend, situation
from .billing.calendar import Month, local_date
from .billing.plans import PlanForm, PlanKind
from .services import installations, plans, subscriptions, withdrawal
from .services.sessions import SessionFilter, csv_text, month_usage, sessions_for
from .storage.timefmt import utc_now
from .store import CardStatus, Correction, Step, StepAction, Store

ACTOR = "cli"
Work = Callable[[Store, argparse.Namespace], Awaitable[Any]]


def add_parsers(sub: Any) -> None:
    card = sub.add_parser("card", help="block, unblock, report lost, order a replacement")
    card_sub = card.add_subparsers(dest="action", required=True)
    for name, text in (
        ("replace", "order a replacement (€7.50) for a lost card"),
        ("block", "block the card"),
        ("unblock", "unblock the card"),
        ("lost", "report lost: blocked at once, a replacement ordered (€7.50)"),
    ):
        verb = card_sub.add_parser(name, help=text)
        verb.add_argument("--card", type=int, required=True, help="card id")
        if name == "lost":
            verb.add_argument("--no-replacement", action="store_true")

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

    plans = sub.add_parser("plans", help="the plans on offer; `plans add` a new one")
    plans_sub = plans.add_subparsers(dest="action")
    add = plans_sub.add_parser("add", help="a new plan (billing's rules check it)")
    add.add_argument("--code", required=True)
    add.add_argument("--name", required=True)
    add.add_argument("--kind", type=PlanKind, choices=list(PlanKind), required=True)
    add.add_argument("--form", type=PlanForm, choices=list(PlanForm), required=True)
    add.add_argument("--monthly-fee-cents", type=int, default=0, help="incl. VAT")
    add.add_argument("--bundle-kwh", type=int, help="a card plan's bundle")
    add.add_argument("--overage-per-kwh-cents", type=Decimal, default=Decimal(0))
    add.add_argument("--duration-years", type=int, choices=(1, 2, 3))

    subscription = sub.add_parser("subscription", help="a subscription's dates, notice, switch")
    sub_sub = subscription.add_subparsers(dest="action", required=True)
    for name, text in (
        ("show", "its dates (minimum-term end, last day for notice)"),
        ("notice", "ordinary notice, received --on (default today)"),
        ("switch", "switch plan from the 1st of next month (fee €7.50)"),
        ("accept", "accept an application --on (default today): start and term follow"),
        ("reject", "decline an application"),
        ("withdraw", "a consumer's withdrawal within the cooling-off period, --on"),
    ):
        verb = sub_sub.add_parser(name, help=text)
        verb.add_argument("id", type=int)
        verb.add_argument("--on", type=date.fromisoformat, help="YYYY-MM-DD (default today)")
        if name == "switch":
            verb.add_argument("--plan", required=True, help="the new plan's code")
    applied = sub_sub.add_parser("apply", help="apply for a plan for an account")
    applied.add_argument("--account", type=int, required=True)
    applied.add_argument("--plan", required=True)
    applied.add_argument("--card", type=int, help="a card plan's card")
    applied.add_argument("--charge-point", type=int, help="a charge-point plan's charge point")
    applied.add_argument("--immediate-start", action="store_true")
    applied.add_argument("--on", type=date.fromisoformat, help="YYYY-MM-DD (default today)")

    _installation_parser(sub)
    _review_and_sessions_parsers(sub)
    cli_billing.add_parser(sub)


def _installation_parser(sub: Any) -> None:
    inst = sub.add_parser("installation", help="installation orders (seed 002)")
    inst_sub = inst.add_subparsers(dest="action", required=True)
    for name, text in (("advise", "the advisor's recommendation"), ("order", "order it")):
        verb = inst_sub.add_parser(name, help=text)
        if name == "order":
            verb.add_argument("--account", type=int, required=True)
            verb.add_argument("--plan", help="the charge-point plan approval starts")
            verb.add_argument("--immediate-start", action="store_true")
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


def _review_and_sessions_parsers(sub: Any) -> None:
    review = sub.add_parser("review", help="the review queue (sessions failing a rule)")
    review_sub = review.add_subparsers(dest="action", required=True)
    listing = review_sub.add_parser("list", help="sessions in a review state, oldest first")
    listing.add_argument("--status", default="pending")
    listing.add_argument("--limit", type=int, default=200)
    accept = review_sub.add_parser("accept", help="bill the session as reported")
    reject = review_sub.add_parser("reject", help="keep it unbilled for good")
    correct = review_sub.add_parser("correct", help="replace its energy and meter values")
    for verb in (accept, reject, correct):
        verb.add_argument("id", type=int)
    accept.add_argument("--note", default="")
    reject.add_argument("--reason", required=True)
    correct.add_argument("--note", default="")
    for name in ("energy-wh", "meter-start-wh", "meter-stop-wh"):
        correct.add_argument(f"--{name}", type=float, required=True)

    sessions = sub.add_parser("sessions", help="an account's sessions as the portal's CSV")
    usage = sub.add_parser("usage", help="what an account's own cards charged in a month")
    for verb in (sessions, usage):
        verb.add_argument("--account", type=int, required=True)
        verb.add_argument("--month", type=Month.parse, help="YYYY-MM")
    sessions.add_argument("--card", type=int)
    sessions.add_argument("--charge-point", type=int)


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
    cards, now = store.cards, utc_now()
    if args.action == "replace":
        return await cards.order_replacement(args.card, None, now=now, actor=ACTOR)
    if args.action == "lost":
        card, order = await cards.report_lost(
            args.card, None, now=now, actor=ACTOR, order_replacement=not args.no_replacement
        )
        return {"card": card, "replacement_order": order}
    status = CardStatus.BLOCKED if args.action == "block" else CardStatus.ACTIVE
    return await cards.set_status(args.card, None, status, now=now, actor=ACTOR)


async def _review(store: Store, args: argparse.Namespace) -> Any:
    review, now = store.review, utc_now()
    if args.action == "list":
        return await review.list(args.status, limit=args.limit)
    if args.action == "accept":
        return await review.accept(args.id, now=now, actor=ACTOR, note=args.note)
    if args.action == "reject":
        return await review.reject(args.id, now=now, actor=ACTOR, reason=args.reason)
    fix = Correction(args.energy_wh, args.meter_start_wh, args.meter_stop_wh, note=args.note)
    return await review.correct(args.id, fix, now=now, actor=ACTOR)


async def _sessions(store: Store, args: argparse.Namespace) -> Any:
    await store.accounts.get_account(args.account)
    flt = SessionFilter(args.month, args.card, args.charge_point)
    return csv_text(await sessions_for(store.db, args.account, flt))


async def _usage(store: Store, args: argparse.Namespace) -> Any:
    await store.accounts.get_account(args.account)
    month = args.month or Month.of(local_date(utc_now()))
    found = await month_usage(store.db, args.account, month)
    return {**plain(found), "month": str(found.month)}


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
    if args.action == "add":
        plan = plans.new_plan(
            args.code,
            args.name,
            args.kind,
            args.form,
            monthly_fee_cents=args.monthly_fee_cents,
            bundle=None if args.bundle_kwh is None else {"energy_wh": args.bundle_kwh * 1000},
            overage={"per_kwh_cents": args.overage_per_kwh_cents},
            duration_years=args.duration_years,
        )
        return await plans.add_plan(store.db, plan, now=utc_now(), actor=ACTOR)
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
    if args.action == "apply":
        await store.accounts.get_account(args.account)
        view = await subscriptions.apply(
            store.db,
            args.account,
            args.plan,
            today,
            card_id=args.card,
            charge_point_id=args.charge_point,
            immediate_start=args.immediate_start,
            now=utc_now(),
            actor=ACTOR,
        )
        return view.summary()
    if args.action == "accept":
        view = await subscriptions.accept_application(
            store.db, args.id, today, now=utc_now(), actor=ACTOR
        )
        return view.summary()
    if args.action == "withdraw":
        return await withdrawal.withdraw_now(
            store.db, args.id, None, today, now=utc_now(), actor=ACTOR
        )
    if args.action == "reject":
        await subscriptions.reject_application(store.db, args.id, today, now=utc_now(), actor=ACTOR)
        return {"id": args.id, "status": "rejected"}
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
            args.account,
            advice,
            now=now,
            today=local_date(now),
            actor=ACTOR,
            plan_code=args.plan,
            immediate_start=args.immediate_start,
        )
    if args.action == "list":
        return await orders.list(args.account)
    if args.action == "show":
        return await orders.get(args.id)
    step = Step(StepAction(args.step), args.on, args.date, args.text)
    return await installations.step(store, args.id, step, now=utc_now(), actor=ACTOR)


WORK: dict[str, Work] = {
    "card": _card,
    "account": _account,
    "charge-point": _charge_point,
    "plans": _plans,
    "subscription": _subscription,
    "installation": _installation,
    "review": _review,
    "sessions": _sessions,
    "usage": _usage,
    "billing": cli_billing.run,
}


async def run(store: Store, args: argparse.Namespace) -> int:
    """One verb against an open store; its result as JSON on stdout (text as it is)."""
    result = await WORK[args.command](store, args)
    if isinstance(result, str):
        sys.stdout.write(result)
    else:
        print(json.dumps(plain(result), indent=2))
    return 0
