"""What a condition says about partitions alone: the part Athena can prune with.

Athena (Trino) prunes a table's partitions by evaluating each conjunct of a scan's
filter with the partition values bound and the row data unknown: a conjunct that
comes out false (or null) for a partition rules that partition out, whatever the
rows hold. :func:`partition_residual` computes, for one condition, the weakest
condition over partition keys alone that it implies: every atom that needs row data
(a data column, a subquery, a non-deterministic function) is replaced by the truth
value most favourable to the row (``TRUE``, or ``FALSE`` under a ``NOT``), and the
connectives are simplified. A partition the residual rejects is one no row of it can
satisfy the condition; a residual of ``None`` (always true) means the condition
prunes nothing.

>>> import sqlglot
>>> keys = lambda col: col.name in ("year", "month")
>>> def residual(sql):
...     r = partition_residual(sqlglot.parse_one(sql, read="athena"), keys)
...     return None if r is None else r.sql(dialect="athena")
>>> residual("(month = '03' AND amount > 1) OR (month = '04' AND amount < 0)")
"month = '03' OR month = '04'"
>>> residual("CAST(month AS INTEGER) = 3 OR amount > 100") is None
True
>>> residual("NOT (month = '03' AND amount > 1)") is None
True
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from lakekit.sql.pushdown import direct_columns, has_subquery, is_evaluable, non_deterministic_call

IsKey = Callable[[exp.Column], bool]


def why_not_on_partitions(atom: exp.Expression, is_key: IsKey) -> str | None:
    """Why an atom (a comparison, a function call ...) cannot be evaluated from a single
    table's partition values, or ``None`` when it can."""
    if has_subquery(atom):
        return "it holds a subquery, which runs only with the query"
    call = non_deterministic_call(atom)
    if call is not None:
        return f"{call.sql(dialect='athena')} is not deterministic"
    columns = direct_columns(atom)
    data = sorted({c.name for c in columns if not is_key(c)})
    if data:
        return f"it also reads {', '.join(data)}, which only the rows hold"
    tables = {c.table.lower() for c in columns if c.table}
    if len(tables) > 1:
        return f"it compares partition keys of {len(tables)} tables, known only once both are read"
    return None


def atoms(condition: exp.Expression) -> list[exp.Expression]:
    """The non-connective parts of a condition (below its AND/OR/NOT/parentheses)."""
    if isinstance(condition, (exp.And, exp.Or)):
        return atoms(condition.left) + atoms(condition.right)
    if isinstance(condition, (exp.Not, exp.Paren)):
        return atoms(condition.this)
    return [condition]


def partition_residual(condition: exp.Expression, is_key: IsKey) -> exp.Expression | None:
    """The condition over partition keys alone that ``condition`` implies, or ``None``
    when it implies none (the condition can prune no partition)."""
    result = _residual(condition, is_key, positive=True)
    if result is True:
        return None
    if result is False:
        return exp.false()
    return result


def _residual(node: exp.Expression, is_key: IsKey, positive: bool) -> exp.Expression | bool:
    if isinstance(node, exp.Paren):
        return _residual(node.this, is_key, positive)
    if isinstance(node, exp.Not):
        inner = _residual(node.this, is_key, not positive)
        if isinstance(inner, bool):
            return not inner
        return exp.Not(this=_wrap(inner))
    if isinstance(node, (exp.And, exp.Or)):
        left = _residual(node.left, is_key, positive)
        right = _residual(node.right, is_key, positive)
        absorbing = isinstance(node, exp.Or)  # TRUE absorbs an OR, FALSE an AND
        if left is absorbing or right is absorbing:
            return absorbing
        if left is (not absorbing):
            return right
        if right is (not absorbing):
            return left
        kind = exp.Or if absorbing else exp.And
        return kind(this=_wrap(left), expression=_wrap(right))
    if isinstance(node, exp.Boolean):
        return bool(node.this)
    if direct_columns(node) and why_not_on_partitions(node, is_key) is None:
        return node.copy()
    if not direct_columns(node) and is_evaluable(node):
        return node.copy()  # a constant condition: Trino folds it
    # Needs the rows: assume what lets the row through, so nothing is pruned on its account.
    return positive


def _wrap(node: exp.Expression) -> exp.Expression:
    return exp.Paren(this=node) if isinstance(node, (exp.And, exp.Or)) else node


def mentions_key(condition: exp.Expression | None, is_key: IsKey) -> bool:
    return condition is not None and any(is_key(c) for c in direct_columns(condition))
