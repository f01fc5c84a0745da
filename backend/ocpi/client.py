"""Calling another OCPI platform: the token header, the envelope, paging through Link."""

from __future__ import annotations

from typing import Any

import aiohttp

from .envelope import SUCCESS, UNABLE_TO_USE_CLIENT_API, OcpiError, dumps, loads, token_header

MAX_PAGES = 1000  # a party whose Link header never ends stops here
TIMEOUT_S = 30
MAX_ANSWER = 16 * 1024 * 1024  # a page of 100 locations is well below; a party cannot flood us


class Refused(OcpiError):
    """The party answered and refused the request (a 2xxx status or an HTTP 4xx)."""


class OcpiClient:
    """One aiohttp session for every party; the token is per call."""

    def __init__(self, session: aiohttp.ClientSession | None = None) -> None:
        self._own = session is None
        self._session = session

    async def close(self) -> None:
        if self._own and self._session is not None:
            await self._session.close()

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT_S))
        return self._session

    async def call(self, method: str, url: str, token: str, body: Any = None) -> Any:
        """The envelope's data; OcpiError 3001 when the party fails or answers nonsense."""
        data, _ = await self._call(method, url, token, body)
        return data

    async def get_all(self, url: str, token: str) -> list[Any]:
        """A paginated list: follows the Link rel="next" header the sender sets."""
        items: list[Any] = []
        next_url: str | None = url
        for _ in range(MAX_PAGES):
            if next_url is None:
                return items
            data, headers = await self._call("GET", next_url, token, None)
            if not isinstance(data, list):
                raise OcpiError(UNABLE_TO_USE_CLIENT_API, f"{next_url}: data is not a list")
            items.extend(data)
            next_url = _next_link(headers.get("Link", ""))
        raise OcpiError(UNABLE_TO_USE_CLIENT_API, f"{url}: more than {MAX_PAGES} pages")

    async def _call(
        self, method: str, url: str, token: str, body: Any
    ) -> tuple[Any, dict[str, str]]:
        headers = {"Authorization": token_header(token), "Accept": "application/json"}
        payload = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            payload = dumps(body)
        try:
            async with self._http().request(method, url, data=payload, headers=headers) as resp:
                raw = await resp.content.read(MAX_ANSWER + 1)
                answer_headers = dict(resp.headers)
                status = resp.status
        except (TimeoutError, aiohttp.ClientError) as err:
            raise OcpiError(UNABLE_TO_USE_CLIENT_API, f"{method} {url}: {err}", 502) from None
        if len(raw) > MAX_ANSWER:
            raise OcpiError(
                UNABLE_TO_USE_CLIENT_API, f"{method} {url}: answer over {MAX_ANSWER} bytes", 502
            )
        try:
            answer = loads(raw.decode("utf-8"))
        except (OcpiError, UnicodeDecodeError):
            raise OcpiError(
                UNABLE_TO_USE_CLIENT_API, f"{method} {url}: HTTP {status}, not an OCPI answer", 502
            ) from None
        code = answer.get("status_code") if isinstance(answer, dict) else None
        if status >= 300 or code != SUCCESS:
            message = answer.get("status_message") if isinstance(answer, dict) else None
            refused = 400 <= status < 500 or (isinstance(code, int) and 2000 <= code < 3000)
            raise (Refused if refused else OcpiError)(
                UNABLE_TO_USE_CLIENT_API,
                f"{method} {url}: HTTP {status}, status {code}: {message}",
                502,
            )
        return answer.get("data"), answer_headers


def _next_link(header: str) -> str | None:
    for part in header.split(","):
        target, _, params = part.partition(";")
        if 'rel="next"' in params.replace(" ", ""):
            return target.strip().strip("<>")
    return None
