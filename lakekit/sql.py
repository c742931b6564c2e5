"""SQL analysis with sqlglot: which tables a query reads, which columns, which predicates.

Everything here works on Athena's dialect (Trino). The analysis follows what Athena's
planner does before it reads a byte, because that is what Athena bills:

* each reference to a table is one scan (a self-join, or a CTE used twice, reads the
  table twice: Trino inlines ``WITH`` queries);
* only the columns a scan really needs are read: projections that no outer query
  uses are pruned, output aliases are not columns, ``SELECT *`` expands to the
  table's columns when the schema is known;
* ``WHERE``, inner ``JOIN ... ON`` and aggregate-free ``HAVING`` conjuncts that
  reference one scan's columns alone bound that scan, and they are pushed down
  through CTEs, derived tables and ``UNION`` branches the way Trino pushes them.

Qualification and scoping come from :func:`sqlglot.optimizer.qualify.qualify` and
:mod:`sqlglot.optimizer.scope`, never from a walk over every ``Column`` node.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any, Iterable

import sqlglot
from sqlglot import exp
from sqlglot.errors import OptimizeError, ParseError, SqlglotError, TokenError
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import Scope, build_scope

from lakekit.errors import UsageError

__all__ = [
    "DIALECT",
    "TableScan",
    "catalog_schema",
    "conjuncts",
    "parse_statements",
    "qualify_statement",
    "table_scans",
]

#: The SQL dialect lakekit reads: Athena's (Trino).
DIALECT = "athena"

# Functions whose value changes from row to row or run to run: a predicate using one
# cannot be evaluated before the query runs, so it cannot prune anything.
_NON_DETERMINISTIC_CLASSES = (exp.Rand, exp.Randn, exp.Uuid)
_NON_DETERMINISTIC_NAMES = frozenset({"rand", "random", "uuid", "shuffle", "randn"})


def parse_statements(sql: str) -> list[exp.Expression]:
    """Parse one or more ``;``-separated statements written in Athena's dialect.

    Args:
        sql: the SQL text.

    Returns:
        One sqlglot expression per statement (empty statements are skipped).

    Raises:
        UsageError: the SQL does not parse; the message names line and column.

    >>> [s.sql() for s in parse_statements("SELECT 1; SELECT 2")]
    ['SELECT 1', 'SELECT 2']
    >>> try:
    ...     parse_statements("SELECT a FROM WHERE")
    ... except UsageError as error:
    ...     print(error)
    SQL syntax error at line 1, column 15 near 'WHERE': Expected table name but got WHERE
    """
    if not sql or not sql.strip():
        raise UsageError("no SQL given: pass a statement or -f FILE")
    sqlglot_log = logging.getLogger("sqlglot")
    level = sqlglot_log.level
    # sqlglot logs a warning for statements it keeps as opaque commands (SHOW, EXPLAIN):
    # they parse fine and read no table, so the warning would only be noise on stderr.
    sqlglot_log.setLevel(logging.ERROR)
    try:
        statements = sqlglot.parse(sql, read=DIALECT)
    except ParseError as ex:
        raise UsageError(_parse_error_message(ex)) from ex
    except TokenError as ex:
        raise UsageError(f"SQL syntax error: {_one_line(str(ex))} (check quotes and brackets)") from ex
    except SqlglotError as ex:  # pragma: no cover - other sqlglot failures
        raise UsageError(f"SQL syntax error: {_one_line(str(ex))}") from ex
    finally:
        sqlglot_log.setLevel(level)
    statements = [s for s in statements if s is not None and not isinstance(s, exp.Semicolon)]
    if not statements:
        raise UsageError("no SQL statement found: the text holds only comments or semicolons")
    return statements


def _parse_error_message(ex: ParseError) -> str:
    if ex.errors:
        first = ex.errors[0]
        description = str(first.get("description") or "invalid syntax")
        # sqlglot's descriptions embed token reprs; keep the token's text.
        description = re.sub(r"<Token token_type: [^,]*, text: (.*?), line: .*?>", r"\1", description)
        highlight = first.get("highlight")
        near = f" near {highlight!r}" if highlight else ""
        column = first.get("col")
        if isinstance(column, int) and highlight and "\n" not in highlight:
            column = max(1, column - len(highlight) + 1)  # sqlglot points at the token's end
        return (
            f"SQL syntax error at line {first.get('line')}, column {column}{near}: "
            f"{_one_line(description)}"
        )
    return f"SQL syntax error: {_one_line(str(ex))}"


def _one_line(text: str) -> str:
    return " ".join(text.split())


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


def catalog_schema(catalog: Any) -> dict[str, dict[str, dict[str, str]]]:
    """The sqlglot ``MappingSchema`` dict ``{db: {table: {column: type}}}`` of a catalog.

    Partition keys are included as ordinary columns, as Athena exposes them.

    >>> from lakekit.catalog.base import Column, Table
    >>> class Tiny:
    ...     def list_tables(self, database=None):
    ...         return [Table("analytics", "events", "/lake", [Column("ts", "timestamp")],
    ...                       [Column("year", "string")])]
    >>> catalog_schema(Tiny())
    {'analytics': {'events': {'ts': 'timestamp', 'year': 'string'}}}
    """
    schema: dict[str, dict[str, dict[str, str]]] = {}
    for table in catalog.list_tables():
        columns = {c.name: c.type for c in (*table.columns, *table.partition_keys)}
        schema.setdefault(table.database, {})[table.name] = columns
    return schema


def qualify_statement(
    expression: exp.Expression,
    schema: dict | None = None,
    default_database: str | None = None,
) -> exp.Expression:
    """A qualified copy of ``expression``: every column names its table alias.

    Stars are expanded when ``schema`` knows the table; columns the schema lacks are
    left as written rather than refused (the linter reports unknown objects).

    >>> stmt = parse_statements("SELECT user_id FROM events")[0]
    >>> qualify_statement(stmt, {"analytics": {"events": {"user_id": "string"}}}, "analytics").sql()
    'SELECT "events"."user_id" AS "user_id" FROM "analytics"."events" AS "events"'
    """
    return _qualify_copy(expression, schema, default_database)[0]


def _qualify_copy(
    expression: exp.Expression, schema: dict | None, default_database: str | None
) -> tuple[exp.Expression, "_StarMarks"]:
    """Qualify a copy; also return where ``*`` was written (recorded before expansion)."""
    copy = expression.copy()
    stars = _star_marks(copy)
    try:
        return (
            qualify(
                copy,
                dialect=DIALECT,
                db=default_database,
                schema=schema or None,
                validate_qualify_columns=False,
            ),
            stars,
        )
    except (OptimizeError, AssertionError):  # sqlglot asserts on some valid SQL without a schema
        # e.g. an ambiguous column without a schema: qualify the tables, keep columns as written.
        copy = expression.copy()
        stars = _star_marks(copy)
        return (
            qualify(copy, dialect=DIALECT, db=default_database, qualify_columns=False,
                    validate_qualify_columns=False),
            stars,
        )


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
    >>> [scan] = table_scans(parse_statements(sql)[0], schema)
    >>> scan.qualified_name, sorted(scan.columns), scan.star
    ('analytics.events', ['amount', 'month', 'user_id', 'year'], True)
    >>> [p.sql() for p in scan.predicates]
    ['"events"."year" = \\'2024\\'', '"events"."month" = \\'03\\'']
    """
    qualified, stars = _qualify_copy(expression, schema, default_database)
    query = qualified if isinstance(qualified, exp.Query) else qualified.find(exp.Query)
    if query is None:
        return []
    root = build_scope(query)
    if root is None:
        return []
    if _attach_unqualified_columns(root):
        root = build_scope(query)
    walker = _ScanWalker(stars, schema_known=bool(schema))
    walker.walk(root, pushed=[], needed=None)
    return walker.scans


