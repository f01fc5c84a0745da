"""Issue 19.2 at the header level: bytes that are not ASCII in the token, the portal cookie and
other headers (sent over a raw socket: HTTP clients refuse to) get a 4xx or a normal page,
never a 5xx, on the API and the portal, on both engines. (A non-ASCII bearer token raised
UnicodeEncodeError while hashing: 500.)"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio
from aiohttp.test_utils import TestServer

from backend.api import create_app
from backend.portal.clientaddr import ProxyTrust
from backend.store import Store

from .conftest import NOW

JUNK = [b"\xff\xfe", b"efx_\xed\xa0\x80", b"\xc3\xa9t\xc3\xa9\xe2\x80\xae"]
HEADERS = [
    b"Authorization: Bearer ",
    b"Authorization: ",
    b"Cookie: eflux_portal=",
    b"Cookie: eflux_lang=",
    b"Accept-Language: ",
    b"X-Forwarded-For: ",
    b"Forwarded: for=",
    b"Content-Type: application/json; charset=",
    b"X-Forwarded-Host: ",
]
PATHS = [
    b"GET /api/v1/me",
    b"POST /api/v1/sites",
    b"GET /portal/login",
    b"GET /portal/dashboard",
    b"POST /portal/login",
]


@pytest_asyncio.fixture
async def server(store: Store, tmp_path: Path) -> AsyncIterator[TestServer]:
    proxies = ProxyTrust.parse("127.0.0.1", "x-forwarded-for")  # the proxy headers are read
    running = TestServer(
        create_app(store, clock=lambda: NOW, portal_outbox=tmp_path, proxies=proxies),
        host="127.0.0.1",
    )
    await running.start_server()
    try:
        yield running
    finally:
        await running.close()


async def _status(server: TestServer, request_line: bytes, header: bytes) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    body = b'{"name": "x"}' if request_line.startswith(b"POST") else b""
    writer.write(
        request_line
        + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + header
        + b"\r\n"
        + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
        + body
    )
    await writer.drain()
    answer = await reader.read()
    writer.close()
    status_line = answer.split(b"\r\n", 1)[0]
    return int(status_line.split()[1])


async def test_non_ascii_header_bytes_are_never_5xx(server: TestServer) -> None:
    for name in HEADERS:
        for path in PATHS:
            for junk in JUNK:
                status = await _status(server, path, name + junk)
                assert status < 500, (path, name + junk, status)
