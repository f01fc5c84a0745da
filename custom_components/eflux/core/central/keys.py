"""camelCase -> snake_case payload keys, as the `ocpp` library converts them, memoised.

The library's `camel_to_snake_case` runs four string replaces and two regular expressions per
key of every message: ~0.3 ms for one 1.6 MeterValues of nine sampled values, more than the
rest of our handling. The same keys come again and again, so each is converted once; the memo
is bounded (keys are the charger's to choose: vendor data could otherwise grow it forever).
"""

from __future__ import annotations

from typing import Any

from ocpp.charge_point import camel_to_snake_case

MEMO_LIMIT = 4096
_memo: dict[str, str] = {}


def snake_key(key: str) -> str:
    snake = _memo.get(key)
    if snake is None:
        snake = camel_to_snake_case({key: None}).popitem()[0]
        if len(_memo) < MEMO_LIMIT:
            _memo[key] = snake
    return snake


def snake_keys(data: Any) -> Any:
    """`camel_to_snake_case(data)`, same result."""
    if isinstance(data, dict):
        return {snake_key(key): snake_keys(value) for key, value in data.items()}
    if isinstance(data, list):
        return [snake_keys(value) for value in data]
    return data
