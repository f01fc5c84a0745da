"""The building manager's console: server-rendered pages under /console on the API's port
(docs/console.md). `add_routes` is the one line `build_app` needs."""

from __future__ import annotations

from aiohttp import web

from ...runtime import LocalSite
from ..events import EventStream
from . import actions, pages, reports
from .auth import ConsoleAuth
from .context import CONSOLE, Console
from .history import SiteHistory

PREFIX = "/console"


def add_routes(app: web.Application, site_key: web.AppKey[LocalSite]) -> None:
    site = app[site_key]
    if not site.config.console.enabled:
        return
    history = SiteHistory()
    console = Console(site, ConsoleAuth(site.config.console), history, EventStream(site))
    app[CONSOLE] = console
    stop_history = site.add_listener(history.observe)

    async def close(_app: web.Application) -> None:
        stop_history()
        await console.stream.close()

    app.on_shutdown.append(close)  # type: ignore[arg-type]  # aiosignal typing skew
    history.observe(site.state())
    get, post = app.router.add_get, app.router.add_post
    get(PREFIX, pages.home)
    get(f"{PREFIX}/", pages.home)
    get(f"{PREFIX}/login", pages.login_form)
    post(f"{PREFIX}/login", pages.login_post)
    post(f"{PREFIX}/logout", pages.logout)
    get(f"{PREFIX}/site", pages.site_page)
    get(f"{PREFIX}/chargers", pages.chargers_page)
    get(f"{PREFIX}/chargers/{{id}}/{{action}}/confirm", actions.confirm)
    post(f"{PREFIX}/chargers/{{id}}/{{action}}", actions.perform)
    get(f"{PREFIX}/decisions", pages.decisions_page)
    get(f"{PREFIX}/events", pages.events)
    get(f"{PREFIX}/sessions", reports.sessions_page)
    get(f"{PREFIX}/sessions.csv", reports.sessions_csv)
    get(f"{PREFIX}/report", reports.report_page)
    get(f"{PREFIX}/report.csv", reports.report_csv)
    get(f"{PREFIX}/report.pdf", reports.report_pdf_file)
    get(f"{PREFIX}/static/{{name}}", pages.static)
