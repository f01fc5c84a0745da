"""The logged-in user of a request, the account their pages show, and "now"."""

from __future__ import annotations

from datetime import date, datetime

from aiohttp import web

from ..billing.calendar import local_date
from ..parse import ParseError, digits
from ..storage import Database
from ..store import Store, User
from .keys import CLOCK, STORE
from .render import CTX_USER


def user_of(request: web.Request) -> User:
    user = request.get(CTX_USER)
    assert isinstance(user, User)  # the middleware sends anonymous visitors to the login page
    return user


def account_of(request: web.Request) -> int:
    """Customer pages always show the user's own account, admins included."""
    return user_of(request).account_id


def actor_of(request: web.Request) -> str:
    return f"user:{user_of(request).id}"


def now_of(request: web.Request) -> datetime:
    return request.app[CLOCK]()


def today_of(request: web.Request) -> date:
    return local_date(now_of(request))


def store_of(request: web.Request) -> Store:
    return request.app[STORE]


def db_of(request: web.Request) -> Database:
    return request.app[STORE].db


def path_id(request: web.Request, name: str = "id") -> int:
    try:
        return digits(request.match_info[name], name)
    except ParseError:
        raise web.HTTPNotFound() from None
