"""Timestamps on the wire (ISO 8601) and in the database (UTC, sortable as text)."""

from __future__ import annotations

from datetime import UTC, datetime

from .errors import RpcCode, RpcError


def parse_timestamp(value: object, field_name: str = "timestamp") -> datetime:
    """A charger's date-time as aware UTC; a naive one is taken as UTC (common in 1.6).

    The schema says `format: date-time` but the `ocpp` library does not check formats, and our
    ordering of offline-queued messages depends on it: a bad one is a PropertyConstraintViolation.
    """
    if not isinstance(value, str):
        raise RpcError(RpcCode.TYPE_CONSTRAINT, f"{field_name} must be a date-time string")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise RpcError(
            RpcCode.PROPERTY_CONSTRAINT, f"{field_name} {value[:40]!r} is not an ISO 8601 date-time"
        ) from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def to_wire(moment: datetime) -> str:
    """UTC with a Z, as most chargers expect."""
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def to_db(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def from_db(text: str | None) -> datetime | None:
    if text is None:
        return None
    return datetime.fromisoformat(text)
