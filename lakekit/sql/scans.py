"""Scans: every read of a real table a statement makes, with its columns and bounds.

The analysis follows what Athena's planner does before it reads a byte, because
that is what Athena bills:

* each reference to a table is one scan (a self-join, or a CTE used twice, reads the
  table twice: Trino inlines ``WITH`` queries);
* only the columns a scan really needs are read: projections that no outer query
  uses are pruned, output aliases are not columns, ``SELECT *`` expands to the
  table's columns when the schema is known;
* conjuncts that bound one scan are pushed down to it (:mod:`lakekit.sql.pushdown`).

Qualification and scoping come from :func:`sqlglot.optimizer.qualify.qualify` and
:mod:`sqlglot.optimizer.scope`, never from a walk over every ``Column`` node.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlglot import exp
from sqlglot.optimizer.scope import Scope, build_scope

from lakekit.sql.parse import DIALECT
from lakekit.sql.pushdown import (
    bounding_conjuncts,
    columns_of,
    conjuncts,
    direct_columns,
    inferred_by_equality,
    pushable_into,
    rejects_nulls,
    rename_columns,
    star_passthrough,
    strip_table,
    translate_into,
)
from lakekit.sql.qualify import StarMarks, attach_unqualified_columns, inside, qualify_copy
from lakekit.sql.schema import Schema


@dataclass(frozen=True)
class TableScan:
    """One read of one real table by a query, with what bounds it.

    Attributes:
        database: the database as written, or ``default_database`` when not written.
        name: the table name.
        alias: the alias the query reads it under (the table name when none).
        node: the ``exp.Table`` node in the qualified copy of the statement; its
            identifiers keep the original ``meta`` (``node.this.meta["line"]``/``["col"]``).
        columns: the table's real columns this scan needs (``*`` expanded when the
            schema is known).
        star: True when the columns came (also) from ``*`` or ``alias.*``.
        predicates: conjuncts that reference this scan's columns alone, rewritten in
            terms of them (columns qualified by :attr:`alias`), usable for pruning.
        prunable: False when a conjunct bounding this scan cannot be evaluated before
            the query runs (a subquery, a non-deterministic function); the remaining
            :attr:`predicates` may still prune.
        reason: why not prunable, for the estimate's message.
    """

    database: str | None
    name: str
    alias: str
    node: exp.Table = field(compare=False, repr=False)
    columns: frozenset[str] = frozenset()
    star: bool = False
    predicates: tuple[exp.Expression, ...] = field(default=(), compare=False)
    prunable: bool = True
    reason: str | None = None

    @property
    def qualified_name(self) -> str:
        """``db.table`` (or just ``table`` when no database is known)."""
        return f"{self.database}.{self.name}" if self.database else self.name


def table_scans(
    expression: exp.Expression,
    schema: dict | None = None,
    default_database: str | None = None,
) -> list[TableScan]:
    """Every read of a real table the statement makes, in query order.

    Args:
        expression: one parsed statement (from :func:`parse_statements`).
        schema: ``{db: {table: {column: athena_type}}}`` (see :func:`catalog_schema`);
            without it ``*`` cannot be expanded and ``columns`` holds only what is written.
        default_database: the database of tables written without one.

    Returns:
        One :class:`TableScan` per table reference (CTEs resolved per use).

    >>> schema = {"analytics": {"events": {"user_id": "string", "amount": "double",
    ...                                    "year": "string", "month": "string"}}}
    >>> sql = '''WITH recent AS (SELECT * FROM analytics.events WHERE year = '2024')
    ...          SELECT user_id, sum(amount) AS total FROM recent
    ...          WHERE month = '03' GROUP BY user_id ORDER BY total'''
    >>> from lakekit.sql.parse import parse_statements
    >>> [scan] = table_scans(parse_statements(sql)[0], schema)
    >>> scan.qualified_name, sorted(scan.columns), scan.star
    ('analytics.events', ['amount', 'month', 'user_id', 'year'], True)
    >>> [p.sql() for p in scan.predicates]
    ['"events"."year" = \\'2024\\'', '"events"."month" = \\'03\\'']
    """
    return list(analyze(expression, schema, default_database).scans)


@dataclass(frozen=True)
class Analysis:
    """A statement after analysis: qualified, with the scans it makes.

    ``statement`` is the qualified copy the scans' nodes belong to (the statement as
    given when it reads no table); the statement passed in is never changed.
    """

    statement: exp.Expression
    scans: tuple[TableScan, ...]


def analyze(
    expression: exp.Expression,
    schema: Schema | None = None,
    default_database: str | None = None,
) -> Analysis:
    """Qualify ``expression`` against ``schema`` and find its scans (see :func:`table_scans`)."""
    qualified, stars = qualify_copy(expression, schema, default_database)
    query = qualified if isinstance(qualified, exp.Query) else qualified.find(exp.Query)
    if query is None:
        return Analysis(expression, ())
    root = build_scope(query)
    if root is None:
        return Analysis(expression, ())
    if attach_unqualified_columns(root):
        root = build_scope(query)
    walker = _ScanWalker(stars, schema_known=bool(schema))
    walker.walk(root, pushed=[], needed=None)
    return Analysis(qualified if walker.scans else expression, tuple(walker.scans))


class _ScanWalker:
    def __init__(self, stars: StarMarks, schema_known: bool) -> None:
        self.scans: list[TableScan] = []
        self._stars = stars
        self._schema_known = schema_known

    # A scope is a SELECT, a set operation (UNION/INTERSECT/EXCEPT) or a UDTF.
    def walk(self, scope: Scope, pushed: list[exp.Expression], needed: set[str] | None) -> None:
        if isinstance(scope.expression, exp.SetOperation):
            self._walk_set_operation(scope, pushed, needed)
        elif isinstance(scope.expression, exp.Select):
            self._walk_select(scope, pushed, needed)
        else:
            for child in _child_scopes(scope):
                self.walk(child, [], None)

    def _walk_set_operation(self, scope: Scope, pushed: list[exp.Expression], needed: set[str] | None) -> None:
        operation = scope.expression
        names = list(operation.named_selects)
        distinct = not (isinstance(operation, exp.Union) and not operation.args.get("distinct"))
        positions = None if (needed is None or distinct) else {i for i, n in enumerate(names) if n in needed}
        for branch in scope.set_operation_scopes:
            branch_names = list(branch.expression.named_selects)
            rename = dict(zip(names, branch_names))
            branch_needed = None if positions is None else {branch_names[i] for i in positions if i < len(branch_names)}
            branch_pushed = [rename_columns(p, rename) for p in pushed if columns_of(p) <= set(rename)]
            self.walk(branch, branch_pushed, branch_needed)

    def _walk_select(self, scope: Scope, pushed: list[exp.Expression], needed: set[str] | None) -> None:
        select: exp.Select = scope.expression
        unneeded = self._unneeded_projections(select, needed)
        if isinstance(select.parent, exp.Exists):
            # EXISTS asks whether a row exists: no projected value is read, whatever
            # the list says (SELECT * included); the columns it filters on still are
            unneeded = {id(p) for p in select.expressions}
        bounds = _SelectBounds.of(scope, pushed)
        for alias, (_node, source) in scope.selected_sources.items():
            usable, blocked = bounding_conjuncts(bounds.for_source(alias), alias)
            columns = self._columns_for(scope, alias, unneeded, needed)
            if isinstance(source, exp.Table):
                self.scans.append(self._table_scan(select, alias, source, columns, usable, blocked))
            elif isinstance(source, Scope):
                star_unexpanded = self._has_star(select, alias) and not self._schema_known
                child_needed = None if star_unexpanded else set(columns)
                child_pushed = [
                    strip_table(c) for c in usable if pushable_into(source, columns_of(strip_table(c)))
                ]
                self.walk(source, child_pushed, child_needed)
        for child in _child_scopes(scope):
            self.walk(child, [], None)

    def _table_scan(self, select: exp.Select, alias: str, source: exp.Table, columns: set[str],
                    usable: list[exp.Expression], blocked: list[exp.Expression]) -> TableScan:
        reason = None
        if blocked:
            reason = f"predicate {blocked[0].sql(dialect=DIALECT)} cannot be evaluated before the query runs"
        return TableScan(
            database=source.db or None,
            name=source.name,
            alias=alias,
            node=source,
            columns=frozenset(columns),
            star=self._has_star(select, alias),
            predicates=tuple(usable),
            prunable=not blocked,
            reason=reason,
        )

    def _unneeded_projections(self, select: exp.Select, needed: set[str] | None) -> set[int]:
        if needed is None or select.args.get("distinct"):
            return set()
        needed = set(needed)
        order = select.args.get("order")
        if order is not None:  # ORDER BY an output alias keeps that projection alive
            needed |= {c.name for c in order.find_all(exp.Column) if not c.table}
        return {id(p) for p in select.expressions if p.alias_or_name not in needed}

    def _columns_for(self, scope: Scope, alias: str, unneeded: set[int], needed: set[str] | None) -> set[str]:
        names = {
            c.name
            for c in scope.columns
            if c.table == alias and not isinstance(c.this, exp.Star) and not inside(c, unneeded, scope.expression)
        }
        for sub in scope.subquery_scopes:
            names |= _correlated_columns(sub, alias)
        if needed is not None and star_passthrough(scope) == alias:
            # no schema to expand * with: what the outer query reads passes straight through
            select = scope.expression
            names |= needed - {p.alias_or_name for p in select.expressions if not isinstance(p, exp.Star)}
        return names

    def _has_star(self, select: exp.Select, alias: str) -> bool:
        key = id(select)
        return key in self._stars.all_sources or (key, alias) in self._stars.by_alias


@dataclass
class _SelectBounds:
    """The conjuncts that may bound the sources of one SELECT.

    ``general`` bound every source: WHERE, aggregate-free HAVING, pushed-in ones and
    inner-join ON conditions. Outer-join ON conditions bound only the side whose rows
    they filter (the joined table of a LEFT JOIN, the rest of a RIGHT JOIN): each of
    ``restricted`` is (conjunct, only these aliases or None, not these aliases or None).
    Sources an outer join pads with NULLs (``null_supplying``) take a WHERE conjunct
    only when it rejects NULLs (else ``LEFT JOIN b ... WHERE b.id IS NULL`` would prune b).
    """

    general: list[exp.Expression]
    restricted: list[tuple[exp.Expression, set[str] | None, set[str] | None]]
    null_supplying: set[str]

    @classmethod
    def of(cls, scope: Scope, pushed: list[exp.Expression]) -> _SelectBounds:
        select: exp.Select = scope.expression
        general = conjuncts(select.args.get("where") and select.args["where"].this)
        having = select.args.get("having")
        general += [c for c in conjuncts(having and having.this) if not c.find(exp.AggFunc)]
        general += [translate_into(p, scope) for p in pushed]
        joins = select.args.get("joins") or []
        null_supplying = _null_supplying(select, joins)
        restricted: list[tuple[exp.Expression, set[str] | None, set[str] | None]] = []
        for join in joins:
            joined_alias = join.this.alias_or_name
            side = (join.side or "").upper()
            for c in conjuncts(join.args.get("on")):
                if side == "":
                    general.append(c)
                elif side == "LEFT":
                    restricted.append((c, {joined_alias}, None))
                elif side == "RIGHT":
                    restricted.append((c, None, {joined_alias}))
                # FULL: an ON condition filters no side's rows
        general += inferred_by_equality(general, null_supplying)
        restricted += _inferred_through_left_joins(general, restricted)
        return cls(general, restricted, null_supplying)

    def for_source(self, alias: str) -> list[exp.Expression]:
        padded = alias in self.null_supplying
        mine = [c for c in self.general if not padded or rejects_nulls(c, alias)]
        mine += [c for c, only, excluded in self.restricted
                 if (only is None or alias in only) and (excluded is None or alias not in excluded)]
        return mine


def _null_supplying(select: exp.Select, joins: list[exp.Join]) -> set[str]:
    """The aliases an outer join pads with NULLs."""
    padded: set[str] = set()
    from_ = select.args.get("from") or select.args.get("from_")
    seen = [from_.this.alias_or_name] if from_ is not None else []
    for join in joins:
        side = (join.side or "").upper()
        joined = join.this.alias_or_name
        if side in ("LEFT", "FULL"):
            padded.add(joined)
        if side in ("RIGHT", "FULL"):
            padded.update(seen)
        seen.append(joined)
    return padded


def _inferred_through_left_joins(
    general: list[exp.Expression],
    restricted: list[tuple[exp.Expression, set[str] | None, set[str] | None]],
) -> list[tuple[exp.Expression, set[str] | None, set[str] | None]]:
    """Through a LEFT JOIN's ON equalities, a bound on the kept side also bounds the
    padded side: its other rows could match no kept row."""
    found: list[tuple[exp.Expression, set[str] | None, set[str] | None]] = []
    for c, only, excluded in restricted:
        if only is None or excluded is not None:
            continue
        for inferred in inferred_by_equality([c] + [g for g in general if columns_of(g)], set()):
            tables = {col.table for col in direct_columns(inferred)}
            if tables <= only:
                found.append((inferred, only, None))
    return found


def _child_scopes(scope: Scope) -> list[Scope]:
    """Scopes below ``scope`` that are not its FROM/JOIN sources: WHERE/SELECT subqueries, UDTFs."""
    return [*scope.subquery_scopes, *getattr(scope, "udtf_scopes", [])]


def _correlated_columns(scope: Scope, alias: str) -> set[str]:
    if alias in scope.sources:  # the name is shadowed below this point
        return set()
    names = {c.name for c in scope.columns if c.table == alias}
    for sub in scope.subquery_scopes:
        names |= _correlated_columns(sub, alias)
    return names


def named_columns(statement: exp.Expression, alias: str) -> set[str]:
    """Column names written in ``statement`` other than through ``*`` that may be the
    scan ``alias``'s (qualified by it, or not qualified): what it reads without the star.

    >>> import sqlglot
    >>> sorted(named_columns(sqlglot.parse_one("SELECT *, e.a FROM t e WHERE b > 1 AND f.c = 2"), "e"))
    ['a', 'b']
    """
    names = set()
    for column in statement.find_all(exp.Column):
        if isinstance(column.this, exp.Star):
            continue
        if not column.table or column.table.lower() == alias.lower():
            names.add(column.name)
    return names
