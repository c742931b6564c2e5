"""Predicates: splitting conditions, which may bound a scan, and moving them down
through derived tables, CTEs and set operations the way Trino's planner does.

* ``WHERE``, inner ``JOIN ... ON`` and aggregate-free ``HAVING`` conjuncts that
  reference one scan's columns alone bound that scan;
* a predicate with a subquery or a non-deterministic function cannot be evaluated
  before the query runs, so it cannot prune;
* equalities carry bounds across joins (Trino's equality inference), and outer
  joins bound the padded side only with conjuncts that reject NULLs.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlglot  # noqa: F401 - the doctests use it
from sqlglot import exp
from sqlglot.optimizer.scope import Scope

# Functions whose value changes from row to row or run to run: a predicate using one
# cannot be evaluated before the query runs, so it cannot prune anything.
_NON_DETERMINISTIC_CLASSES = (exp.Rand, exp.Randn, exp.Uuid)


_NON_DETERMINISTIC_NAMES = frozenset({"rand", "random", "uuid", "shuffle", "randn"})


def conjuncts(condition: exp.Expression | None) -> list[exp.Expression]:
    """Split a condition on its top-level ANDs.

    >>> [c.sql() for c in conjuncts(sqlglot.parse_one("a = 1 AND (b = 2 AND c > 3)"))]
    ['a = 1', 'b = 2', 'c > 3']
    """
    if condition is None:
        return []
    if isinstance(condition, exp.Paren):
        return conjuncts(condition.this)
    if isinstance(condition, exp.And):
        return conjuncts(condition.left) + conjuncts(condition.right)
    return [condition]


def direct_columns(condition: exp.Expression) -> list[exp.Column]:
    """Columns of ``condition`` outside any nested subquery."""
    found = []
    for node in condition.walk(prune=lambda n: isinstance(n, (exp.Subquery, exp.Select)) and n is not condition):
        if isinstance(node, exp.Column) and not isinstance(node.this, exp.Star):
            found.append(node)
    return found


def columns_of(condition: exp.Expression) -> set[str]:
    return {c.name for c in direct_columns(condition)}


def non_deterministic_call(condition: exp.Expression) -> exp.Expression | None:
    """The first call in ``condition`` whose value is not fixed before the query runs.

    Trino treats ``now()``, ``current_date`` and ``current_timestamp`` as constants of
    the query, so they are not among them.
    """
    for node in condition.walk():
        if isinstance(node, _NON_DETERMINISTIC_CLASSES):
            return node
        if isinstance(node, exp.Anonymous) and str(node.this).lower() in _NON_DETERMINISTIC_NAMES:
            return node
    return None


def has_subquery(condition: exp.Expression) -> bool:
    return any(isinstance(n, (exp.Subquery, exp.Select, exp.Exists)) for n in condition.walk())


def is_evaluable(condition: exp.Expression) -> bool:
    """True when ``condition`` holds no subquery and no non-deterministic call."""
    return not has_subquery(condition) and non_deterministic_call(condition) is None


def bounding_conjuncts(
    candidates: Iterable[exp.Expression], alias: str
) -> tuple[list[exp.Expression], list[exp.Expression]]:
    """Split conjuncts that reference ``alias`` alone into usable and not evaluable."""
    usable: list[exp.Expression] = []
    blocked: list[exp.Expression] = []
    for c in candidates:
        tables = {col.table for col in direct_columns(c)}
        if tables != {alias}:
            continue
        (usable if is_evaluable(c) else blocked).append(c)
    return usable, blocked


def inferred_by_equality(conditions: list[exp.Expression], excluded: set[str]) -> list[exp.Expression]:
    """Conjuncts carried across column equalities, as Trino's equality inference does:
    ``a.day = b.day AND a.day = '01'`` also bounds ``b`` by ``b.day = '01'``.

    Only equalities between sources that no outer join pads with NULLs are used.
    """
    parent: dict[tuple[str, str], tuple[str, str]] = {}

    def find(key: tuple[str, str]) -> tuple[str, str]:
        while parent.get(key, key) != key:
            key = parent[key]
        return key

    for c in conditions:
        if isinstance(c, exp.EQ) and isinstance(c.left, exp.Column) and isinstance(c.right, exp.Column):
            left, right = (c.left.table, c.left.name), (c.right.table, c.right.name)
            if left[0] and right[0] and left[0] != right[0] and not ({left[0], right[0]} & excluded):
                parent[find(left)] = find(right)
    if not parent:
        return []
    classes: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for key in set(parent) | set(parent.values()):
        classes.setdefault(find(key), []).append(key)
    inferred = []
    for c in conditions:
        columns = direct_columns(c)
        keys = {(col.table, col.name) for col in columns}
        if len(keys) != 1 or not is_evaluable(c):
            continue
        (key,) = keys
        if key not in parent and key not in parent.values():
            continue
        for other in classes[find(key)]:
            if other[0] == key[0]:
                continue
            copy = c.copy()
            for col in direct_columns(copy):
                col.set("table", exp.to_identifier(other[0], quoted=True))
                col.set("this", exp.to_identifier(other[1], quoted=True))
            inferred.append(copy)
    return inferred


_NULL_PROPAGATING = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Like, exp.ILike, exp.Between, exp.In)


def rejects_nulls(condition: exp.Expression, alias: str) -> bool:
    """Whether ``condition`` is never true when ``alias``'s columns are all NULL.

    Conservative: only comparisons that take one of the columns directly (or cast) count.
    """
    if isinstance(condition, exp.Paren):
        return rejects_nulls(condition.this, alias)
    if isinstance(condition, exp.And):
        return rejects_nulls(condition.left, alias) or rejects_nulls(condition.right, alias)
    if isinstance(condition, exp.Or):
        return rejects_nulls(condition.left, alias) and rejects_nulls(condition.right, alias)
    if isinstance(condition, exp.Not):
        inner = condition.this
        while isinstance(inner, exp.Paren):
            inner = inner.this
        if isinstance(inner, exp.Is) and isinstance(inner.expression, exp.Null):
            return is_column_of(inner.this, alias)
        return isinstance(inner, _NULL_PROPAGATING) and rejects_nulls(inner, alias)
    if isinstance(condition, _NULL_PROPAGATING):
        if isinstance(condition, exp.In) and condition.args.get("query"):
            return is_column_of(condition.this, alias)
        operands = [condition.this, condition.args.get("expression"), condition.args.get("low"),
                    condition.args.get("high")]
        return any(is_column_of(o, alias) for o in operands if o is not None)
    return False


def is_column_of(node: exp.Expression, alias: str) -> bool:
    while isinstance(node, (exp.Cast, exp.TryCast, exp.Paren)):
        node = node.this
    return isinstance(node, exp.Column) and node.table == alias


def strip_table(condition: exp.Expression) -> exp.Expression:
    """The condition with its columns unqualified: expressed over a derived table's outputs."""
    copy = condition.copy()
    for col in direct_columns(copy):
        col.set("table", None)
    return copy


