"""Port probing used by the config flow and the runner."""

from __future__ import annotations

import socket

from custom_components.eflux.core.net import port_is_free
from tests.support.ports import free_port


def test_a_free_port_is_free() -> None:
    assert port_is_free(free_port(), "127.0.0.1")


def test_a_listening_port_is_taken() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        assert not port_is_free(listener.getsockname()[1], "127.0.0.1")
