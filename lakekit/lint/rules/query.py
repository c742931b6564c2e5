"""Query rules Q001-Q010: SQL patterns that make Athena scan or sort more than it must.

Each rule looks at one parsed statement at a time through a :class:`QueryContext`,
which also knows the catalog (when there is one) and the SQL text for positions.
Rules that need to know which table a column or predicate belongs to use the
shared SQL analysis (:mod:`lakekit.sql`), never a walker of their own.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from sqlglot import exp
from sqlglot.errors import SqlglotError

from lakekit.errors import first_line
from lakekit.lint.catalog_view import CatalogView
from lakekit.lint.options import LintOptions
from lakekit.lint.rules.base import Rule
from lakekit.lint.source import SqlSource
from lakekit.lint.violation import Violation
from lakekit.sql import table_scans
from lakekit.units import human_bytes


@dataclass
class QueryContext:
    """One statement of one SQL source, with what rules may ask about it."""

    source: SqlSource
    statement: exp.Expression
    catalog: CatalogView
    options: LintOptions
    #: where rules leave what the user should know (e.g. a statement the analysis skipped)
    notes: list[str] = field(default_factory=list, repr=False)
    _scans: Any = field(default=None, repr=False)
    _nodes: list | None = field(default=None, repr=False)

    def find_all(self, *types: type) -> list:
        """Nodes of these types in the statement, from one walk shared by every rule."""
        if self._nodes is None:
            self._nodes = list(self.statement.walk())
        return [node for node in self._nodes if isinstance(node, types)]

    def at(self, rule: Rule, node: exp.Expression, message: str, fix: str | None = None) -> Violation:
        line, column = self.source.position(node)
        return rule.violation(self.source.path, line, column, message, fix)

    def cte_names(self) -> set[str]:
        return {cte.alias_or_name.lower() for cte in self.find_all(exp.CTE)}

    def real_tables(self) -> list[exp.Table]:
        """Tables the statement reads (not CTE names, not the target of CREATE/INSERT)."""
        ctes = self.cte_names()
        targets: set[int] = set()
        if isinstance(self.statement, (exp.Create, exp.Insert)) and self.statement.this is not None:
            targets = {id(n) for n in self.statement.this.walk()}
        tables = []
        for table in self.find_all(exp.Table):
            if id(table) in targets or not isinstance(table.this, exp.Identifier):
                continue
            if not table.db and table.name.lower() in ctes:
                continue
            tables.append(table)
        return tables

    def scans(self) -> list | None:
        """Table scans from the shared SQL analysis, or ``None`` while it is unavailable."""
        if self._scans is None:
            schema = self.catalog.schema() if self.catalog.available else None
            try:
                self._scans = table_scans(self.statement, schema=schema or None)
            except (AssertionError, SqlglotError) as ex:
                # sqlglot's qualifier fails on a few valid shapes (``SELECT * ... ORDER BY 1``
                # without a schema); rules that need scans skip such a statement, and say so.
                line, _ = self.source.position(self.statement)
                reason = first_line(ex)
                self.notes.append(
                    f"{self.source.path}:{line}: statement not analysed for Q002/Q010 ({reason[:80]})"
                )
                self._scans = []
        return self._scans


class QueryRule(Rule):
    family: ClassVar[str] = "query"
    #: True when the rule says nothing without a catalog
    needs_catalog: ClassVar[bool] = False

    def check(self, ctx: QueryContext) -> Iterable[Violation]:  # pragma: no cover - abstract
        raise NotImplementedError


# -- helpers ---------------------------------------------------------------------------
def _from_sources(select: exp.Select) -> list[exp.Expression]:
    from_ = select.args.get("from_") or select.args.get("from")
    sources = [from_.this] if from_ is not None else []
    sources += [join.this for join in select.args.get("joins") or []]
    return sources


def _qualified(table: exp.Table) -> str:
    return f"{table.db}.{table.name}" if table.db else table.name


def _is_wrapper(node: exp.Expression) -> bool:
    """A function or cast around a value (not AND/OR, not a comparison)."""
    return isinstance(node, exp.Func) and not isinstance(node, (exp.Connector, exp.Predicate))


def _predicate_roots(ctx: QueryContext) -> Iterator[exp.Expression]:
    """WHERE conditions and JOIN ... ON conditions anywhere in the statement."""
    for where in ctx.find_all(exp.Where):
        yield where.this
    for join in ctx.find_all(exp.Join):
        if join.args.get("on") is not None:
            yield join.args["on"]


def _outermost_query(statement: exp.Expression) -> exp.Expression | None:
    node = statement
    while isinstance(node, (exp.Create, exp.Insert)):
        node = node.expression
    while isinstance(node, exp.Subquery):
        node = node.this
    return node if isinstance(node, exp.Query) else None


# -- rules -----------------------------------------------------------------------------
class SelectStar(QueryRule):
    """`SELECT *` over a table: every column is scanned.

    What it does:
        Finds `SELECT *` (and `t.*`) in a query that reads a table directly.
        `SELECT *` inside `EXISTS (...)` and `count(*)` are not flagged: neither reads
        any column's data.

    Why is this bad?
        Athena reads Parquet by column and bills for the bytes it scans. Naming only
        the columns a query needs skips every other column's data; `SELECT *` reads
        all of them, wide tables cost the most, and the result set grows with every
        column someone adds later.

    Example:
        SELECT * FROM analytics.events WHERE year = '2024' AND month = '03'

    Use instead:
        SELECT event_id, ts, amount FROM analytics.events WHERE year = '2024' AND month = '03'

    References:
        - Top 10 performance tuning tips for Amazon Athena ("Only include the columns
          that you need"):
          https://aws.amazon.com/blogs/big-data/top-10-performance-tuning-tips-for-amazon-athena/
        - Optimize your queries, "Limit the number of columns" (Amazon Athena User Guide):
         :
         https://docs.aws.amazon.com/athena/latest/ug/performance-tuning-s3-throttling-optimizing-queries.html
    """

    code = "Q001"
    name = "select-star"

    def check(self, ctx: QueryContext) -> Iterable[Violation]:
        ctes = ctx.cte_names()
        for select in ctx.find_all(exp.Select):
            if select.find_ancestor(exp.Exists) is not None:
                continue
            tables = [
                s for s in _from_sources(select)
                if isinstance(s, exp.Table) and isinstance(s.this, exp.Identifier)
                and not (not s.db and s.name.lower() in ctes)
            ]
            if not tables:
                continue
            for projection in select.expressions:
                star = projection if isinstance(projection, exp.Star) else None
                if isinstance(projection, exp.Column) and isinstance(projection.this, exp.Star):
                    star = projection
                if star is None:
                    continue
                names = ", ".join(_qualified(t) for t in tables)
                yield ctx.at(
                    self, star,
                    f"SELECT * reads every column of {names}",
                    "name only the columns the query needs",
                )


class MissingPartitionFilter(QueryRule):
    """A partitioned table read with no predicate on any partition key.

    What it does:
        Finds each read of a partitioned table whose WHERE (or JOIN ... ON) conditions
        do not mention any of the table's partition keys. The partition keys come from
        the catalog; without one, `year`, `month`, `day`, `dt` and `date` are assumed
        (`[lint] partition_keys` in lakekit.toml changes that list).

    Why is this bad?
        Partitions are how Athena skips data: a predicate on a partition key restricts
        the folders a query lists and reads. Without one, every partition of the table
        is scanned and billed, and the cost grows every day new data arrives.

    Example:
        SELECT event_type, count(*) FROM analytics.events GROUP BY event_type

    Use instead:
        SELECT event_type, count(*) FROM analytics.events
        WHERE year = '2024' AND month = '03'
        GROUP BY event_type

    References:
        - Top 10 performance tuning tips for Amazon Athena ("Partition your data"):
          https://aws.amazon.com/blogs/big-data/top-10-performance-tuning-tips-for-amazon-athena/
        - Partition your data: https://docs.aws.amazon.com/athena/latest/ug/partitions.html
    """

    code = "Q002"
    name = "missing-partition-filter"

    def check(self, ctx: QueryContext) -> Iterable[Violation]:
        scans = ctx.scans()
        if scans is None:
            return
        for scan in scans:
            keys = ctx.catalog.partition_keys(scan.database, scan.name)
            if not keys:
                continue
            used = {
                col.name.lower()
                for predicate in scan.predicates
                for col in predicate.find_all(exp.Column)
            }
            if used & keys:
                continue
            name = f"{scan.database}.{scan.name}" if scan.database else scan.name
            ordered = ctx.catalog.ordered_partition_keys(scan.database, scan.name)
            key_list = ", ".join(ordered)
            assumed = "" if ctx.catalog.available else "assumed: "
            yield ctx.at(
                self, scan.node,
                f"{name} is read with no predicate on a partition key ({assumed}{key_list}): every partition is scanned",
                f"add a WHERE condition on {ordered[0]}",
            )


class PartitionKeyInFunction(QueryRule):
    """A partition key wrapped in a function or cast inside a predicate, which stops pruning.

    What it does:
        Finds partition key columns inside a function call or `CAST` in a WHERE or
        JOIN ... ON condition, such as `CAST(year AS integer) = 2024` or
        `concat(year, month) = '202403'`. Comparing the bare key with a literal, or a
        function on the *other* side of the comparison, is fine.

    Why is this bad?
        Athena prunes partitions by matching predicates against partition values.
        A key hidden inside a function has to be evaluated for every partition, and
        many engines and connectors give up and scan every partition instead. The
        bare comparison is always pruned, so write the literal in the key's own form
        (partition values are zero-padded strings: `month = '03'`).

    Example:
        SELECT count(*) FROM analytics.events WHERE CAST(month AS integer) = 3

    Use instead:
        SELECT count(*) FROM analytics.events WHERE month = '03'

    References:
        - Top 10 performance tuning tips for Amazon Athena ("Partition your data"):
          https://aws.amazon.com/blogs/big-data/top-10-performance-tuning-tips-for-amazon-athena/
        - Partition your data: https://docs.aws.amazon.com/athena/latest/ug/partitions.html
    """

    code = "Q003"
    name = "partition-key-in-function"

    def check(self, ctx: QueryContext) -> Iterable[Violation]:
        keys: set[str] = set()
        for table in ctx.real_tables():
            keys |= ctx.catalog.partition_keys(table.db or None, table.name)
        if not keys:
            return
        seen: set[int] = set()
        for root in _predicate_roots(ctx):
            for column in root.find_all(exp.Column):
                if id(column) in seen or column.name.lower() not in keys:
                    continue
                seen.add(id(column))
                wrapper = None
                node = column.parent
                while node is not None and node is not root.parent:
                    if isinstance(node, (exp.Select, exp.Subquery)):
                        break
                    if _is_wrapper(node):
                        wrapper = node  # keep the outermost function around the key
                    node = node.parent
                if wrapper is None:
                    continue
                kind = "CAST" if isinstance(wrapper, (exp.Cast, exp.TryCast)) else "a function"
                yield ctx.at(
                    self, wrapper,
                    f"partition key {column.name} is wrapped in {kind} ({wrapper.sql(dialect='athena')[:60]}), "
                    "which stops partition pruning",
                    f"compare {column.name} itself with a literal in its own form",
                )


class OrderByWithoutLimit(QueryRule):
    """`ORDER BY` on the outermost query without `LIMIT` (one worker sorts everything).

    What it does:
        Finds an `ORDER BY` on a statement's outermost query that has no `LIMIT`.
        `ORDER BY` with `LIMIT` (a top-N), inside a window (`OVER (ORDER BY ...)`)
        or in a subquery is not flagged.

    Why is this bad?
        Athena's final sort runs on a single worker: every row of the result is sent
        to it. Big results sort slowly or fail with "exceeded local memory limit".
        With `LIMIT`, each worker keeps only its top N rows and the sort stays cheap.

    Example:
        SELECT user_id, amount FROM analytics.events WHERE year = '2024' ORDER BY amount DESC

    Use instead:
        SELECT user_id, amount FROM analytics.events WHERE year = '2024' ORDER BY amount DESC LIMIT 100

    References:
        - Optimize your queries, "Use LIMIT with the ORDER BY clause" (Amazon Athena User
          Guide):
          https://docs.aws.amazon.com/athena/latest/ug/performance-tuning-s3-throttling-optimizing-queries.html
        - Top 10 performance tuning tips for Amazon Athena ("Optimize ORDER BY"):
          https://aws.amazon.com/blogs/big-data/top-10-performance-tuning-tips-for-amazon-athena/
    """

    code = "Q004"
    name = "order-by-without-limit"

    def check(self, ctx: QueryContext) -> Iterable[Violation]:
        query = _outermost_query(ctx.statement)
        if query is None:
            return
        order = query.args.get("order")
        if order is None and isinstance(query, exp.SetOperation):
            # `SELECT ... UNION SELECT ... ORDER BY x` may attach the ORDER to the last branch
            last = query.expression
            if isinstance(last, exp.Select) and last.args.get("order") and not last.args.get("limit"):
                query, order = last, last.args["order"]
        if order is None or query.args.get("limit") is not None or query.args.get("fetch") is not None:
            return
        yield ctx.at(
            self, order,
            "ORDER BY without LIMIT: one worker sorts the whole result",
            "add LIMIT n, or sort the (smaller) result outside Athena",
        )


class ManyLike(QueryRule):
    """Several `LIKE`s OR-ed on one column where one `regexp_like` would do.

    What it does:
        Finds a chain of `OR`-ed `LIKE` conditions on the same column (three or more
        by default; `[lint] many_like` sets the number).

    Why is this bad?
        Each `LIKE` is evaluated on its own, so every row is matched against every
        pattern. One `regexp_like` with an alternation does the same test in a single
        pass, which Athena runs much faster on large string columns.

    Example:
        SELECT count(*) FROM analytics.events
        WHERE device LIKE '%iphone%' OR device LIKE '%ipad%' OR device LIKE '%ipod%'

    Use instead:
        SELECT count(*) FROM analytics.events
        WHERE regexp_like(device, 'iphone|ipad|ipod')

    References:
        - Optimize your queries, "Use regular expressions instead of LIKE" (Amazon Athena
          User Guide):
          https://docs.aws.amazon.com/athena/latest/ug/performance-tuning-s3-throttling-optimizing-queries.html
        - Top 10 performance tuning tips for Amazon Athena:
          https://aws.amazon.com/blogs/big-data/top-10-performance-tuning-tips-for-amazon-athena/
    """

    code = "Q005"
    name = "many-like"

    def check(self, ctx: QueryContext) -> Iterable[Violation]:
        for chain in ctx.find_all(exp.Or):
            parent = chain.parent
            while isinstance(parent, exp.Paren):
                parent = parent.parent
            if isinstance(parent, exp.Or):
                continue  # only the top of an OR chain
            by_column: dict[str, list[exp.Like]] = {}
            for term in chain.flatten():
                term = term.unnest()
                if isinstance(term, (exp.Like, exp.ILike)):
                    by_column.setdefault(term.this.sql(dialect="athena"), []).append(term)
            for column, likes in by_column.items():
                if len(likes) >= ctx.options.many_like:
                    yield ctx.at(
                        self, likes[0],
                        f"{len(likes)} LIKE patterns OR-ed on {column}",
                        f"use one regexp_like({column}, 'a|b|c')",
                    )


class ExactCountDistinct(QueryRule):
    """`COUNT(DISTINCT x)` where `approx_distinct(x)` would do.

    What it does:
        Finds `count(DISTINCT ...)` aggregates.

    Why is this bad?
        An exact distinct count sends every distinct value to be compared, which is
        slow and memory hungry on large tables. `approx_distinct` uses a HyperLogLog
        sketch with a standard error of about 2.3% and runs in a fraction of the time
        and memory; dashboards and exploration rarely need the exact number.

    Example:
        SELECT country, count(DISTINCT user_id) FROM analytics.events
        WHERE year = '2024' GROUP BY country

    Use instead:
        SELECT country, approx_distinct(user_id) FROM analytics.events
        WHERE year = '2024' GROUP BY country

    References:
        - Top 10 performance tuning tips for Amazon Athena ("Use approximate
          functions"): https://aws.amazon.com/blogs/big-data/top-10-performance-tuning-tips-for-amazon-athena/
    """

    code = "Q006"
    name = "exact-count-distinct"

    def check(self, ctx: QueryContext) -> Iterable[Violation]:
        for count in ctx.find_all(exp.Count):
            if isinstance(count.this, exp.Distinct):
                args = ", ".join(e.sql(dialect="athena") for e in count.this.expressions)
                yield ctx.at(
                    self, count,
                    f"exact count(DISTINCT {args})",
                    f"use approx_distinct({args}) unless the exact number matters",
                )


class LargeTableOnRight(QueryRule):
    """A join whose right side is the larger table (needs catalog sizes).

    What it does:
        Finds joins whose right-hand table is bigger, by the catalog's file
        statistics, than the biggest table on the left of it. Without a catalog (or
        without file statistics) it says nothing.

    Why is this bad?
        Athena (Trino) builds a hash table from the right side of a join and
        distributes it to the workers that stream the left side. A large right side
        uses more memory, spills or fails with "exceeded local memory limit", and runs
        slower than the same join written the other way round.

    Example:
        SELECT c.name, e.amount
        FROM dim.countries c JOIN analytics.events e ON e.country = c.code
        WHERE e.year = '2024'

    Use instead:
        SELECT c.name, e.amount
        FROM analytics.events e JOIN dim.countries c ON e.country = c.code
        WHERE e.year = '2024'

    References:
        - Optimize queries, "In a distributed hash join, place large tables on the left,
          small tables on the right" (Amazon Athena User Guide):
          https://docs.aws.amazon.com/athena/latest/ug/performance-tuning-query-optimization-techniques.html
        - Optimize your queries, "Optimize JOIN clauses":
          https://docs.aws.amazon.com/athena/latest/ug/performance-tuning-s3-throttling-optimizing-queries.html
    """

    code = "Q007"
    name = "large-table-on-right"
    needs_catalog = True

    def check(self, ctx: QueryContext) -> Iterable[Violation]:
        if not ctx.catalog.available:
            return
        ctes = ctx.cte_names()

        def size_of(node: exp.Expression) -> int | None:
            if not isinstance(node, exp.Table) or (not node.db and node.name.lower() in ctes):
                return None
            return ctx.catalog.size(node.db or None, node.name)

        for select in ctx.find_all(exp.Select):
            from_ = select.args.get("from_") or select.args.get("from")
            if from_ is None:
                continue
            left_sizes = [size_of(from_.this)]
            for join in select.args.get("joins") or []:
                right = size_of(join.this)
                known_left = [s for s in left_sizes if s is not None]
                if right is not None and known_left and right > max(known_left) and join.side != "RIGHT":
                    yield ctx.at(
                        self, join.this,
                        f"{_qualified(join.this)} ({human_bytes(right)}) is joined on the right of a smaller "
                        f"table ({human_bytes(max(known_left))}): the right side is built into memory",
                        "put the larger table first (on the left) and the smaller one on the right",
                    )
                left_sizes.append(right)


class CrossJoin(QueryRule):
    """A join with no join condition, or an explicit `CROSS JOIN`.

    What it does:
        Finds `CROSS JOIN`s, `JOIN`s without `ON`/`USING`, and comma joins
        (`FROM a, b`) whose WHERE clause has no equality between two columns.
        `CROSS JOIN UNNEST(...)`, the way to flatten arrays, is not flagged.

    Why is this bad?
        A join without a condition pairs every row of one side with every row of the
        other: the result has rows(a) x rows(b) rows. It is rarely what was meant,
        and on tables of any size it runs for a long time or fails.

    Example:
        SELECT e.event_id, c.name FROM analytics.events e CROSS JOIN dim.countries c

    Use instead:
        SELECT e.event_id, c.name FROM analytics.events e JOIN dim.countries c ON e.country = c.code

    References:
        - Optimize your queries, "Optimize JOIN clauses" ("Avoid cross joins unless they
          are required by the query"; Amazon Athena User Guide):
          https://docs.aws.amazon.com/athena/latest/ug/performance-tuning-s3-throttling-optimizing-queries.html
    """

    code = "Q008"
    name = "cross-join"

    def check(self, ctx: QueryContext) -> Iterable[Violation]:
        for select in ctx.find_all(exp.Select):
            joins = select.args.get("joins") or []
            if not joins:
                continue
            where = select.args.get("where")
            where_joins = where is not None and any(
                isinstance(eq.this, exp.Column) and isinstance(eq.expression, exp.Column)
                for eq in where.find_all(exp.EQ)
            )
            for join in joins:
                if isinstance(join.this, (exp.Unnest, exp.Lateral)) or isinstance(join.this.unnest(), exp.Unnest):
                    continue
                if join.args.get("on") is not None or join.args.get("using"):
                    continue
                kind = (join.kind or "").upper()
                comma = not kind and not join.side and not join.args.get("method")
                if comma and where_joins:
                    continue
                what = "CROSS JOIN" if kind == "CROSS" else "join with no join condition"
                yield ctx.at(
                    self, join,
                    f"{what} with {join.this.sql(dialect='athena')[:60]}: every row pairs with every row",
                    "join ON the columns that relate the two sides",
                )


class WindowWithoutPartition(QueryRule):
    """A window function with no `PARTITION BY`.

    What it does:
        Finds window functions (`... OVER (...)`) whose window has no `PARTITION BY`,
        including named windows (`WINDOW w AS (...)`) without one.

    Why is this bad?
        A window without `PARTITION BY` is one partition holding every row, and
        Athena computes it on a single worker: the query loses its parallelism and
        large inputs fail with "exceeded local memory limit". Partition the window by
        the column the calculation is really per (a user, a day, a device).

    Example:
        SELECT user_id, row_number() OVER (ORDER BY ts) AS n FROM analytics.events
        WHERE year = '2024'

    Use instead:
        SELECT user_id, row_number() OVER (PARTITION BY user_id ORDER BY ts) AS n
        FROM analytics.events WHERE year = '2024'

    References:
        - Optimize queries, "Reduce the scope of window functions, or remove them"
          (Amazon Athena User Guide):
          https://docs.aws.amazon.com/athena/latest/ug/performance-tuning-query-optimization-techniques.html
    """

    code = "Q009"
    name = "window-without-partition"

    def check(self, ctx: QueryContext) -> Iterable[Violation]:
        for window in ctx.find_all(exp.Window):
            if window.arg_key == "windows" or not isinstance(window.this, exp.Expression):
                continue
            if isinstance(window.this, exp.Identifier):
                continue  # a named window's definition: checked where it is used
            partitioned = bool(window.args.get("partition_by"))
            named = window.args.get("alias")
            if not partitioned and named is not None:
                select = window.find_ancestor(exp.Select)
                for definition in (select.args.get("windows") or []) if select else []:
                    if definition.this.name == named.name:
                        partitioned = bool(definition.args.get("partition_by"))
            if partitioned:
                continue
            func = window.this.sql(dialect="athena")[:60]
            yield ctx.at(
                self, window,
                f"window function {func} has no PARTITION BY: one worker computes it over every row",
                "add PARTITION BY the column the calculation is per",
            )


class UnknownObject(QueryRule):
    """A table or column the catalog does not have.

    What it does:
        Checks every table a query reads, and every column it references, against the
        catalog. Without a catalog it says nothing.

    Why is this bad?
        Athena only finds out when the query runs: a typo in a scheduled query costs
        a failed run, a retry and a page. Caught here it costs nothing. An unknown
        table is often one that lives in another database, or one not crawled yet.

    Example:
        SELECT evnt_type FROM analytics.evnts WHERE year = '2024'

    Use instead:
        SELECT event_type FROM analytics.events WHERE year = '2024'

    References:
        - Working with data sources / AWS Glue Data Catalog (Amazon Athena User Guide):
         :
         https://docs.aws.amazon.com/athena/latest/ug/understanding-tables-databases-and-the-data-catalog.html
    """

    code = "Q010"
    name = "unknown-object"
    needs_catalog = True

    def check(self, ctx: QueryContext) -> Iterable[Violation]:
        if not ctx.catalog.available:
            return
        import difflib

        known = [f"{db}.{name}" for db, name in ctx.catalog.tables()]
        unknown_tables: set[str] = set()
        for table in ctx.real_tables():
            if ctx.catalog.table(table.db or None, table.name) is not None:
                continue
            wanted = _qualified(table)
            unknown_tables.add(wanted.lower())
            close = difflib.get_close_matches(wanted.lower(), known, n=1)
            yield ctx.at(
                self, table,
                f"table {wanted} is not in the catalog",
                f"did you mean {close[0]}?" if close else "`lakekit tables` lists the tables",
            )
        if unknown_tables:
            return  # columns of an unknown table cannot be checked
        yield from self._unknown_columns(ctx)

    def _unknown_columns(self, ctx: QueryContext) -> Iterable[Violation]:
        import difflib

        scans = ctx.scans() or []
        reported: set[str] = set()
        for scan in scans:
            table = ctx.catalog.table(scan.database, scan.name)
            if table is None:
                continue
            known = {c.name.lower() for c in (*table.columns, *table.partition_keys)}
            for name in sorted(scan.columns):
                if name.lower() in known or name.lower() in reported:
                    continue
                reported.add(name.lower())
                node = _column_node(ctx.statement, name, scan.alias) or scan.node
                close = difflib.get_close_matches(name.lower(), sorted(known), n=1)
                yield ctx.at(
                    self, node,
                    f"column {name} is not in {table.qualified_name}",
                    f"did you mean {close[0]}?" if close else f"`lakekit describe {table.qualified_name}` lists the columns",
                )


def _column_node(statement: exp.Expression, name: str, alias: str) -> exp.Column | None:
    """The first place a column is written, for the position of a finding about it."""
    fallback = None
    for column in statement.find_all(exp.Column):
        if column.name.lower() != name.lower():
            continue
        if column.table and column.table.lower() == alias.lower():
            return column
        if fallback is None:
            fallback = column
    return fallback




QUERY_RULES: tuple[type[QueryRule], ...] = (
    SelectStar,
    MissingPartitionFilter,
    PartitionKeyInFunction,
    OrderByWithoutLimit,
    ManyLike,
    ExactCountDistinct,
    LargeTableOnRight,
    CrossJoin,
    WindowWithoutPartition,
    UnknownObject,
)
