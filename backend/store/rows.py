"""Turning rows into records: one generic mapper driven by the dataclass field types."""

from __future__ import annotations

import dataclasses
import typing
from datetime import datetime
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import Any, TypeVar

from ..storage import Row, from_db

T = TypeVar("T")


@cache
def _converters(cls: type[Any]) -> list[tuple[str, Any]]:
    hints = typing.get_type_hints(cls)
    out = []
    for field in dataclasses.fields(cls):
        kind = hints[field.name]
        args = [a for a in typing.get_args(kind) if a is not type(None)]
        base = args[0] if args else kind
        if base is datetime:
            conv: Any = from_db
        elif base is bool:
            conv = bool
        elif base is Decimal:
            conv = Decimal
        elif base is float:
            conv = float
        elif isinstance(base, type) and issubclass(base, Enum):
            conv = base
        else:
            conv = None
        out.append((field.name, conv))
    return out


def record[T](cls: type[T], row: Row) -> T:
    values = {}
    for name, conv in _converters(cls):  # type: ignore[arg-type]
        value = row[name]
        values[name] = conv(value) if conv is not None and value is not None else value
    return cls(**values)


def records[T](cls: type[T], rows: list[Row]) -> list[T]:
    return [record(cls, row) for row in rows]


def columns(cls: type[Any]) -> str:
    return ", ".join(f.name for f in dataclasses.fields(cls))
