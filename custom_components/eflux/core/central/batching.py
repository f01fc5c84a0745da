"""Requests split to fit what a charger takes in one message: 2.0.1 DeviceDataCtrlr
ItemsPerMessage / BytesPerMessage (per GetVariables, SetVariables), 1.6 GetConfigurationMaxKeys.

A charger may refuse a bigger message outright (CALLERROR), so a request for many variables is
sent as several, each within both limits; their results are put together in order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .framing import MAX_MESSAGE_ID_LENGTH, call_text

# The message id is ours (a uuid4, 36 characters): sizes are measured with one that long.
_ID = "x" * MAX_MESSAGE_ID_LENGTH


def limit(configuration: Mapping[str, str], key: str) -> int | None:
    raw = (configuration.get(key) or "").strip()
    return int(raw) if raw.isdigit() and int(raw) > 0 else None


def split[T](
    items: Sequence[T],
    payload: Callable[[Sequence[T]], dict[str, Any]],
    action: str,
    max_items: int | None,
    max_bytes: int | None,
) -> list[list[T]]:
    """`items` in order, in as few batches as the limits allow; a single item too big for
    `max_bytes` still goes (alone): the charger judges it."""
    batches: list[list[T]] = []
    current: list[T] = []
    for item in items:
        candidate = [*current, item]
        full = max_items is not None and len(candidate) > max_items
        if not full and max_bytes is not None and current:
            full = len(call_text(_ID, action, payload(candidate)).encode()) > max_bytes
        if full:
            batches.append(current)
            candidate = [item]
        current = candidate
    if current:
        batches.append(current)
    return batches
