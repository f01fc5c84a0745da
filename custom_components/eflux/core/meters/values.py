"""Checked getters for user mappings (YAML, config entries): each failure names the key."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .errors import MeterConfigError


class Fields:
    """Read typed values out of one mapping; errors carry `where` and the dotted key."""

    def __init__(self, data: Any, *, where: str, prefix: str = "") -> None:
        if not isinstance(data, Mapping):
            raise MeterConfigError(prefix or "(top level)", "must be a mapping", where=where)
        self.data: Mapping[str, Any] = data
        self.where = where
        self.prefix = prefix

    def key(self, name: str) -> str:
        if not name:
            return self.prefix or "(top level)"
        return f"{self.prefix}.{name}" if self.prefix else name

    def error(self, name: str, reason: str) -> MeterConfigError:
        return MeterConfigError(self.key(name), reason, where=self.where)

    def has(self, name: str) -> bool:
        return self.data.get(name) is not None

    def sub(self, name: str) -> Fields:
        return Fields(self.data.get(name, {}), where=self.where, prefix=self.key(name))

    def text(self, name: str, default: str | None = None) -> str:
        value = self.data.get(name, default)
        if value is None:
            raise self.error(name, "is required")
        if not isinstance(value, str) or not value.strip():
            raise self.error(name, f"must be a non-empty string, got {value!r}")
        return value.strip()

    def optional_text(self, name: str) -> str | None:
        return self.text(name) if self.has(name) else None

    def integer(self, name: str, default: int | None = None, *, low: int, high: int) -> int:
        value = self.data.get(name, default)
        if value is None:
            raise self.error(name, "is required")
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(name, f"must be a whole number, got {value!r}")
        if not low <= value <= high:
            raise self.error(name, f"must be between {low} and {high}, got {value}")
        return value

    def number(self, name: str, default: float | None = None, *, low: float, high: float) -> float:
        value = self.data.get(name, default)
        if value is None:
            raise self.error(name, "is required")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(name, f"must be a number, got {value!r}")
        if not low <= value <= high:  # also rejects NaN
            raise self.error(name, f"must be between {low} and {high}, got {value}")
        return float(value)

    def optional_number(self, name: str, *, low: float, high: float) -> float | None:
        return self.number(name, low=low, high=high) if self.has(name) else None

    def choice(self, name: str, options: tuple[str, ...], default: str | None = None) -> str:
        value = self.data.get(name, default)
        if value is None:
            raise self.error(name, f"is required (one of {', '.join(options)})")
        text = str(value)
        if text not in options:
            raise self.error(name, f"must be one of {', '.join(options)}, got {value!r}")
        return text

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.data.get(name, default)
        if not isinstance(value, bool):
            raise self.error(name, f"must be true or false, got {value!r}")
        return value

    def reject_unknown(self, allowed: set[str]) -> None:
        for name in self.data:
            if name not in allowed:
                raise self.error(str(name), f"unknown key (allowed: {', '.join(sorted(allowed))})")
