"""Qualification: every column names its table alias; ``*`` expanded when the schema
knows the table (:func:`sqlglot.optimizer.qualify.qualify`), and where ``*`` was
written recorded first, since expansion erases it."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlglot import exp
from sqlglot.errors import OptimizeError
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import Scope

from lakekit.sql.output_names import mark_unnamed_projections
from lakekit.sql.parse import DIALECT
from lakekit.sql.schema import qualification_schema


def qualify_statement(
    expression: exp.Expression,
    schema: dict | None = None,
    default_database: str | None = None,
) -> exp.Expression:
    """A qualified copy of ``expression``: every column names its table alias.

    Stars are expanded when ``schema`` knows the table; columns the schema lacks are
    left as written rather than refused (the linter reports unknown objects).

    >>> from lakekit.sql.parse import parse_statements
    >>> stmt = parse_statements("SELECT user_id FROM events")[0]
    >>> qualify_statement(stmt, {"analytics": {"events": {"user_id": "string"}}}, "analytics").sql()
    'SELECT "events"."user_id" AS "user_id" FROM "analytics"."events" AS "events"'
    """
    return qualify_copy(expression, schema, default_database)[0]


def qualify_copy(
    expression: exp.Expression, schema: dict | None, default_database: str | None
) -> tuple[exp.Expression, StarMarks]:
    """Qualify a copy; also return where ``*`` was written (recorded before expansion)."""
    copy = expression.copy()
    stars = star_marks(copy)
    mark_unnamed_projections(copy)
    try:
        return (
            qualify(
                copy,
                dialect=DIALECT,
                db=default_database,
                schema=qualification_schema(schema),
                validate_qualify_columns=False,
            ),
            stars,
        )
    except (OptimizeError, AssertionError):  # sqlglot asserts on some valid SQL without a schema
        # e.g. an ambiguous column without a schema: qualify the tables, keep columns as written.
        copy = expression.copy()
        stars = star_marks(copy)
        mark_unnamed_projections(copy)
        return (
            qualify(copy, dialect=DIALECT, db=default_database, qualify_columns=False,
                    validate_qualify_columns=False),
            stars,
        )


@dataclass
class StarMarks:
    """Where ``*`` was written, recorded before qualification expands it."""

    all_sources: set[int] = field(default_factory=set)  # id(Select) with a bare *
    by_alias: set[tuple[int, str]] = field(default_factory=set)  # (id(Select), alias) for t.*


def star_marks(expression: exp.Expression) -> StarMarks:
    marks = StarMarks()
    for select in expression.find_all(exp.Select):
        for projection in select.expressions:
            if isinstance(projection, exp.Star):
                marks.all_sources.add(id(select))
            elif isinstance(projection, exp.Column) and isinstance(projection.this, exp.Star):
                marks.by_alias.add((id(select), projection.table))
    return marks


def attach_unqualified_columns(root: Scope) -> bool:
    """Give unqualified columns of single-source SELECTs their table.

    ``qualify`` leaves them alone when the schema lacks the table (or when there is no
    schema); in a SELECT that reads one source there is only one table they can mean.
    Output aliases referenced by ORDER BY and the like are left as they are.
    """
    changed = False
    for scope in root.traverse():
        select = scope.expression
        if not isinstance(select, exp.Select) or len(scope.selected_sources) != 1:
            continue
        [alias] = scope.selected_sources
        aliases = {
            p.alias
            for p in select.expressions
            if isinstance(p, exp.Alias) and not (isinstance(p.this, exp.Column) and p.this.name == p.alias)
        }
        projections = {id(p) for p in select.expressions}
        for column in scope.unqualified_columns:
            if isinstance(column.this, exp.Star):
                continue
            if column.name in aliases and not inside(column, projections, select):
                continue
            column.set("table", exp.to_identifier(alias))
            changed = True
    return changed


def inside(node: exp.Expression, ids: set[int], stop: exp.Expression) -> bool:
    if not ids:
        return False
    current = node
    while current is not None and current is not stop:
        if id(current) in ids:
            return True
        current = current.parent
    return False
