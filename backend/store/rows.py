# ruff: noqa: S608  (SQL text is built from constant table and column names only)
"""Turning rows into records: one generic mapper driven by the dataclass field types."""

from __future__ import annotations

import dataclasses
import typing
from datetime import datetime
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import Any, TypeVar

from ..storage import Queries, Row, from_db
from .errors import NotFound

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


def scoped(sql: str, args: list[Any], scope: int | None, column: str = "account_id") -> str:
    """Append the caller's account filter (None = an admin: everything)."""
    if scope is None:
        return sql
    args.append(scope)
    return f"{sql} AND {column} = ?"


async def one[T](
    db: Queries,
    cls: type[T],
    table: str,
    record_id: int,
    scope: int | None,
    *,
    column: str = "account_id",
) -> T:
    """The record `record_id` of `table` in scope; NotFound otherwise (also for other accounts)."""
    args: list[Any] = [record_id]
    sql = scoped(f"SELECT {columns(cls)} FROM {table} WHERE id = ?", args, scope, column)
    row = await db.fetchrow(sql, *args)
    if row is None:
        raise NotFound(f"{table.removesuffix('s').replace('_', ' ')} {record_id} not found")
    return record(cls, row)


async def page[T](
    db: Queries,
    cls: type[T],
    table: str,
    scope: int | None,
    *,
    limit: int,
    after: int,
    column: str = "account_id",
) -> list[T]:
    """Records in scope after id `after`, in id order (keyset pagination)."""
    args: list[Any] = [after]
    sql = scoped(f"SELECT {columns(cls)} FROM {table} WHERE id > ?", args, scope, column)
    return records(cls, await db.fetch(sql + " ORDER BY id LIMIT ?", *args, limit))