def rename_columns(condition: exp.Expression, rename: dict[str, str]) -> exp.Expression:
    copy = condition.copy()
    for col in direct_columns(copy):
        if col.name in rename:
            col.set("this", exp.to_identifier(rename[col.name]))
    return copy


def pushable_into(scope: Scope, names: set[str]) -> bool:
    """Whether a filter on the outputs ``names`` of ``scope`` may move inside it (as Trino does)."""
    if isinstance(scope.expression, exp.SetOperation):
        outputs = list(scope.expression.named_selects)
        if not names or not names <= set(outputs):
            return False
        positions = [outputs.index(n) for n in names]
        for branch in scope.set_operation_scopes:
            branch_names = list(branch.expression.named_selects)
            if any(i >= len(branch_names) for i in positions):
                return False
            if not pushable_into(branch, {branch_names[i] for i in positions}):
                return False
        return True
    select = scope.expression
    if not isinstance(select, exp.Select) or not names:
        return False
    if select.args.get("limit") or select.args.get("offset") or select.args.get("fetch"):
        return False
    projections = {p.alias_or_name: p for p in select.expressions}
    passthrough = star_passthrough(scope)
    if passthrough is not None:
        for name in names - set(projections):
            projections[name] = exp.column(name, table=passthrough)
    if not names <= set(projections):
        return False
    windows = list(select.find_all(exp.Window))
    for name in names:
        target = projections[name].unalias()
        if target.find(exp.AggFunc) or target.find(exp.Window) or not is_evaluable(target):
            return False
        # past a window function only a filter on every window's PARTITION BY keys is safe
        for window in windows:
            keys = window.args.get("partition_by") or []
            if not any(k == target for k in keys):
                return False
    return True


def star_passthrough(scope: Scope) -> str | None:
    """The one source alias a SELECT's unexpanded ``*`` passes columns through from, if any."""
    select = scope.expression
    if not isinstance(select, exp.Select) or len(scope.selected_sources) != 1:
        return None
    if not any(isinstance(p, exp.Star) for p in select.expressions):
        return None
    return next(iter(scope.selected_sources))


def translate_into(condition: exp.Expression, scope: Scope) -> exp.Expression:
    """Rewrite a filter over a SELECT's outputs in terms of its projection expressions."""
    select = scope.expression
    projections = {p.alias_or_name: p.unalias() for p in select.expressions}
    passthrough = star_passthrough(scope)
    if passthrough is not None:
        for col in direct_columns(condition):
            projections.setdefault(col.name, exp.column(col.name, table=passthrough))
    copy = condition.copy()
    if isinstance(copy, exp.Column):  # a bare boolean column used as the whole condition
        target = projections.get(copy.name)
        return target.copy() if target is not None else copy
    for col in direct_columns(copy):
        target = projections.get(col.name)
        if target is not None:
            col.replace(target.copy())
    return copy
