"""Typed access to one YAML mapping, with errors that name the full key (`chargers[CP1].mode`).

Every getter records the key it read; `done()` then refuses keys nobody asked for, so a typo such
as `max_curent_a` is an error instead of a silently ignored setting, and names the nearest known
key ("did you mean `max_current_a`?"). Top-level keys starting with `x-` are the file's own
(YAML anchors shared by several chargers, like docker-compose's `x-` keys) and are ignored.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Mapping
from enum import Enum
from typing import Any

from ..errors import ConfigError

_MISSING: Any = object()
EXTENSION_PREFIX = "x-"  # top-level keys for YAML anchors, ignored


class Section:
    def __init__(self, data: Any, key: str) -> None:
        if data is None:
            data = {}
        if not isinstance(data, Mapping):
            raise ConfigError(key or "(top level)", f"must be a mapping, got {_kind(data)}")
        self.data: Mapping[str, Any] = data
        self.key = key
        self._seen: set[str] = set()

    def path(self, name: str) -> str:
        return f"{self.key}.{name}" if self.key else name

    def raw(self, name: str, default: Any = _MISSING) -> Any:
        self._seen.add(name)
        if name in self.data and self.data[name] is not None:
            return self.data[name]
        if default is _MISSING:
            raise ConfigError(self.path(name), "is required")
        return default

    def has(self, name: str) -> bool:
        return self.data.get(name) is not None

    def section(self, name: str) -> Section:
        return Section(self.raw(name, {}), self.path(name))

    def items(self, name: str) -> list[Any]:
        value = self.raw(name, [])
        if not isinstance(value, list):
            raise ConfigError(self.path(name), f"must be a list, got {_kind(value)}")
        return value

    def text(self, name: str, default: Any = _MISSING) -> Any:
        value = self.raw(name, default)
        if value is default:
            return value
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise ConfigError(self.path(name), f"must be text, got {_kind(value)}")
        text = str(value).strip()
        if not text:
            raise ConfigError(self.path(name), "must not be empty")
        return text

    def number(
        self,
        name: str,
        default: Any = _MISSING,
        *,
        low: float | None = None,
        high: float | None = None,
    ) -> Any:
        value = self.raw(name, default)
        if value is default:
            return value
        return number(value, self.path(name), low=low, high=high)

    def integer(self, name: str, default: Any = _MISSING, *, low: int | None = None) -> Any:
        value = self.raw(name, default)
        if value is default:
            return value
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(self.path(name), f"must be a whole number, got {_kind(value)}")
        if low is not None and value < low:
            raise ConfigError(self.path(name), f"must be ≥ {low}, got {value}")
        return value

    def flag(self, name: str, default: Any = _MISSING) -> Any:
        value = self.raw(name, default)
        if value is default:
            return value
        if not isinstance(value, bool):
            raise ConfigError(self.path(name), f"must be true or false, got {_kind(value)}")
        return value

    def enum[E: Enum](self, name: str, kind: type[E], default: Any = _MISSING) -> Any:
        value = self.raw(name, default)
        if value is default:
            return value
        try:
            return kind(str(value).strip().lower())
        except ValueError:
            allowed = ", ".join(str(member.value) for member in kind)
            raise ConfigError(self.path(name), f"must be one of {allowed}, got {value!r}") from None

    def done(self) -> None:
        unknown = sorted(
            str(k) for k in self.data if k not in self._seen and not self._extension(k)
        )
        if unknown:
            raise ConfigError(self.path(unknown[0]), unknown_reason(unknown[0], self._seen))

    def _extension(self, name: Any) -> bool:
        return not self.key and isinstance(name, str) and name.startswith(EXTENSION_PREFIX)


def unknown_reason(name: str, known: Iterable[str]) -> str:
    """'unknown setting', with the closest known key when one is close enough."""
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
    return f"unknown setting; did you mean `{close[0]}`?" if close else "unknown setting"


def number(value: Any, key: str, *, low: float | None = None, high: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigError(key, f"must be a number, got {_kind(value)}")
    if low is not None and value < low:
        raise ConfigError(key, f"must be ≥ {low:g}, got {value:g}")
    if high is not None and value > high:
        raise ConfigError(key, f"must be ≤ {high:g}, got {value:g}")
    return float(value)


def phase_amps(value: Any, key: str) -> tuple[float, float, float]:
    """One number for all three phases, or a list of three."""
    if isinstance(value, list):
        if len(value) != 3:
            raise ConfigError(key, f"must be one number or three (L1, L2, L3), got {len(value)}")
        a, b, c = (number(v, f"{key}[{i}]", low=0.0) for i, v in enumerate(value))
        return (a, b, c)
    amps = number(value, key, low=0.0)
    return (amps, amps, amps)


def _kind(value: Any) -> str:
    if isinstance(value, str):
        return f"text {value!r}"
    if isinstance(value, bool):
        return f"{str(value).lower()}"
    if isinstance(value, int | float):
        return repr(value)
    return type(value).__name__
