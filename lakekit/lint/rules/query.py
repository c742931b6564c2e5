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
from lakekit.lint.pricing import StatementPrice
from lakekit.lint.rules.base import Rule
from lakekit.lint.source import SqlSource
from lakekit.lint.violation import Violation
from lakekit.sql import conjuncts, table_scans
from lakekit.sql.partition_residual import (
    atoms,
    direct_columns,
    mentions_key,
    partition_residual,
    why_not_on_partitions,
)
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
    #: the statement's estimate (None without a catalog that can price it)
    price: StatementPrice | None = None
    #: where the statement's text starts in the source (price offsets are relative to it)
    offset: int = 0
    #: the estimates of every statement of the source, for file-level rules (Q012)
    source_prices: list[StatementPrice | None] = field(default_factory=list, repr=False)
    _scans: Any = field(default=None, repr=False)
    _nodes: list | None = field(default=None, repr=False)

    def find_all(self, *types: type) -> list:
        """Nodes of these types in the statement, from one walk shared by every rule."""
        if self._nodes is None:
            self._nodes = list(self.statement.walk())
        return [node for node in self._nodes if isinstance(node, types)]

    def at(self, rule: Rule, node: exp.Expression, message: str, fix: str | None = None,
           savings: dict | None = None, edits: tuple = ()) -> Violation:
        line, column = self.source.position(node)
        return rule.violation(self.source.path, line, column, message, fix, savings=savings, edits=edits)

    def at_statement(self, rule: Rule, message: str, fix: str | None = None) -> Violation:
        """A finding on the whole statement, at its first token."""
        if self.source.statement_spans:
            line, column = self.source.line_col(self.offset)
        else:
            line, column = self.source.position(self.statement)
        return rule.violation(self.source.path, line, column, message, fix)

    def table_offsets(self, tables: Iterable[exp.Expression]) -> set[int | None]:
        """Offsets, relative to the statement's text, of these tables' names (to find their scans)."""
        found: set[int | None] = set()
        for table in tables:
            meta = table.this.meta if isinstance(table, exp.Table) and table.this is not None else {}
            if "start" in meta:
                found.add(meta["start"] - self.offset)
        return found

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
        any column's data (the estimate bills an `EXISTS` only for the columns it
        filters on). With a catalog, the finding says what the columns only `*` reads
        cost a run.

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
                    savings=_star_savings(ctx, tables),
                )


