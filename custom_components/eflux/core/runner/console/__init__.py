"""The building manager's console: server-rendered pages under /console on the API's port
(docs/console.md). `add_routes` is the one line `build_app` needs.

The resident list (residents.py) is there even with the console off: the local API's
/api/residents, /api/cards and reports read it. What the console keeps (its chart, logins and
the residents set through the API) is in the site's SQLite file (store.py), opened when the app
starts and closed when it stops.
"""

from __future__ import annotations

from aiohttp import web

from ...runtime import LocalSite
from ..events import EventStream
from . import actions, pages, reports
from .auth import ConsoleAuth
from .context import CONSOLE, Console
from .history import SiteHistory
from .residents import RESIDENTS, ResidentBook
from .store import STORE, ConsoleStore

PREFIX = "/console"


def add_routes(app: web.Application, site_key: web.AppKey[LocalSite]) -> None:
    site = app[site_key]
    store = ConsoleStore(site.config.central.db_path)
    book = ResidentBook(site.config.console.residents)
    app[RESIDENTS] = book
    app[STORE] = store
    console: Console | None = None

    async def open_store(_app: web.Application) -> None:
        await store.open()
        await book.load(store)
        if console is not None:
            await console.history.load(store, site.clock.now())
            await console.auth.load(store)

    async def close_store(_app: web.Application) -> None:
        if console is not None:
            await console.history.flush()
            await console.auth.settle()
        await store.close()

    app.on_startup.append(open_store)  # type: ignore[arg-type]  # aiosignal typing skew
    app.on_cleanup.append(close_store)  # type: ignore[arg-type]
    if not site.config.console.enabled:
        return
    history = SiteHistory()
    auth = ConsoleAuth(site.config.console, book.people)
    console = Console(site, auth, history, EventStream(site), book, store)
    app[CONSOLE] = console
    stop_history = site.add_listener(history.observe)

    async def close(_app: web.Application) -> None:
        stop_history()
        await console.stream.close()

    app.on_shutdown.append(close)  # type: ignore[arg-type]  # aiosignal typing skew
    history.observe(site.state())
    get, post = app.router.add_get, app.router.add_post
    get("/", pages.to_console)  # the API's port opened in a browser: the console
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