# --------------------------------------------------------------------------------------
# The walk: one pass from the outermost scope down, per reference, so that a CTE used
# twice is scanned twice and each use gets the columns and predicates its reader needs.


@dataclass
class _StarMarks:
    """Where ``*`` was written, recorded before qualification expands it."""

    all_sources: set[int] = field(default_factory=set)  # id(Select) with a bare *
    by_alias: set[tuple[int, str]] = field(default_factory=set)  # (id(Select), alias) for t.*


def _star_marks(expression: exp.Expression) -> _StarMarks:
    marks = _StarMarks()
    for select in expression.find_all(exp.Select):
        for projection in select.expressions:
            if isinstance(projection, exp.Star):
                marks.all_sources.add(id(select))
            elif isinstance(projection, exp.Column) and isinstance(projection.this, exp.Star):
                marks.by_alias.add((id(select), projection.table))
    return marks


class _ScanWalker:
    def __init__(self, stars: _StarMarks, schema_known: bool) -> None:
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
            branch_pushed = [_rename_columns(p, rename) for p in pushed if _columns_of(p) <= set(rename)]
            self.walk(branch, branch_pushed, branch_needed)

    def _walk_select(self, scope: Scope, pushed: list[exp.Expression], needed: set[str] | None) -> None:
        select: exp.Select = scope.expression
        unneeded = self._unneeded_projections(select, needed)

        # Conjuncts that bound sources: WHERE, aggregate-free HAVING, pushed-in ones and
        # inner-join ON conditions. Outer-join ON conditions bound only the side whose
        # rows they filter (the joined table of a LEFT JOIN, the rest of a RIGHT JOIN).
        general = conjuncts(select.args.get("where") and select.args["where"].this)
        having = select.args.get("having")
        general += [c for c in conjuncts(having and having.this) if not c.find(exp.AggFunc)]
        general += [_translate_into(p, scope) for p in pushed]
        restricted: list[tuple[exp.Expression, set[str] | None, set[str] | None]] = []
        # Sources an outer join pads with NULLs: a WHERE conjunct bounds their scan only
        # when it rejects NULLs (else `LEFT JOIN b ... WHERE b.id IS NULL` would prune b).
        null_supplying: set[str] = set()
        from_ = select.args.get("from") or select.args.get("from_")
        seen = [from_.this.alias_or_name] if from_ is not None else []
        for join in select.args.get("joins") or []:
            side = (join.side or "").upper()
            joined = join.this.alias_or_name
            if side in ("LEFT", "FULL"):
                null_supplying.add(joined)
            if side in ("RIGHT", "FULL"):
                null_supplying.update(seen)
            seen.append(joined)
        for join in select.args.get("joins") or []:
            on = join.args.get("on")
            joined_alias = join.this.alias_or_name
            side = (join.side or "").upper()
            for c in conjuncts(on):
                if side == "":
                    general.append(c)
                elif side == "LEFT":
                    restricted.append((c, {joined_alias}, None))
                elif side == "RIGHT":
                    restricted.append((c, None, {joined_alias}))
                # FULL: an ON condition filters no side's rows

        general += _inferred_by_equality(general, null_supplying)
        # Through a LEFT JOIN's ON equalities, a bound on the kept side also bounds the
        # padded side: its other rows could match no kept row.
        for c, only, excluded in list(restricted):
            if only is None or excluded is not None:
                continue
            for inferred in _inferred_by_equality([c] + [g for g in general if _columns_of(g)], set()):
                tables = {col.table for col in _direct_columns(inferred)}
                if tables <= only:
                    restricted.append((inferred, only, None))

        for alias, (node, source) in scope.selected_sources.items():
            if alias in null_supplying:
                mine = [c for c in general if _rejects_nulls(c, alias)]
            else:
                mine = list(general)
            mine += [c for c, only, excluded in restricted
                     if (only is None or alias in only) and (excluded is None or alias not in excluded)]
            usable, blocked = _bounding_conjuncts(mine, alias)
            columns = self._columns_for(scope, alias, unneeded, needed)
            if isinstance(source, exp.Table):
                self.scans.append(
                    TableScan(
                        database=source.db or None,
                        name=source.name,
                        alias=alias,
                        node=source,
                        columns=frozenset(columns),
                        star=self._has_star(select, alias),
                        predicates=tuple(usable),
                        prunable=not blocked,
                        reason=(
                            f"predicate {blocked[0].sql(dialect=DIALECT)} cannot be evaluated before the query runs"
                            if blocked else None
                        ),
                    )
                )
            elif isinstance(source, Scope):
                star_unexpanded = self._has_star(select, alias) and not self._schema_known
                child_needed = None if star_unexpanded else set(columns)
                child_pushed = [
                    _strip_table(c) for c in usable if _pushable_into(source, _columns_of(_strip_table(c)))
                ]
                self.walk(source, child_pushed, child_needed)

        for child in _child_scopes(scope):
            self.walk(child, [], None)

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
            if c.table == alias and not isinstance(c.this, exp.Star) and not _inside(c, unneeded, scope.expression)
        }
        for sub in scope.subquery_scopes:
            names |= _correlated_columns(sub, alias)
        if needed is not None and _star_passthrough(scope) == alias:
            # no schema to expand * with: what the outer query reads passes straight through
            select = scope.expression
            names |= needed - {p.alias_or_name for p in select.expressions if not isinstance(p, exp.Star)}
        return names

    def _has_star(self, select: exp.Select, alias: str) -> bool:
        key = id(select)
        return key in self._stars.all_sources or (key, alias) in self._stars.by_alias


