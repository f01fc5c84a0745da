"""Field values of the local API's JSON bodies that more than one route reads."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .errors import ApiError


def aware_time(value: Any, name: str) -> datetime:
    """An ISO 8601 time with a UTC offset, in UTC; a 400 naming the field otherwise."""
    if not isinstance(value, str):
        raise ApiError(400, "bad_request", f"{name} must be an ISO 8601 time")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ApiError(400, "bad_request", f"{name} is not an ISO 8601 time: {value!r}") from None
    if moment.tzinfo is None:
        raise ApiError(400, "bad_request", f"{name} needs a UTC offset (e.g. +01:00 or Z)")
    return moment.astimezone(UTC)