class MissingPartitionFilter(QueryRule):
    """A partitioned table read with no predicate on any partition key.

    What it does:
        Finds each read of a partitioned table whose WHERE (or JOIN ... ON) conditions
        do not mention any of the table's partition keys. The partition keys come from
        the catalog; without one, `year`, `month`, `day`, `dt` and `date` are assumed
        (`[lint] partition_keys` in lakekit.toml changes that list). A range on the
        table's timestamp column does not count: Athena does not know the partitions
        were computed from it. When such a range implies the partitions, the finding
        says which predicate to add, and `lakekit lint query --fix` adds it (the
        rows do not change). With a catalog the finding says what that saves a run.

    Why is this bad?
        Partitions are how Athena skips data: a predicate on a partition key restricts
        the folders a query lists and reads. Without one, every partition of the table
        is scanned and billed, and the cost grows every day new data arrives.

    Example:
        SELECT event_type, count(*) FROM analytics.events
        WHERE ts >= TIMESTAMP '2024-03-18 00:00:00' AND ts < TIMESTAMP '2024-03-25 00:00:00'
        GROUP BY event_type

    Use instead:
        SELECT event_type, count(*) FROM analytics.events
        WHERE ts >= TIMESTAMP '2024-03-18 00:00:00' AND ts < TIMESTAMP '2024-03-25 00:00:00'
          AND year = '2024' AND month = '03' AND day BETWEEN '18' AND '24'
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
            advice = ctx.price.advice_for(ctx.table_offsets([scan.node])) if ctx.price else None
            fix = f"add a WHERE condition on {ordered[0]}"
            if advice is not None:
                fix = f"add AND {advice.predicate} (implied by the query's range on the timestamp column)"
            yield ctx.at(
                self, scan.node,
                f"{name} is read with no predicate on a partition key ({assumed}{key_list}): every partition is scanned",
                fix,
                savings=ctx.price.savings(advice.bytes_scanned_with, advice.cost_usd_with) if advice else None,
                edits=_advice_edits(ctx, advice),
            )


class PartitionKeyInFunction(QueryRule):
    """A partition key wrapped in a function or cast inside a predicate, which stops pruning.

    What it does:
        Finds partition keys inside a function call or `CAST` in a WHERE or
        JOIN ... ON condition that Athena cannot evaluate from partition values
        alone: the wrapped key is compared with a data column
        (`CAST(day AS integer) = day_of_month(ts)`), with a subquery, with a
        non-deterministic function, or with a partition key of another table, or
        the condition is OR-ed with a condition on row data
        (`CAST(month AS integer) = 3 OR amount > 100`). A function over partition
        keys alone, such as `CAST(month AS integer) BETWEEN 1 AND 3` or
        `concat(year, month) = '202403'`, is not flagged: Athena evaluates it
        against every partition's values and prunes with it.

    Why is this bad?
        Athena prunes partitions by evaluating each condition with the partition's
        values in place of its keys. When the outcome also depends on the rows, no
        partition can be ruled out: every partition's files are listed, opened and
        billed, however few rows the condition keeps.

    Example:
        SELECT count(*) FROM analytics.events
        WHERE CAST(day AS integer) = day_of_month(ts) - 1

    Use instead:
        SELECT count(*) FROM analytics.events
        WHERE year = '2024' AND month = '03' AND day BETWEEN '01' AND '07'
          AND CAST(day AS integer) = day_of_month(ts) - 1

    References:
        - Top 10 performance tuning tips for Amazon Athena ("Partition your data"):
          https://aws.amazon.com/blogs/big-data/top-10-performance-tuning-tips-for-amazon-athena/
        - Partition your data: https://docs.aws.amazon.com/athena/latest/ug/partitions.html
    """

    code = "Q003"
    name = "partition-key-in-function"

    def check(self, ctx: QueryContext) -> Iterable[Violation]:
        is_key = _key_test(ctx)
        if is_key is None:
            return
        for root in _predicate_roots(ctx):
            for conjunct in conjuncts(root):
                yield from self._check_conjunct(ctx, conjunct, is_key)

    def _check_conjunct(self, ctx: QueryContext, conjunct: exp.Expression, is_key) -> Iterator[Violation]:
        residual_lost: bool | None = None
        for atom in atoms(conjunct):
            wrapped = _wrapped_key(atom, is_key)
            if wrapped is None:
                continue
            column, wrapper = wrapped
            reason = why_not_on_partitions(atom, is_key)
            if reason is None:
                if residual_lost is None:
                    residual_lost = not mentions_key(partition_residual(conjunct, is_key), is_key)
                if not residual_lost:
                    continue
                data = sorted({c.name for c in direct_columns(conjunct) if not is_key(c)})
                reason = (f"it is OR-ed with a condition on {', '.join(data)}" if data
                          else "the condition does not depend on it")
            kind = "CAST" if isinstance(wrapper, (exp.Cast, exp.TryCast)) else "a function"
            advice = None
            if ctx.price is not None:
                select = conjunct.find_ancestor(exp.Select)
                advice = ctx.price.advice_for(ctx.table_offsets(_from_sources(select) if select else []))
            fix = f"add a condition on {column.name} alone, compared with constants"
            if advice is not None:
                fix = f"add AND {advice.predicate} (implied by the query's range on the timestamp column)"
            yield ctx.at(
                self, wrapper,
                f"partition key {column.name} is wrapped in {kind} ({wrapper.sql(dialect='athena')[:60]}) "
                f"in a condition Athena cannot evaluate from partition values ({reason}): "
                "it prunes no partition",
                fix,
                savings=ctx.price.savings(advice.bytes_scanned_with, advice.cost_usd_with) if advice else None,
            )


def _star_savings(ctx: QueryContext, tables: list[exp.Table]) -> dict | None:
    """What naming the needed columns would save: the chunks of columns only ``*`` reads."""
    if ctx.price is None:
        return None
    offsets = ctx.table_offsets(tables)
    found = [s for s in ctx.price.star if s.table_offset in offsets]
    if not found:
        return None
    saved = sum(ctx.price.bytes_scanned - s.bytes_scanned_with for s in found)
    cost_saved = sum(ctx.price.cost_usd - s.cost_usd_with for s in found)
    return ctx.price.savings(ctx.price.bytes_scanned - saved, ctx.price.cost_usd - cost_saved)


def _advice_edits(ctx: QueryContext, advice) -> tuple:
    """The text edits adding ``advice``'s predicate to the SELECT that reads its table."""
    if advice is None or advice.table_offset is None:
        return ()
    from lakekit.lint.fix import append_conjunct, edits_of

    wanted = advice.table_offset + ctx.offset
    for table in ctx.find_all(exp.Table):
        if isinstance(table.this, exp.Identifier) and table.this.meta.get("start") == wanted:
            select = table.find_ancestor(exp.Select)
            if select is None:
                return ()
            qualifier = table.alias_or_name if (table.alias or len(_from_sources(select)) > 1) else None
            predicate = _qualify_predicate(advice.predicate, qualifier)
            try:
                return tuple(edits_of(append_conjunct(ctx.source.text, select, predicate)))
            except ValueError:
                return ()
    return ()


