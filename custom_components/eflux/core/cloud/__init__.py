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
)
from .errors import CloudAuthError, CloudError, CloudRejected, CloudUnavailable
from .outbox import SqliteSessionOutbox, enqueue, session_to_json
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
    "SqliteSessionOutbox",
    "SyncStatus",
    "api_base",
    "check_token",
    "enqueue",
    "session_to_json",
]
