"""The one input layer of the back end: ids, times, text and JSON bodies parsed so that bad
input is a `ParseError` (→ 400) and never an exception from deeper down (→ 500).

Why each rule: `str.isdigit()` accepts '²' (then `int()` raises) and full-width digits (then
`int()` reads them); an aware time near the end of year 9999 overflows when turned into UTC; a lone
surrogate cannot be encoded as UTF-8 and PostgreSQL refuses NUL in text; `json.loads` recurses
once per nesting level. Everything here is pure (no aiohttp), so routes, schemas, the portal's
forms and the tests share it.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

MAX_ID_DIGITS = 18  # below 2**63 - 1: every id fits a BIGINT
MIN_YEAR, MAX_YEAR = 1900, 2199  # any charger clock, without overflow at either end
MAX_TIME_TEXT = 40
MAX_DEPTH = 32  # our deepest body is 3 levels; generous, far below the recursion limit
MAX_BODY = 1024 * 1024

_ASCII_DIGITS = re.compile(rf"[0-9]{{1,{MAX_ID_DIGITS}}}", re.ASCII)
_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")  # NUL and lone surrogates


class ParseError(ValueError):
    """Input that does not parse; `status` is the HTTP answer (400, or 413 for size)."""

    def __init__(self, detail: str, status: int = 400, code: str = "invalid") -> None:
        super().__init__(detail)
        self.detail = detail
        self.status = status
        self.code = code


def digits(text: str | None, what: str = "value") -> int:
    """A non-negative integer written in 1-18 ASCII digits (no sign, no spaces, no '²')."""
    if text is None or _ASCII_DIGITS.fullmatch(text) is None:
        raise ParseError(
            f"{what} must be a non-negative integer of at most {MAX_ID_DIGITS} digits 0-9"
        )
    return int(text)


def clean_text(value: str, what: str = "text", max_len: int | None = None) -> str:
    """`value` unchanged if it has no NUL, no lone surrogate and at most `max_len` characters."""
    if max_len is not None and len(value) > max_len:
        raise ParseError(f"{what} is longer than {max_len} characters")
    if _BAD_TEXT.search(value) is not None:
        raise ParseError(f"{what} contains a NUL character or an unpaired surrogate")
    return value


def aware_time(value: object, what: str = "time") -> datetime:
    """An ISO-8601 time with a timezone whose UTC year is within 1900-2199."""
    if not isinstance(value, str) or len(value) > MAX_TIME_TEXT or not value.isascii():
        raise ParseError(f"{what}: expected an ISO-8601 time with a timezone")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as err:
        raise ParseError(f"{what}: expected an ISO-8601 time with a timezone") from err
    if parsed.tzinfo is None:
        raise ParseError(f"{what}: the time needs a timezone (e.g. Z or +01:00)")
    if not MIN_YEAR <= parsed.year <= MAX_YEAR:  # checked first: astimezone may overflow
        raise ParseError(f"{what}: the year must be between {MIN_YEAR} and {MAX_YEAR}")
    in_utc = parsed.astimezone(UTC)  # cannot overflow inside the bounds above
    if not MIN_YEAR <= in_utc.year <= MAX_YEAR:
        raise ParseError(f"{what}: the year must be between {MIN_YEAR} and {MAX_YEAR}")
    return parsed


def json_value(raw: bytes, *, max_bytes: int | None = MAX_BODY, max_depth: int = MAX_DEPTH) -> Any:
    """A JSON document of at most `max_bytes` UTF-8 bytes (None: the caller bounded it) nested
    at most `max_depth` deep whose strings (keys too) hold no NUL and no lone surrogate;
    NaN/Infinity are left to the schemas.
    """
    if max_bytes is not None and len(raw) > max_bytes:
        raise ParseError(f"the body is larger than {max_bytes} bytes", 413, "too_large")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ParseError("the body is not UTF-8 text", code="malformed_json") from err
    try:
        data = json.loads(text)
    except RecursionError as err:
        raise ParseError(f"the body is nested deeper than {max_depth} levels") from err
    except ValueError as err:  # JSONDecodeError, and ints longer than Python reads
        msg = err.msg if isinstance(err, json.JSONDecodeError) else "a number is too long"
        raise ParseError(f"the body is not valid JSON: {msg}", code="malformed_json") from err
    _check_tree(data, max_depth)
    return data


def _check_tree(data: Any, max_depth: int) -> None:
    """Depth and strings of a parsed document, without recursion."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            clean_text(value, "a string in the body")
        elif isinstance(value, dict | list):
            if depth > max_depth:
                raise ParseError(f"the body is nested deeper than {max_depth} levels")
            if isinstance(value, dict):
                for key in value:
                    clean_text(key, "a key in the body")
                stack.extend((v, depth + 1) for v in value.values())
            else:
                stack.extend((v, depth + 1) for v in value)
