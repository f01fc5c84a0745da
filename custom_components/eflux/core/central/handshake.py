"""Connections that never become websockets (a plain TCP connect, a port scanner, a health
check, an HTTP client): one DEBUG line with the peer, not the `websockets` library's ERROR
"opening handshake failed" with a traceback for each.
"""

from __future__ import annotations

import logging
from typing import Any

from websockets.asyncio.server import ServerConnection

_LOGGER = logging.getLogger(__name__)


class QuietHandshakeConnection(ServerConnection):
    async def handshake(self, *args: Any, **kwargs: Any) -> None:
        try:
            await super().handshake(*args, **kwargs)
        except Exception as err:  # the server aborts the connection: it is not OPEN
            cause = err.__cause__ or err.__context__
            detail = f"{err}" + (f" ({cause!r})" if cause is not None else "")
            _LOGGER.debug("%s: no websocket handshake: %s", _peer(self), detail)


def _peer(connection: ServerConnection) -> str:
    try:
        host, port = connection.remote_address[:2]
    except (TypeError, ValueError, OSError):
        return "unknown peer"
    return f"{host}:{port}"
