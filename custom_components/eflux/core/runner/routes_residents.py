"""The resident list through the local API (docs/local-api.md, the console's card → resident):

- GET /api/residents: every card's resident, apartment, whether they may log in to the console,
  and where the entry comes from (`site`: set here, `config`: site.yaml);
- GET /api/residents/{card}: one (404 when the card names nobody);
- PUT /api/residents/{card}: add or replace the card's entry set here
  {resident, apartment, console_password (a hash from `eflux-local --hash-password`)};
- DELETE /api/residents/{card}: remove the entry set here (site.yaml's stay: edit the file).

The API's guards apply as to every command (token, Host/Origin, JSON only: runner/guard.py).
A resident whose login changes (new password, none, removed) is logged out of the console.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..config.console import HASH_PATTERN, Resident
from .admin_api import read_object
from .console.context import CONSOLE
from .console.residents import RESIDENTS, Entry
from .errors import ApiError

FIELDS = frozenset({"resident", "apartment", "console_password"})
MAX_TEXT = 100


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/residents", get_residents)
    app.router.add_get("/api/residents/{card}", get_resident)
    app.router.add_put("/api/residents/{card}", put_resident)
    app.router.add_delete("/api/residents/{card}", delete_resident)


def entry_dict(entry: Entry) -> dict[str, Any]:
    person = entry.person
    return {
        "card": person.card,
        "resident": person.name,
        "apartment": person.apartment,
        "console_login": person.password_hash is not None,
        "source": entry.source,
    }


async def get_residents(request: web.Request) -> web.Response:
    entries = request.app[RESIDENTS].entries()
    listing = [entry_dict(entries[card]) for card in sorted(entries, key=str.casefold)]
    return web.json_response({"residents": listing})


async def get_resident(request: web.Request) -> web.Response:
    card = _card(request)
    entry = request.app[RESIDENTS].get(card)
    if entry is None:
        raise ApiError(404, "not_found", f"card {card!r} names no resident")
    return web.json_response(entry_dict(entry))


async def put_resident(request: web.Request) -> web.Response:
    card = _card(request)
    body = await read_object(request)
    unknown = sorted(set(body) - FIELDS)
    if unknown:
        raise ApiError(400, "bad_request", f"unknown field {unknown[0]!r}")
    name, apartment = _text(body, "resident"), _text(body, "apartment")
    if name is None and apartment is None:
        raise ApiError(400, "bad_request", "name a resident or an apartment (or both)")
    password = body.get("console_password")
    if password is not None and (not isinstance(password, str) or not HASH_PATTERN.match(password)):
        raise ApiError(
            400,
            "bad_request",
            "console_password must be a hash from `eflux-local --hash-password`, not a password",
        )
    book = request.app[RESIDENTS]
    before = book.get(card)
    entry = await book.put(Resident(card, name, apartment, password))
    if before is not None and before.person.password_hash != password:
        await _log_out(request, card)
    return web.json_response(entry_dict(entry), status=200 if before is not None else 201)


async def delete_resident(request: web.Request) -> web.Response:
    card = _card(request)
    book = request.app[RESIDENTS]
    if not await book.remove(card):
        entry = book.get(card)
        where = " (its entry is site.yaml's: edit the file)" if entry is not None else ""
        raise ApiError(404, "not_found", f"no resident set here for card {card!r}{where}")
    await _log_out(request, card)
    after = book.get(card)
    return web.json_response({"removed": card, "now": None if after is None else entry_dict(after)})


async def _log_out(request: web.Request, card: str) -> None:
    console = request.app.get(CONSOLE)
    if console is not None:
        await console.auth.end_logins(card)


def _card(request: web.Request) -> str:
    card = request.match_info["card"].strip()
    if not 0 < len(card) <= 36 or not (card.isascii() and card.isprintable()) or " " in card:
        raise ApiError(400, "bad_request", "card: 1 to 36 printable characters without spaces")
    return card


def _text(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not 0 < len(value.strip()) <= MAX_TEXT:
        raise ApiError(400, "bad_request", f"{name}: text of 1 to {MAX_TEXT} characters, or null")
    return value.strip()
