"""Evaluating expressions before a query runs: constants, and partition predicates
over the partitions' values, on an in-memory DuckDB with Athena's meaning."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import sqlglot  # noqa: F401 - the doctests use it
from sqlglot import exp

from lakekit.catalog.base import Partition, Table
from lakekit.duckdb_connection import duckdb_connect
from lakekit.errors import first_line
from lakekit.types import duckdb_type_or_none


def _evaluable_type(athena_type: str) -> str | None:
    """The DuckDB type constants of ``athena_type`` are evaluated as; None when the
    estimate does not evaluate them (binary values say nothing a range can use)."""
    return None if athena_type.lower() == "binary" else duckdb_type_or_none(athena_type)


def unqualified(condition: exp.Expression) -> exp.Expression:
    copy = condition.copy()
    for col in copy.find_all(exp.Column):
        col.set("table", None)
    return copy


class CannotEvaluate(Exception):
    """An expression the estimate cannot evaluate before the query runs."""


class ConstantEvaluator:
    """Evaluates constant expressions and partition predicates on an in-memory DuckDB.

    DuckDB runs the expressions after a sqlglot transpile from Athena's dialect, so
    ``concat(year, month) = '202403'``, ``CAST(month AS integer) BETWEEN 3 AND 5`` or
    ``date_parse(...)`` evaluate with the same meaning they have on Athena.

    >>> ev = ConstantEvaluator()
    >>> ev.constant(sqlglot.parse_one("DATE '2024-03-01' + INTERVAL '1' DAY", read="athena"), "date")
    datetime.date(2024, 3, 2)
    """

    def __init__(self) -> None:
        self._con = None
        self._cache: dict[tuple[str, str], Any] = {}

    def _connection(self):
        if self._con is None:
            self._con = duckdb_connect()
        return self._con

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None

    def constant(self, node: exp.Expression, athena_type: str) -> Any:
        """The value of a column-free expression, as the Python type of ``athena_type``."""
        value = _literal_value(node, athena_type)
        if value is not _NOT_LITERAL:
            return value
        sql = node.sql(dialect="duckdb")
        key = (sql, athena_type)
        if key not in self._cache:
            target = _evaluable_type(athena_type)
            if target is None:
                raise CannotEvaluate(f"type {athena_type}")
            try:
                row = self._connection().execute(f"SELECT CAST(({sql}) AS {target})").fetchall()[0]
            except Exception as ex:  # any DuckDB failure: not evaluable here
                raise CannotEvaluate(first_line(ex)) from ex
            self._cache[key] = _naive_utc(row[0])
        return self._cache[key]

    def filter_partitions(
        self, partitions: Sequence[Partition], keys: list[str], table: Table, condition: exp.Expression
    ) -> list[bool]:
        """Which partitions ``condition`` (over partition keys only) keeps."""
        con = self._connection()
        columns = {k: [p.values[i] if i < len(p.values) else None for p in partitions] for i, k in enumerate(keys)}
        arrow = pa.table({f"k{i}": pa.array(v, pa.string()) for i, v in enumerate(columns.values())})
        casts = []
        for i, key in enumerate(keys):
            column = table.column(key)
            target = _evaluable_type(column.type if column else "string") or "VARCHAR"
            casts.append(f'TRY_CAST(k{i} AS {target}) AS "{key}"')
        body = unqualified(condition).sql(dialect="duckdb")
        con.register("lakekit_partition_values", arrow)
        try:
            rows = con.execute(
                f"SELECT COALESCE(({body}), false) FROM (SELECT {', '.join(casts)} FROM lakekit_partition_values)"
            ).fetchall()
        except Exception as ex:  # the engine would fail or not prune: keep all
            raise CannotEvaluate(first_line(ex)) from ex
        finally:
            con.unregister("lakekit_partition_values")
        return [bool(r[0]) for r in rows]


_NOT_LITERAL = object()


def _naive_utc(value: Any) -> Any:
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def _literal_value(node: exp.Expression, athena_type: str) -> Any:
    """Fast path for plain literals; ``_NOT_LITERAL`` sends the rest to DuckDB."""
    if isinstance(node, exp.Paren):
        return _literal_value(node.this, athena_type)
    if isinstance(node, exp.Literal):
        if node.is_string:
            text = node.this
            if athena_type in ("string", "varchar") or athena_type.startswith(("varchar", "char")):
                return text
            return _NOT_LITERAL
        if athena_type in ("string", "varchar"):
            raise CannotEvaluate("a number compared with a string column")
        number = node.this
        return float(number) if any(ch in number for ch in ".eE") else int(number)
    if isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal) and not node.this.is_string:
        value = _literal_value(node.this, athena_type)
        return -value if isinstance(value, (int, float)) else _NOT_LITERAL
    if isinstance(node, exp.Boolean):
        return bool(node.this)
    if isinstance(node, exp.Null):
        raise CannotEvaluate("NULL")
    return _NOT_LITERAL
