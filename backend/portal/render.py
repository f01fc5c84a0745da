"""Jinja2 pages: autoescaped templates with the visitor's language, user and CSRF token."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from ..billing.calendar import AMSTERDAM
from ..billing.money import format_eur
from .i18n import LANG_COOKIE, LANGUAGES, language, translate
from .keys import TEMPLATES

_TEMPLATES = Path(__file__).resolve().parent / "templates"
CTX_USER = "portal_user"  # request keys set by the middleware
CTX_SESSION = "portal_session"


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATES),
        autoescape=True,  # every page is HTML: escape everything not marked safe
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["eur"] = lambda cents: format_eur(int(cents))
    env.filters["local"] = local_time
    env.filters["tariff"] = tariff_eur
    env.filters["kwh"] = lambda wh: f"{int(wh) / 1000:.2f}".replace(".", ",")
    return env


def tariff_eur(cents: Decimal) -> str:
    """A tariff part in cents as euros for a form field: '24.5' → '0,245', '100' → '1,00'."""
    value = (Decimal(cents) / 100).quantize(Decimal("0.0001")).normalize()
    if -value.as_tuple().exponent < 2:  # type: ignore[operator]
        value = value.quantize(Decimal("0.01"))
    return f"{value:f}".replace(".", ",")


def local_time(value: datetime | date | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.astimezone(AMSTERDAM).strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


def render(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    lang = language(request)
    session = request.get(CTX_SESSION)
    page = (
        request.app[TEMPLATES]
        .get_template(template)
        .render(
            t=lambda key, **kw: translate(lang, key, **kw),
            lang=lang,
            languages=LANGUAGES,
            user=request.get(CTX_USER),
            csrf=session.csrf if session is not None else "",
            path=request.path,
            **context,
        )
    )
    response = web.Response(text=page, status=status, content_type="text/html", charset="utf-8")
    if request.query.get("lang") in LANGUAGES:
        response.set_cookie(
            LANG_COOKIE, lang, max_age=365 * 86400, httponly=True, samesite="Lax", path="/"
        )
    return response
