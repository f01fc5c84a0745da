"""English and Dutch (locale/*.json); ?lang=, then the cookie, then Accept-Language."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from aiohttp import web

LANGUAGES = ("en", "nl")
LANG_COOKIE = "eflux_console_lang"
_LOCALE = Path(__file__).resolve().parent / "locale"


@cache
def texts(lang: str) -> dict[str, str]:
    data: dict[str, str] = json.loads((_LOCALE / f"{lang}.json").read_text(encoding="utf-8"))
    return data


def language(request: web.Request) -> str:
    for asked in (request.query.get("lang", ""), request.cookies.get(LANG_COOKIE, "")):
        if asked in LANGUAGES:
            return asked
    return accepted(request.headers.get("Accept-Language", ""))


def accepted(header: str) -> str:
    """The first of our languages by the header's weights (`nl-NL,nl;q=0.9,en;q=0.8`)."""
    best, best_q = "en", -1.0
    for index, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        code = tag.strip().lower()[:2]
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if code in LANGUAGES and q > 0 and q - index * 1e-6 > best_q:
            best, best_q = code, q - index * 1e-6
    return best


def translate(lang: str, key: str, **values: Any) -> str:
    text = texts(lang).get(key) or texts("en").get(key) or key
    return text.format(**values) if values else text
