"""The console's forms as a browser sends them, over aiohttp (tests without a browser)."""

from __future__ import annotations

import re

import aiohttp

from tests.runner.support import Api

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


async def login(
    api: Api, user: str, password: str, *, csrf: str | None = "match"
) -> aiohttp.ClientResponse:
    """The login form with the login page's cookie and its token (`csrf`: another token or
    None to leave it out)."""
    async with api.http.get(f"{api.base}/console/login") as page:
        token = page.cookies["eflux_console_login"].value
    given = token if csrf == "match" else csrf
    form = {"user": user, "password": password, **({"csrf": given} if given else {})}
    return await api.http.post(
        f"{api.base}/console/login",
        data=form,
        headers={"Cookie": f"eflux_console_login={token}"},
        allow_redirects=False,
    )


async def session_of(api: Api, user: str, password: str) -> str:
    response = await login(api, user, password)
    assert response.status == 303, await response.text()
    return response.cookies["eflux_console"].value


async def page(api: Api, session: str, path: str) -> tuple[int, str, str | None]:
    """(status, html, the page's CSRF token)."""
    async with api.http.get(
        f"{api.base}{path}", headers={"Cookie": f"eflux_console={session}"}, allow_redirects=False
    ) as response:
        html = await response.text()
    found = _CSRF.search(html)
    return response.status, html, found[1] if found else None


async def submit(
    api: Api, session: str, path: str, form: dict[str, str]
) -> tuple[int, str | None, str]:
    """(status, Location, body) of a form POST."""
    async with api.http.post(
        f"{api.base}{path}",
        data=form,
        headers={"Cookie": f"eflux_console={session}"},
        allow_redirects=False,
    ) as response:
        return response.status, response.headers.get("Location"), await response.text()
