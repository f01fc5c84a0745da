"""`GET /api/events`: site snapshots as server-sent events.

Each client has a one-slot mailbox: a new snapshot replaces one it has not sent yet, so a slow
client only ever skips stale states and never holds the site back.
"""

from __future__ import annotations

import asyncio
import contextlib
import json

from aiohttp import web

from ..loadcontrol.snapshot import SiteSnapshot
from ..runtime import LocalSite

KEEPALIVE_S = 15.0


class _Client:
    def __init__(self) -> None:
        self.pending: SiteSnapshot | None = None
        self.ready = asyncio.Event()

    def offer(self, snapshot: SiteSnapshot) -> None:
        self.pending = snapshot  # newest wins
        self.ready.set()


class EventStream:
    def __init__(self, site: LocalSite) -> None:
        self._site = site
        self._clients: set[_Client] = set()
        self._closing = asyncio.Event()
        self._remove = site.add_listener(self._broadcast)

    def _broadcast(self, snapshot: SiteSnapshot) -> None:
        for client in self._clients:
            client.offer(snapshot)

    async def close(self) -> None:
        self._remove()
        self._closing.set()
        for client in self._clients:
            client.ready.set()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-cache",
                "X-Accel-Buffering": "no",
            }
        )
        await response.prepare(request)
        client = _Client()
        client.offer(self._site.state())  # the full state at once
        self._clients.add(client)
        try:
            while not self._closing.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(client.ready.wait(), KEEPALIVE_S)
                client.ready.clear()
                snapshot, client.pending = client.pending, None
                if snapshot is None:
                    if not self._closing.is_set():
                        await response.write(b": keepalive\n\n")
                    continue
                await response.write(_event(snapshot))
        except ConnectionResetError:
            pass  # the client went away
        finally:
            self._clients.discard(client)
        return response


def _event(snapshot: SiteSnapshot) -> bytes:
    data = snapshot.as_dict()
    chargers = data.pop("chargers")
    body = json.dumps({"site": data, "chargers": chargers}, separators=(",", ":"))
    return f"event: site\ndata: {body}\n\n".encode()
