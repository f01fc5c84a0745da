"""Jinja2 pages (autoescaped: every name a card, charger or resident carries is text)."""

from __future__ import annotations

from datetime import datetime, tzinfo
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from .auth import Login
from .i18n import LANG_COOKIE, language, translate

DASH = "\u2013"  # an en dash for "nothing"
_TEMPLATES = Path(__file__).resolve().parent / "templates"
SECURITY_HEADERS = {
    # No script but our own file, no frames, no inline handlers; the chart is inline SVG.
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


@cache
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def page(
    request: web.Request,
    template: str,
    login: Login | None,
    zone: tzinfo,
    *,
    status: int = 200,
    **values: Any,
) -> web.Response:
    lang = language(request)

    def t(key: str, **more: Any) -> str:
        return translate(lang, key, **more)

    def when(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
        return "" if value is None else value.astimezone(zone).strftime(fmt)

    def amps(value: float | None) -> str:
        return DASH if value is None else f"{value:.1f} A"

    def money(value: Decimal | None) -> str:
        if value is None:
            return DASH
        text = f"{value.quantize(Decimal('0.01')):,}"
        if lang == "nl":
            text = text.replace(",", " ").replace(".", ",")
        return f"€ {text}"

    def number(value: Decimal | float, places: int = 2) -> str:
        text = f"{float(value):,.{places}f}"
        return text.replace(",", " ").replace(".", ",") if lang == "nl" else text

    html = (
        environment()
        .get_template(template)
        .render(
            t=t,
            lang=lang,
            login=login,
            path=request.path,
            when=when,
            amps=amps,
            money=money,
            number=number,
            **values,
        )
    )
    response = web.Response(text=html, content_type="text/html", status=status)
    response.headers.update(SECURITY_HEADERS)
    if request.query.get("lang") in ("en", "nl"):
        response.set_cookie(LANG_COOKIE, lang, path="/console", samesite="Strict", httponly=True)
    return response
