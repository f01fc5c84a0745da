"""A portal client over aiohttp (no browser) for the fast tests: forms with their CSRF token."""

from __future__ import annotations

import re
from typing import Any

from aiohttp.test_utils import TestClient

from .seed import PASSWORD

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class Portal:
    def __init__(self, client: TestClient[Any, Any]) -> None:
        self.client = client

    async def page(self, path: str) -> tuple[int, str]:
        async with self.client.get(path, allow_redirects=False) as response:
            return response.status, await response.text()

    async def csrf(self, path: str = "/portal/login") -> str:
        status, html = await self.page(path)
        match = _CSRF.search(html)
        assert match is not None, (status, html[:300])
        return match.group(1)

    async def post(
        self,
        path: str,
        form: dict[str, str],
        *,
        token_from: str | None = None,
    ) -> tuple[int, str, str]:
        """POST with the CSRF token of `token_from` (default: the same path's page)."""
        data = {"csrf": await self.csrf(token_from or path), **form}
        async with self.client.post(path, data=data, allow_redirects=False) as response:
            return response.status, response.headers.get("Location", ""), await response.text()

    async def login(self, email: str, password: str = PASSWORD) -> tuple[int, str, str]:
        return await self.post("/portal/login", {"email": email, "password": password})

    def cookie(self) -> str:
        for cookie in self.client.session.cookie_jar:
            if cookie.key == "eflux_portal":
                return cookie.value
        return ""
