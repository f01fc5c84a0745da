"""What every console handler shares: the site, who is logged in, the history and the stream."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from aiohttp import web

from ...runtime import LocalSite
from ..events import EventStream
from .auth import MANAGER, ConsoleAuth, Login, check_csrf
from .history import SiteHistory
from .ledger import ByCard, people, site_zone
from .render import page
from .residents import ResidentBook
from .store import ConsoleStore


@dataclass
class Console:
    site: LocalSite
    auth: ConsoleAuth
    history: SiteHistory
    stream: EventStream
    residents: ResidentBook
    store: ConsoleStore

    @property
    def zone(self) -> tzinfo:
        return site_zone(self.site)

    def people(self) -> ByCard:
        """Who holds each card now (ledger.people over the resident list)."""
        return people(self.site, self.residents.people())


CONSOLE = web.AppKey("console", Console)
Handler = Callable[[web.Request, Console, Login], Awaitable[web.StreamResponse]]


def need(role: str | None = None) -> Callable[[Handler], Callable[..., Any]]:
    """A handler for logged-in users (`role`: only that role); POSTs must carry the session's
    CSRF token. Not logged in: GET goes to the login page, anything else is a 403."""

    def wrap(handler: Handler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def run(request: web.Request) -> web.StreamResponse:
            console = request.app[CONSOLE]
            login = console.auth.current(request)
            if login is None:
                if request.method == "GET":
                    raise web.HTTPSeeOther("/console/login")
                return refuse(request, console, None, "error_login_needed")
            if role is not None and login.role != role:
                return refuse(request, console, login, "error_forbidden")
            if request.method == "POST":
                form = await request.post()
                if not check_csrf(login, form.get("csrf")):
                    return refuse(request, console, login, "error_csrf")
            return await handler(request, console, login)

        return run

    return wrap


def manager() -> Callable[[Handler], Callable[..., Any]]:
    return need(MANAGER)


def refuse(request: web.Request, console: Console, login: Login | None, key: str) -> web.Response:
    return page(request, "error.html", login, console.zone, status=403, message_key=key)