def _attach_unqualified_columns(root: Scope) -> bool:
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
            if column.name in aliases and not _inside(column, projections, select):
                continue
            column.set("table", exp.to_identifier(alias))
            changed = True
    return changed


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


def _inside(node: exp.Expression, ids: set[int], stop: exp.Expression) -> bool:
    if not ids:
        return False
    current = node
    while current is not None and current is not stop:
        if id(current) in ids:
            return True
        current = current.parent
    return False


def _direct_columns(condition: exp.Expression) -> list[exp.Column]:
    """Columns of ``condition`` outside any nested subquery."""
    found = []
    for node in condition.walk(prune=lambda n: isinstance(n, (exp.Subquery, exp.Select)) and n is not condition):
        if isinstance(node, exp.Column) and not isinstance(node.this, exp.Star):
            found.append(node)
    return found


def _columns_of(condition: exp.Expression) -> set[str]:
    return {c.name for c in _direct_columns(condition)}


def _is_evaluable(condition: exp.Expression) -> bool:
    for node in condition.walk():
        if isinstance(node, (exp.Subquery, exp.Select, exp.Exists)):
            return False
        if isinstance(node, _NON_DETERMINISTIC_CLASSES):
            return False
        if isinstance(node, exp.Anonymous) and str(node.this).lower() in _NON_DETERMINISTIC_NAMES:
            return False
    return True