def _qualify_predicate(predicate: str, qualifier: str | None) -> str:
    """The advice's predicate with its columns qualified by the scan's alias (when it has one)."""
    if not qualifier:
        return predicate
    import sqlglot

    tree = sqlglot.parse_one(predicate, read="athena")
    for column in tree.find_all(exp.Column):
        column.set("table", exp.to_identifier(qualifier))
    return tree.sql(dialect="athena")


def _key_test(ctx: QueryContext):
    """A test telling partition-key columns from others, or ``None`` when no table read has keys.

    A qualified column is a key of the table its qualifier names; an unqualified one
    is a key when any table the statement reads has a key of that name.
    """
    by_alias: dict[str, frozenset[str]] = {}
    every: set[str] = set()
    for table in ctx.real_tables():
        keys = ctx.catalog.partition_keys(table.db or None, table.name)
        by_alias[table.alias_or_name.lower()] = keys
        every |= keys
    if not every:
        return None

    def is_key(column: exp.Column) -> bool:
        name = column.name.lower()
        if column.table:
            return name in by_alias.get(column.table.lower(), frozenset())
        return name in every

    return is_key


def _wrapped_key(atom: exp.Expression, is_key) -> tuple[exp.Column, exp.Expression] | None:
    """The first partition key inside a function or cast in ``atom``, with its outermost wrapper."""
    for column in direct_columns(atom):
        if not is_key(column):
            continue
        wrapper = None
        node = column.parent
        while node is not None and node is not atom.parent:
            if _is_wrapper(node):
                wrapper = node
            node = node.parent
        if wrapper is not None:
            return column, wrapper
    return None


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


