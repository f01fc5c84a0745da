"""Admin: the review queue — sessions that failed a plausibility rule at the door wait here,
billed by no run until accepted, corrected or rejected (`backend.store.review`; each decision
is audited). Under /admin, so the middleware answers 404 to anyone but an administrator."""

from __future__ import annotations

from aiohttp import web

from ..store import Correction
from .ctx import actor_of, now_of, path_id, store_of
from .forms import FormError, field
from .middleware import redirect
from .render import render

LIST_LIMIT = 200
MAX_WH = 1e9


def _wh(form: dict[str, str], name: str) -> float:
    text = form[name]
    if not text.isascii() or not text.replace(".", "", 1).isdigit():
        raise FormError("form.not_number", name=name)
    value = float(text)
    if value > MAX_WH:
        raise FormError("form.not_number", name=name)
    return value


async def review_page(request: web.Request) -> web.Response:
    store = store_of(request)
    return render(
        request,
        "review.html",
        pending=await store.review.list("pending", limit=LIST_LIMIT),
        done=request.query.get("done", ""),
    )


async def decide(request: web.Request) -> web.Response:
    raw = await request.post()
    form = {
        k: field(raw, k, 500)
        for k in ("action", "note", "energy_wh", "meter_start_wh", "meter_stop_wh")
    }
    review, session_id = store_of(request).review, path_id(request)
    now, actor = now_of(request), actor_of(request)
    if form["action"] == "accept":
        await review.accept(session_id, now=now, actor=actor, note=form["note"])
    elif form["action"] == "reject":
        if not form["note"]:
            raise FormError("review.reason_needed")
        await review.reject(session_id, now=now, actor=actor, reason=form["note"])
    elif form["action"] == "correct":
        fix = Correction(
            _wh(form, "energy_wh"),
            _wh(form, "meter_start_wh"),
            _wh(form, "meter_stop_wh"),
            note=form["note"],
        )
        await review.correct(session_id, fix, now=now, actor=actor)
    else:
        raise FormError("form.unknown_action")
    return redirect(f"/admin/review?done={form['action']}")


def setup(app: web.Application) -> None:
    app.router.add_get("/admin/review", review_page)
    app.router.add_post("/admin/review/{id}", decide)