def _bounding_conjuncts(
    candidates: Iterable[exp.Expression], alias: str
) -> tuple[list[exp.Expression], list[exp.Expression]]:
    """Split conjuncts that reference ``alias`` alone into usable and not evaluable."""
    usable: list[exp.Expression] = []
    blocked: list[exp.Expression] = []
    for c in candidates:
        tables = {col.table for col in _direct_columns(c)}
        if tables != {alias}:
            continue
        (usable if _is_evaluable(c) else blocked).append(c)
    return usable, blocked


def _inferred_by_equality(conditions: list[exp.Expression], excluded: set[str]) -> list[exp.Expression]:
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
        columns = _direct_columns(c)
        keys = {(col.table, col.name) for col in columns}
        if len(keys) != 1 or not _is_evaluable(c):
            continue
        (key,) = keys
        if key not in parent and key not in parent.values():
            continue
        for other in classes[find(key)]:
            if other[0] == key[0]:
                continue
            copy = c.copy()
            for col in _direct_columns(copy):
                col.set("table", exp.to_identifier(other[0], quoted=True))
                col.set("this", exp.to_identifier(other[1], quoted=True))
            inferred.append(copy)
    return inferred


_NULL_PROPAGATING = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Like, exp.ILike, exp.Between, exp.In)


