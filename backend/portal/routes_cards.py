"""My charge cards: list, report lost (blocked at once), order a replacement (fee shown first)."""

from __future__ import annotations

from aiohttp import web

from ..billing.plans import LOST_CARD_REPLACEMENT_FEE
from ..store import CardStatus
from .ctx import account_of, actor_of, now_of, path_id, store_of
from .middleware import redirect
from .render import render

MAX_CARDS = 500


async def cards(request: web.Request) -> web.Response:
    account = account_of(request)
    store = store_of(request)
    return render(
        request,
        "cards.html",
        cards=await store.cards.list_cards(account, limit=MAX_CARDS),
        lost_at=await store.cards.lost_times(account),
        ordered=await store.cards.replacements_ordered(account),
        fee=LOST_CARD_REPLACEMENT_FEE.cents,
        done=request.query.get("done", ""),
    )


async def confirm_lost(request: web.Request) -> web.Response:
    card = await store_of(request).cards.get_card(path_id(request), account_of(request))
    return render(request, "card_lost.html", card=card, fee=LOST_CARD_REPLACEMENT_FEE.cents)


async def report_lost(request: web.Request) -> web.Response:
    form = await request.post()
    await store_of(request).cards.report_lost(
        path_id(request),
        account_of(request),
        now=now_of(request),
        actor=actor_of(request),
        order_replacement=form.get("replacement") == "1",
    )
    return redirect("/cards?done=lost")


async def confirm_replacement(request: web.Request) -> web.Response:
    card = await store_of(request).cards.get_card(path_id(request), account_of(request))
    if card.status is not CardStatus.LOST:
        raise web.HTTPConflict(reason="report the card lost first")
    return render(request, "card_replace.html", card=card, fee=LOST_CARD_REPLACEMENT_FEE.cents)


async def order_replacement(request: web.Request) -> web.Response:
    await store_of(request).cards.order_replacement(
        path_id(request), account_of(request), now=now_of(request), actor=actor_of(request)
    )
    return redirect("/cards?done=ordered")


def setup(app: web.Application) -> None:
    app.router.add_get("/cards", cards)
    app.router.add_get("/cards/{id}/lost", confirm_lost)
    app.router.add_post("/cards/{id}/lost", report_lost)
    app.router.add_get("/cards/{id}/replace", confirm_replacement)
    app.router.add_post("/cards/{id}/replace", order_replacement)
