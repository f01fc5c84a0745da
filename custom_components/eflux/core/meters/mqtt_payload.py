"""One MQTT message to raw meter values: size and encoding checks, plain numbers, JSON paths.

The profiles (`mqtt_profiles`) say which topics to subscribe and what each carries (a `Route`);
this reads the messages, refusing anything unusable with a `PayloadError`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .profile import FIELDS
from .values import Fields

# A JSON document bigger than any real meter payload is refused unread (hostile or broken sender).
MAX_PAYLOAD_BYTES = 64 * 1024


class PayloadError(ValueError):
    """A message that cannot be used (too big, not JSON, wrong type); logged and ignored."""


@dataclass(frozen=True, slots=True)
class Route:
    """One subscribed topic: `plain` maps the whole payload to a raw key; `paths` reads JSON
    paths; `reader` turns the parsed JSON object into raw values; `heartbeat` carries no value
    (any payload) but proves the publisher alive, so a reading is emitted with the last values."""

    plain: str | None = None
    paths: Mapping[str, str] | None = None
    reader: Callable[[Mapping[str, Any]], dict[str, float]] | None = None
    heartbeat: bool = False


_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def parse_path(path: str) -> tuple[str | int, ...]:
    """`$.a.b[0].c` / `a.b[0].c` -> ('a', 'b', 0, 'c'); ValueError when malformed."""
    text = path.removeprefix("$").removeprefix(".")
    parts: list[str | int] = []
    pos = 0
    while pos < len(text):
        match = _PATH_PART.match(text, pos)
        if match is None:
            raise ValueError(f"malformed JSON path {path!r} at {text[pos:]!r}")
        parts.append(match.group(1) if match.group(1) is not None else int(match.group(2)))
        pos = match.end()
        if pos < len(text) and text[pos] == ".":
            pos += 1
    if not parts:
        raise ValueError(f"empty JSON path {path!r}")
    return tuple(parts)


def check_paths(paths: Mapping[str, str], fields: Fields) -> None:
    for key, path in paths.items():
        if key not in FIELDS:
            raise fields.error(key, f"unknown field (known: {', '.join(FIELDS)})")
        try:
            parse_path(path)
        except ValueError as err:
            raise fields.error(key, str(err)) from err


def number(value: Any, what: str) -> float:
    """A finite-or-NaN float from a JSON value; booleans and strings are wrong types."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PayloadError(f"{what}: expected a number, got {type(value).__name__} {value!r:.40}")
    return float(value)


def lookup(document: Any, path: tuple[str | int, ...]) -> Any:
    node = document
    for part in path:
        in_list = isinstance(part, int) and isinstance(node, list) and part < len(node)
        in_dict = isinstance(part, str) and isinstance(node, dict) and part in node
        if in_list or in_dict:
            node = node[part]
        else:
            return None
    return node


def decode(route: Route, payload: bytes) -> dict[str, float]:
    """Raw values from one message. Raises PayloadError for a payload that must be ignored."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise PayloadError(f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD_BYTES}")
    try:
        text = payload.decode("utf-8").strip()
    except UnicodeDecodeError as err:
        raise PayloadError(f"payload is not UTF-8: {err}") from err
    if route.heartbeat:
        return {}
    if route.plain is not None:
        if not text:
            return {}  # no value: DSMR-reader's None (a one-phase meter's L2/L3), a retain clear
        try:
            value = float(text)
        except ValueError as err:
            raise PayloadError(f"{route.plain}: expected a number, got {text[:40]!r}") from err
        if math.isinf(value):
            raise PayloadError(f"{route.plain}: {text[:40]!r} is not finite")
        return {route.plain: value}
    try:
        document = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as err:
        raise PayloadError(f"malformed JSON: {err}") from err
    if not isinstance(document, dict):
        raise PayloadError(f"expected a JSON object, got {type(document).__name__}")
    if route.reader is not None:
        return route.reader(document)
    values: dict[str, float] = {}
    problems: list[str] = []
    for key, path in (route.paths or {}).items():
        found = lookup(document, parse_path(path))
        if found is None:
            continue  # optional value (e.g. a one-phase Tasmota script, n_current null)
        try:
            values[key] = number(found, f"{key} at {path}")
        except PayloadError as err:
            problems.append(str(err))
    if problems:
        raise PayloadError("; ".join(problems))
    return values
