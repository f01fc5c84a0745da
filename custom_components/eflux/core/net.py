"""Small network helpers shared by the central system, the config flow and the runner."""

from __future__ import annotations

import errno
import socket


def port_is_free(port: int, host: str = "0.0.0.0") -> bool:  # noqa: S104 - the default bind
    """Tell whether a TCP listener could bind `host:port` right now.

    SO_REUSEADDR matches what asyncio servers set, so a port in TIME_WAIT counts as free.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as err:
            if err.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True
