"""English and Dutch texts (locale/*.json) and the visitor's language.

The language comes from `?lang=`, then the `eflux_lang` cookie, then Accept-Language.
A key missing in Dutch falls back to English; a key missing in both shows as itself, and a
test checks that both files have the same keys.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from aiohttp import web

LANGUAGES = ("en", "nl")
LANG_COOKIE = "eflux_lang"
_LOCALE = Path(__file__).resolve().parent / "locale"


@cache
def texts(lang: str) -> dict[str, str]:
    data: dict[str, str] = json.loads((_LOCALE / f"{lang}.json").read_text(encoding="utf-8"))
    return data


def language(request: web.Request) -> str:
    asked = request.query.get("lang", "")
    if asked in LANGUAGES:
        return asked
    cookie = request.cookies.get(LANG_COOKIE, "")
    if cookie in LANGUAGES:
        return cookie
    accept = request.headers.get("Accept-Language", "").lower()
    return "nl" if accept.startswith("nl") else "en"


def translate(lang: str, key: str, **values: Any) -> str:
    text = texts(lang).get(key) or texts("en").get(key) or key
    return text.format(**values) if values else text
