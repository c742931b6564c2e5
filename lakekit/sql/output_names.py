"""The names of a query's output columns, as Athena gives them.

Athena names a column reference after its column (``t.x`` -> ``x``, ``t.s.f`` -> ``f``)
and every other projection without an alias by its position: ``SELECT 5 / 2, 1`` is
headed ``_col0``, ``_col1``. DuckDB would head them ``(5 / 2)`` and ``1``, and sqlglot's
qualification names them ``_col_0`` and ``"1"``. Unnamed projections are marked
before qualification (which aliases everything) and named after it.
"""

from __future__ import annotations

from sqlglot import exp

#: ``meta`` key on an outermost projection the query did not name itself.
UNNAMED = "lakekit_unnamed"

_NAMED_BY_THEMSELVES = (exp.Alias, exp.Column, exp.Dot, exp.Star)


def _outermost_select(expression: exp.Expression) -> exp.Select | None:
    query = expression if isinstance(expression, exp.Query) else expression.find(exp.Query)
    while isinstance(query, (exp.SetOperation, exp.Subquery)):
        query = query.this  # a set operation's columns are named by its first branch
    return query if isinstance(query, exp.Select) else None


def mark_unnamed_projections(expression: exp.Expression) -> None:
    """Mark (in ``meta``, in place) the outermost projections that carry no name of their own."""
    select = _outermost_select(expression)
    if select is None:
        return
    for projection in select.expressions:
        if not isinstance(projection, _NAMED_BY_THEMSELVES):
            projection.meta[UNNAMED] = True


def name_outputs_as_athena(expression: exp.Expression) -> exp.Expression:
    """Alias, in place, the outermost unnamed projections ``_col0``, ``_col1`` ... by position.

    Works on a statement as parsed and on one qualified after
    :func:`mark_unnamed_projections`. After a ``*`` that is still unexpanded the
    positions are unknown, and DuckDB's names are left.

    >>> import sqlglot
    >>> name_outputs_as_athena(sqlglot.parse_one("SELECT 5 / 2, 1, x AS y, t.z FROM t", read="athena")).sql()
    'SELECT 5 / 2 AS _col0, 1 AS _col1, x AS y, t.z FROM t'
    """
    select = _outermost_select(expression)
    if select is None:
        return expression
    for position, projection in enumerate(list(select.expressions)):
        if isinstance(projection, exp.Star) or (isinstance(projection, exp.Column) and projection.is_star):
            break
        name = exp.to_identifier(f"_col{position}")
        if isinstance(projection, exp.Alias):
            if projection.this.meta.get(UNNAMED):
                projection.set("alias", name)
        elif isinstance(projection, exp.Dot):
            projection.replace(exp.alias_(projection.copy(), projection.name, quoted=True))
        elif not isinstance(projection, exp.Column):
            projection.replace(exp.alias_(projection.copy(), name))
    return expression
