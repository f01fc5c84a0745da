"""Cloud sync client: session outbox, card and departure pulls, backoff (no Home Assistant)."""

from .backoff import Backoff
from .client import (
    CardPull,
    CloudClient,
    CloudDeparture,
    CloudIdentity,
    SessionAck,
    api_base,
    check_token,
    session_to_json,
)
from .errors import CloudAuthError, CloudError, CloudRejected, CloudUnavailable
from .sync import CloudSync, SyncStatus

__all__ = [
    "Backoff",
    "CardPull",
    "CloudAuthError",
    "CloudClient",
    "CloudDeparture",
    "CloudError",
    "CloudIdentity",
    "CloudRejected",
    "CloudSync",
    "CloudUnavailable",
    "SessionAck",
    "SyncStatus",
    "api_base",
    "check_token",
    "session_to_json",
]
