"""Fixtures for the Home Assistant layer tests."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let HA load custom_components/eflux in every HA test."""


@pytest.fixture(autouse=True)
def allow_loopback_sockets(socket_enabled: None) -> None:
    """Our HA tests talk to real chargers and brokers; the plugin still limits them to 127.0.0.1."""
