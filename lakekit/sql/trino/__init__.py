"""Athena's SQL (Trino) with Trino's semantics on DuckDB, or a refusal that says why.

:func:`translate` types a parsed statement as Trino does (:mod:`~lakekit.sql.trino.infer`),
rejects what Athena rejects (:class:`TrinoTypeError`), refuses what the local engine
cannot answer exactly as Athena would (:class:`NotSupportedLocally`), and rewrites the
rest into DuckDB SQL that gives Athena's answer (:mod:`~lakekit.sql.trino.emit`).

>>> import sqlglot
>>> translate(sqlglot.parse_one("SELECT 7 / 2, typeof(7 / 2)", read="athena"), {}).sql
'SELECT 7 // 2 AS "_col0", \\'integer\\' AS "_col1"'
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from lakekit.errors import NotSupportedLocally, TrinoTypeError

# The modules that define functions and node rules fill the tables both passes read
# (registry.FUNCTIONS, emit's rule table) when imported; importing them here, once, has
# every table complete whichever module of the package a caller imports first.
from lakekit.sql.trino import casts, datetime, formatting, functions, unnest  # noqa: F401
from lakekit.sql.trino.emit import Emitter
from lakekit.sql.trino.errors import not_supported
from lakekit.sql.trino.infer import Typer
from lakekit.sql.trino.literals import fix_parse
from lakekit.sql.trino.types import TType, parse_type

__all__ = ["NotSupportedLocally", "Translation", "TrinoTypeError", "TType", "check_plan", "check_types", "parse_type", "translate"]


@dataclass(frozen=True)
class Translation:
    """A statement as DuckDB SQL, the macros it calls, and its result's Trino types."""

    sql: str
    macros: frozenset[str]
    columns: tuple[tuple[str, TType], ...]


def _typed_copy(statement: exp.Expression, tables: dict, sql: str | None):
    if not isinstance(statement, (exp.Query, exp.Values)):
        raise not_supported(f"{statement.key.upper()} statements", "the local engine runs queries")
    tree = statement.copy()
    fix_parse(tree, sql)
    columns = Typer(tables).query(tree)
    return tree, columns


def check_types(statement: exp.Expression, tables: dict[str, dict[str, TType | str]], sql: str | None = None) -> list[tuple[str, TType]]:
    """Trino's analysis of ``statement`` without running it: its result columns, or the
    error Athena would report (:class:`TrinoTypeError`) or a refusal."""
    return _typed_copy(statement, tables, sql)[1]


def translate(statement: exp.Expression, tables: dict[str, dict[str, TType | str]], sql: str | None = None) -> Translation:
    """``statement`` (parsed in Athena's dialect) as DuckDB SQL with Trino's semantics.

    ``tables`` maps each table name the statement reads to its columns' types (Athena
    names such as ``bigint`` or ``array<string>``, or :class:`TType`). ``sql`` is the
    text the statement was parsed from, when there is one (some literals are read from it).
    """
    tree, columns = _typed_copy(statement, tables, sql)
    emitter = Emitter()
    out = emitter.run(tree)
    return Translation(out.sql(dialect="duckdb"), frozenset(emitter.macros), tuple(columns))


def check_plan(plan) -> list[tuple[str, TType]]:
    """Trino's analysis of a planned query (:class:`lakekit.plan.QueryPlan`) without
    running it: the result columns, or Athena's type error, or a refusal. For
    ``--dry-run``, which runs nothing but should reject what Athena rejects."""
    tables = {
        scan_plan.scan.node.name: {c.name: c.type for c in (*scan_plan.table.columns, *scan_plan.table.partition_keys)}
        for scan_plan in plan.plans
    }
    return check_types(plan.statement, tables, plan.sql)
