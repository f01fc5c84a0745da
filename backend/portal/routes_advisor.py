"""The charger advisor: the FAQ's checks as a form, a recommendation, and ordering it."""

from __future__ import annotations

from aiohttp import web

from .advisor import recommend, situation_from
from .ctx import account_of, actor_of, now_of, store_of, today_of
from .forms import field
from .middleware import redirect
from .render import render

FIELDS = (
    "phases",
    "cable_mm2",
    "car_max_kw",
    "battery_kwh",
    "location",
    "outdoor",
    "limited_power",
    "back_office",
)


async def _answers(request: web.Request) -> dict[str, str]:
    form = await request.post()
    return {name: field(form, name, 20) for name in FIELDS}


async def advisor_page(request: web.Request) -> web.Response:
    return render(request, "advisor.html", answers=None, advice=None)


async def advise(request: web.Request) -> web.Response:
    answers = await _answers(request)
    advice = recommend(situation_from(answers))
    return render(request, "advisor.html", answers=answers, advice=advice)


async def order(request: web.Request) -> web.Response:
    # The advice is worked out again from the answers: a hidden field is never trusted.
    advice = recommend(situation_from(await _answers(request)))
    await store_of(request).installations.create(
        account_of(request),
        advice,
        now=now_of(request),
        today=today_of(request),
        actor=actor_of(request),
    )
    return redirect("/charge-points?done=ordered")


def setup(app: web.Application) -> None:
    app.router.add_get("/advisor", advisor_page)
    app.router.add_post("/advisor", advise)
    app.router.add_post("/advisor/order", order)