class OverBudget(QueryRule):
    """A query whose estimate is over `--max-cost`.

    What it does:
        Estimates each statement as `lakekit query --dry-run` does (what Athena would
        bill: referenced column chunks of the kept partitions and row groups, footers,
        rounded up to whole MB with a 10 MB minimum) and finds those whose cost is
        over the budget given with `--max-cost USD` (or `max_cost` in `[lint]`). A
        statement the catalog cannot price is not judged. Needs a catalog.

    Why is this bad?
        A scheduled query runs every day, a dashboard query on every refresh: a
        statement that scans a whole table costs that much each time. Caught in CI,
        the expensive version never ships; caught on the bill, it has run for a month.

    Example:
        -- lakekit lint query --max-cost 0.01 daily.sql
        SELECT user_id, amount FROM analytics.events

    Use instead:
        SELECT user_id, amount FROM analytics.events
        WHERE year = '2024' AND month = '03' AND day = '07'

    References:
        - Amazon Athena pricing ($5 per TB scanned, 10 MB minimum):
          https://aws.amazon.com/athena/pricing/
        - Controlling costs, "Per query data usage control" (Amazon Athena User Guide):
          https://docs.aws.amazon.com/athena/latest/ug/workgroups-setting-control-limits-cloudwatch.html
    """

    code = "Q011"
    name = "over-budget"
    needs_catalog = True

    def check(self, ctx: QueryContext) -> Iterable[Violation]:
        budget = ctx.options.max_cost
        if budget is None or ctx.price is None or ctx.price.cost_usd <= budget:
            return
        yield ctx.at_statement(
            self,
            f"estimated cost ${ctx.price.cost_usd:.6f} a run ({human_bytes(ctx.price.bytes_billed)} billed, "
            f"{human_bytes(ctx.price.bytes_scanned)} scanned) is over the budget ${budget:.6f}",
            "bound the partitions and name only the columns needed (lakekit query --dry-run shows the scans)",
        )


class CostIncrease(QueryRule):
    """A query whose estimate grew more than 10% over `--baseline`.

    What it does:
        Compares the estimated bytes scanned of each SQL file (all its statements
        together) with the figure recorded for that path in the baseline file
        (`--baseline FILE`, written by `--write-baseline FILE`: one JSON object,
        path -> bytes), and finds files whose estimate is more than 10% above it.
        Files the baseline does not list are not judged. Needs a catalog.

    Why is this bad?
        A change that drops a partition predicate, or adds `SELECT *` to a scheduled
        query, multiplies its bill by the table's size without any error: the query
        still returns the right rows. A pull request that makes a query ten times
        dearer should fail its check, not pass review unnoticed.

    Example:
        -- baseline: {"queries/daily.sql": 1048576}; the change removed the day predicate
        SELECT sum(amount) FROM analytics.events WHERE year = '2024'

    Use instead:
        SELECT sum(amount) FROM analytics.events WHERE year = '2024' AND month = '03' AND day = '07'
        -- or, when the growth is intended: lakekit lint query --write-baseline baseline.json queries/

    References:
        - Amazon Athena pricing ($5 per TB scanned):
          https://aws.amazon.com/athena/pricing/
        - Top 10 performance tuning tips for Amazon Athena:
          https://aws.amazon.com/blogs/big-data/top-10-performance-tuning-tips-for-amazon-athena/
    """

    code = "Q012"
    name = "cost-increase"
    needs_catalog = True
    #: growth over the baseline that is tolerated (SPEC: more than 10% is a finding)
    tolerance = 0.10

    def check(self, ctx: QueryContext) -> Iterable[Violation]:
        baseline = ctx.options.baseline
        if baseline is None or ctx.statement is not ctx.source.statements[0]:
            return  # judged once a file, on its first statement
        recorded = baseline.get(ctx.source.path)
        if recorded is None or not ctx.source_prices or any(p is None for p in ctx.source_prices):
            return
        now = sum(p.bytes_scanned for p in ctx.source_prices)
        if now <= recorded * (1 + self.tolerance):
            return
        growth = f"{now / recorded:.1f}x" if recorded else "from nothing"
        yield ctx.at_statement(
            self,
            f"estimate grew to {human_bytes(now)} scanned from {human_bytes(recorded)} in the baseline ({growth}, "
            f"${sum(p.cost_usd for p in ctx.source_prices):.6f} a run)",
            "bound the scan again, or record the new figure with --write-baseline",
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
    OverBudget,
    CostIncrease,
)