def _rejects_nulls(condition: exp.Expression, alias: str) -> bool:
    """Whether ``condition`` is never true when ``alias``'s columns are all NULL.

    Conservative: only comparisons that take one of the columns directly (or cast) count.
    """
    if isinstance(condition, exp.Paren):
        return _rejects_nulls(condition.this, alias)
    if isinstance(condition, exp.And):
        return _rejects_nulls(condition.left, alias) or _rejects_nulls(condition.right, alias)
    if isinstance(condition, exp.Or):
        return _rejects_nulls(condition.left, alias) and _rejects_nulls(condition.right, alias)
    if isinstance(condition, exp.Not):
        inner = condition.this
        while isinstance(inner, exp.Paren):
            inner = inner.this
        if isinstance(inner, exp.Is) and isinstance(inner.expression, exp.Null):
            return _is_column_of(inner.this, alias)
        return isinstance(inner, _NULL_PROPAGATING) and _rejects_nulls(inner, alias)
    if isinstance(condition, _NULL_PROPAGATING):
        if isinstance(condition, exp.In) and condition.args.get("query"):
            return _is_column_of(condition.this, alias)
        operands = [condition.this, condition.args.get("expression"), condition.args.get("low"),
                    condition.args.get("high")]
        return any(_is_column_of(o, alias) for o in operands if o is not None)
    return False


def _is_column_of(node: exp.Expression, alias: str) -> bool:
    while isinstance(node, (exp.Cast, exp.TryCast, exp.Paren)):
        node = node.this
    return isinstance(node, exp.Column) and node.table == alias


def _strip_table(condition: exp.Expression) -> exp.Expression:
    """The condition with its columns unqualified: expressed over a derived table's outputs."""
    copy = condition.copy()
    for col in _direct_columns(copy):
        col.set("table", None)
    return copy


def _rename_columns(condition: exp.Expression, rename: dict[str, str]) -> exp.Expression:
    copy = condition.copy()
    for col in _direct_columns(copy):
        if col.name in rename:
            col.set("this", exp.to_identifier(rename[col.name]))
    return copy


def _pushable_into(scope: Scope, names: set[str]) -> bool:
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
            if not _pushable_into(branch, {branch_names[i] for i in positions}):
                return False
        return True
    select = scope.expression
    if not isinstance(select, exp.Select) or not names:
        return False
    if select.args.get("limit") or select.args.get("offset") or select.args.get("fetch"):
        return False
    projections = {p.alias_or_name: p for p in select.expressions}
    passthrough = _star_passthrough(scope)
    if passthrough is not None:
        for name in names - set(projections):
            projections[name] = exp.column(name, table=passthrough)
    if not names <= set(projections):
        return False
    windows = list(select.find_all(exp.Window))
    for name in names:
        target = projections[name].unalias()
        if target.find(exp.AggFunc) or target.find(exp.Window) or not _is_evaluable(target):
            return False
        # past a window function only a filter on every window's PARTITION BY keys is safe
        for window in windows:
            keys = window.args.get("partition_by") or []
            if not any(k == target for k in keys):
                return False
    return True


def _star_passthrough(scope: Scope) -> str | None:
    """The one source alias a SELECT's unexpanded ``*`` passes columns through from, if any."""
    select = scope.expression
    if not isinstance(select, exp.Select) or len(scope.selected_sources) != 1:
        return None
    if not any(isinstance(p, exp.Star) for p in select.expressions):
        return None
    return next(iter(scope.selected_sources))


def _translate_into(condition: exp.Expression, scope: Scope) -> exp.Expression:
    """Rewrite a filter over a SELECT's outputs in terms of its projection expressions."""
    select = scope.expression
    projections = {p.alias_or_name: p.unalias() for p in select.expressions}
    passthrough = _star_passthrough(scope)
    if passthrough is not None:
        for col in _direct_columns(condition):
            projections.setdefault(col.name, exp.column(col.name, table=passthrough))
    copy = condition.copy()
    if isinstance(copy, exp.Column):  # a bare boolean column used as the whole condition
        target = projections.get(copy.name)
        return target.copy() if target is not None else copy
    for col in _direct_columns(copy):
        target = projections.get(col.name)
        if target is not None:
            col.replace(target.copy())
    return copy
