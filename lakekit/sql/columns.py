"""Unknown columns, found before a query runs, with the column probably meant.

Athena refuses ``SELECT weathr FROM seattle`` at analysis (``Column 'weathr' cannot be
resolved``); lakekit says so before running or estimating anything, naming the table
and suggesting the closest name, as it does for a mistyped table. A column is checked
only where its source is known: a catalog table, or a subquery / ``VALUES`` list whose
output names are known. Anything else (an ``UNNEST`` alias, a source sqlglot cannot
see into) is left for the engine, so a valid query is never refused here.
"""

from __future__ import annotations

import difflib

from sqlglot import exp
from sqlglot.optimizer.scope import Scope, traverse_scope

from lakekit.errors import TrinoTypeError
from lakekit.sql.qualify import inside, qualify_copy
from lakekit.sql.schema import PSEUDO_COLUMNS, Schema


class ColumnNotFound(TrinoTypeError):
    """A column no source of the query has (Athena: ``Column 'x' cannot be resolved``)."""


def check_columns(
    expression: exp.Expression,
    schema: Schema | None,
    default_database: str | None = None,
    *,
    qualified: bool = False,
) -> None:
    """Raise :class:`ColumnNotFound` for the first column no source in reach has.

    ``qualified``: ``expression`` is already qualified against ``schema`` (the
    statement :func:`lakekit.sql.analyze` returns), so it is not qualified again.

    >>> from lakekit.sql.parse import parse_statements
    >>> schema = {"lake": {"seattle": {"weather": "string", "temp": "double"}}}
    >>> try:
    ...     check_columns(parse_statements("SELECT weathr FROM lake.seattle")[0], schema)
    ... except ColumnNotFound as error:
    ...     print(error)
    column 'weathr' cannot be resolved in seattle; did you mean weather?
    >>> check_columns(parse_statements("SELECT weather AS w FROM lake.seattle ORDER BY w")[0], schema)
    """
    if not qualified:
        expression, _ = qualify_copy(expression, schema, default_database)
    query = expression if isinstance(expression, exp.Query) else expression.find(exp.Query)
    if query is None:
        return
    for scope in traverse_scope(query):
        _check_scope(scope, schema or {})


def _check_scope(scope: Scope, schema: Schema) -> None:
    for column in scope.columns:
        if isinstance(column.this, exp.Star) or _is_lambda_parameter(column):
            continue
        if column.table:
            _check_qualified(column, scope, schema)
        else:
            _check_unqualified(column, scope, schema)


def _check_qualified(column: exp.Column, scope: Scope, schema: Schema) -> None:
    source = _source_in_reach(scope, column.table)
    if source is None:
        return  # not a source alias: a struct field access or something sqlglot resolves later
    known = _source_columns(source, schema)
    if known is None or column.name in known:
        return
    raise ColumnNotFound(_message(column.name, _source_label(column.table, source), known))


def _check_unqualified(column: exp.Column, scope: Scope, schema: Schema) -> None:
    select = scope.expression
    if (isinstance(select, exp.Select) and _in_clause(column, select, ("order", "group", "having"))
            and column.name in {p.alias_or_name for p in select.expressions}):
        return  # an output name, which ORDER BY (and sqlglot's GROUP BY / HAVING) may use
    candidates: set[str] = set()
    labels: list[str] = []
    current: Scope | None = scope
    while current is not None:  # correlated subqueries see the enclosing scopes' sources
        for alias, source in current.sources.items():
            known = _source_columns(source, schema)
            if known is None:
                return  # a source whose columns are unknown might have it
            if column.name in known:
                return
            candidates |= known
            labels.append(_source_label(alias, source))
        current = current.parent
    if not labels:
        return
    where = labels[0] if len(labels) == 1 else "any of " + ", ".join(labels)
    raise ColumnNotFound(_message(column.name, where, candidates))


def _source_in_reach(scope: Scope, alias: str):
    current: Scope | None = scope
    while current is not None:
        if alias in current.sources:
            return current.sources[alias]
        current = current.parent
    return None


def _source_columns(source, schema: Schema) -> set[str] | None:
    """The column names a source offers, or None when they cannot be known here."""
    if isinstance(source, exp.Table):
        if not isinstance(source.this, exp.Identifier):
            return None
        columns = schema.get(source.db, {}).get(source.name)
        if columns is None:
            return None
        return set(columns) | set(PSEUDO_COLUMNS)
    if isinstance(source, Scope):
        expression = source.expression
        if isinstance(expression, (exp.Select, exp.SetOperation)):
            names = expression.named_selects
            if not names or "*" in names or any(isinstance(s, exp.Star) or (isinstance(s, exp.Column) and s.is_star)
                                                for s in expression.selects):
                return None
            return set(names)
        if isinstance(expression, exp.Values):
            alias = expression.args.get("alias")
            columns = alias.columns if alias is not None else []
            return {c.name for c in columns} or None
    return None


def _source_label(alias: str, source) -> str:
    if isinstance(source, exp.Table):
        return source.name
    return alias


def _in_clause(node: exp.Expression, select: exp.Select, clauses: tuple[str, ...]) -> bool:
    parts = [select.args.get(c) for c in clauses]
    return inside(node, {id(p) for p in parts if p is not None}, select)


def _is_lambda_parameter(column: exp.Column) -> bool:
    node = column.parent
    while node is not None:
        if isinstance(node, exp.Lambda) and column.name in {p.name for p in node.expressions}:
            return True
        node = node.parent
    return False


def _message(name: str, where: str, candidates: set[str]) -> str:
    visible = sorted(c for c in candidates if c not in PSEUDO_COLUMNS or name.startswith("$"))
    close = difflib.get_close_matches(name, visible, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]}?" if close else f"its columns: {', '.join(visible[:12])}" + (
        " ..." if len(visible) > 12 else "")
    return f"column '{name}' cannot be resolved in {where}; {hint}"
