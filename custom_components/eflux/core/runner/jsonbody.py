"""A bounded JSON reader for the local API's request bodies.

`json.loads` recurses once per nesting level (100,000 levels raised RecursionError → 500), reads
lone surrogates from `\\ud800` escapes and NUL from `\\u0000`, and raises ValueError for integers
longer than Python reads. Here all of that is a `BodyError` the API answers with 400.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

MAX_DEPTH = 16  # the deepest body of the local API (prices) is 3 levels
_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")


class BodyError(ValueError):
    """The body is not a JSON document the API accepts; the text says why."""


def read_json(
    raw: bytes,
    *,
    max_bytes: int,
    max_depth: int = MAX_DEPTH,
    parse_float: Callable[[str], Any] | None = None,
    parse_constant: Callable[[str], Any] | None = None,
) -> Any:
    """`raw` as JSON: at most `max_bytes` bytes of UTF-8, nested at most `max_depth` deep, no NUL
    or lone surrogate in any string or key (`parse_float`/`parse_constant` as in `json.loads`)."""
    if len(raw) > max_bytes:
        raise BodyError(f"body is larger than {max_bytes} bytes")
    try:
        data = json.loads(
            raw.decode("utf-8"), parse_float=parse_float, parse_constant=parse_constant
        )
    except UnicodeDecodeError:
        raise BodyError("body is not UTF-8 text") from None
    except RecursionError:
        raise BodyError(f"body is nested deeper than {max_depth} levels") from None
    except json.JSONDecodeError as err:
        raise BodyError(f"body is not JSON: {err}") from None
    except ValueError as err:  # too many digits, or parse_constant refusing NaN
        raise BodyError(f"body is not JSON: {err}") from None
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:  # no recursion: depth and strings checked on the parsed tree
        value, depth = stack.pop()
        if isinstance(value, str):
            _text(value)
        elif isinstance(value, dict | list):
            if depth > max_depth:
                raise BodyError(f"body is nested deeper than {max_depth} levels")
            items = value.values() if isinstance(value, dict) else value
            if isinstance(value, dict):
                for key in value:
                    _text(key)
            stack.extend((v, depth + 1) for v in items)
    return data


def _text(value: str) -> None:
    if _BAD_TEXT.search(value) is not None:
        raise BodyError("body has a NUL character or an unpaired surrogate in a string")
