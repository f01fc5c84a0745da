"""Client of the runner's local HTTP API (docs/local-api.md): the event stream and commands."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

# A site snapshot is a few KiB per charger; anything far larger is a broken or hostile peer.
MAX_EVENT_BYTES = 4 * 1024 * 1024
COMMAND_TIMEOUT_S = 60.0  # start/stop wait for the charger's answer


@dataclass(frozen=True, slots=True)
class CentralSettings:
    url: str
    token: str | None = None


@dataclass(frozen=True, slots=True)
class CommandResult:
    ok: bool
    status: int
    body: Any


class StreamError(Exception):
    """The event stream cannot be used (status, oversize event, bad JSON)."""


class CentralApi:
    def __init__(self, settings: CentralSettings, session: aiohttp.ClientSession) -> None:
        self._base = settings.url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {settings.token}"} if settings.token else {}
        self._session = session

    async def events(self) -> AsyncIterator[Mapping[str, Any]]:
        """Each `site` event of GET /api/events, decoded; ends when the server closes."""
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=60)
        async with self._session.get(
            f"{self._base}/api/events", headers=self._headers, timeout=timeout
        ) as response:
            if response.status != 200:
                raise StreamError(f"GET /api/events answered {response.status}")
            buffer = b""
            async for chunk in response.content.iter_any():
                buffer += chunk
                if len(buffer) > MAX_EVENT_BYTES:
                    raise StreamError(f"an event exceeds {MAX_EVENT_BYTES} bytes")
                while b"\n\n" in buffer:
                    raw, buffer = buffer.split(b"\n\n", 1)
                    event = _parse_event(raw)
                    if event is not None:
                        yield event

    async def command(self, charger: str, command: str, body: Mapping[str, Any]) -> CommandResult:
        """POST /api/chargers/{id}/{command} with a JSON body."""
        timeout = aiohttp.ClientTimeout(total=COMMAND_TIMEOUT_S)
        async with self._session.post(
            f"{self._base}/api/chargers/{charger}/{command}",
            json=dict(body),
            headers=self._headers,
            timeout=timeout,
        ) as response:
            try:
                answer: Any = await response.json(content_type=None)
            except (json.JSONDecodeError, aiohttp.ContentTypeError, UnicodeDecodeError):
                answer = {"error": "bad_answer", "message": "not JSON"}
            return CommandResult(response.status == 200, response.status, answer)


def _parse_event(raw: bytes) -> Mapping[str, Any] | None:
    name, data = "message", []
    for line in raw.decode("utf-8", errors="replace").splitlines():
        if line.startswith(":"):
            continue  # keepalive comment
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "event":
            name = value
        elif field == "data":
            data.append(value)
    if name != "site" or not data:
        return None
    try:
        decoded = json.loads("\n".join(data))
    except json.JSONDecodeError as err:
        raise StreamError(f"event is not JSON: {err}") from err
    if not isinstance(decoded, dict) or not isinstance(decoded.get("chargers"), dict):
        raise StreamError("event has no 'chargers' object")
    return decoded
