"""The scan estimate: what Athena would read and bill for a query, before it runs.

For each scan of a table (see :func:`lakekit.sql.table_scans`):

1. **Partitions.** Every conjunct over partition keys alone is evaluated against each
   registered partition's values (all at once, on DuckDB, over a small table of the
   partitions), as Athena's engine does: any deterministic expression works, not only
   a list of recognised forms. Conjuncts on the table's timestamp column become a
   range of instants and keep only the ``year=/month=/day=`` partitions that overlap it.
2. **Files.** The kept partitions' files, less those whose names start with ``_`` or
   ``.`` (Athena skips them). Each opened file costs its footer: the serialized
   footer length + 8 bytes (4-byte length and the ``PAR1`` magic).
3. **Row groups.** Conjuncts that bound one data column (comparisons with constants,
   ``BETWEEN``, ``IN``, ``IS [NOT] NULL``, combined with ``AND``/``OR``/``NOT``) become
   a domain of values; a row group whose min/max (and null count) cannot meet it is
   skipped, as Trino's Parquet reader skips it.
4. **Columns.** In the kept row groups, the compressed size of the chunks of the
   columns the scan references. Partition keys live in paths and cost nothing.

The bytes add up over scans (a self-join reads the table twice), are rounded up to a
whole MB (2^20 bytes) with a 10 MB minimum per query, and are priced per TB
(2^40 bytes).
"""

from __future__ import annotations

import datetime as dt
import math
import posixpath
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

import sqlglot  # noqa: F401 - the doctests use it
from sqlglot import exp

from lakekit.catalog.base import DataFile, Partition, Table
from lakekit.parquet_stats import decode_stat
from lakekit.sql import DIALECT, TableScan

__all__ = [
    "MB",
    "MIN_BILLED_BYTES",
    "TB",
    "Estimate",
    "TableEstimate",
    "billed_bytes",
    "cost_usd",
    "ScanPlan",
    "estimate_scans",
    "plan_scans",
    "is_hidden_file",
]

#: Athena rounds scanned bytes up to whole megabytes ...
MB = 2**20
#: ... bills at least 10 MB per query ...
MIN_BILLED_BYTES = 10 * MB
#: ... and prices per terabyte, 2^40 bytes.
TB = 2**40

_TIME_KEYS = ("year", "month", "day")


def billed_bytes(bytes_scanned: int) -> int:
    """Bytes Athena bills for a query that scanned ``bytes_scanned``.

    Rounded up to a whole MB, at least 10 MB: the minimum is per query, so a query
    that reads nothing (every partition pruned) still bills 10 MB.

    >>> billed_bytes(1), billed_bytes(10 * MB + 1), billed_bytes(0)
    (10485760, 11534336, 10485760)
    """
    return max(MIN_BILLED_BYTES, math.ceil(max(bytes_scanned, 0) / MB) * MB)


def cost_usd(bytes_billed: int, price_per_tb: float = 5.0) -> float:
    """Dollars for ``bytes_billed`` at ``price_per_tb`` (1 TB = 2^40 bytes).

    >>> cost_usd(TB), cost_usd(MIN_BILLED_BYTES)
    (5.0, 4.76837158203125e-05)
    """
    return bytes_billed * price_per_tb / TB


def is_hidden_file(uri: str) -> bool:
    """True for files Athena ignores: names starting with ``_`` or ``.``.

    >>> is_hidden_file("s3://b/t/_SUCCESS"), is_hidden_file("/lake/t/.part.crc"), is_hidden_file("part-0.parquet")
    (True, True, False)
    """
    name = posixpath.basename(uri.rstrip("/"))
    return name.startswith(("_", "."))


@dataclass(frozen=True)
class TableEstimate:
    """What one scan of one table reads."""

    table: str
    partitions_total: int
    partitions_scanned: int
    files_scanned: int
    row_groups_scanned: int
    columns: tuple[str, ...]
    bytes_scanned: int
    #: why pruning could not use a predicate, when it could not
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "partitions_total": self.partitions_total,
            "partitions_scanned": self.partitions_scanned,
            "files_scanned": self.files_scanned,
            "row_groups_scanned": self.row_groups_scanned,
            "columns": list(self.columns),
            "bytes_scanned": self.bytes_scanned,
        }


@dataclass(frozen=True)
class Estimate:
    """A query's estimate, in SPEC's JSON shape via :meth:`to_dict`."""

    bytes_scanned: int
    bytes_billed: int
    cost_usd: float
    price_per_tb_usd: float
    tables: tuple[TableEstimate, ...] = ()

    @property
    def notes(self) -> list[str]:
        """One line per scan whose pruning was limited, saying which predicate and why."""
        return [f"{t.table}: {t.note}" for t in self.tables if t.note]

    def to_dict(self) -> dict[str, Any]:
        return {
            "bytes_scanned": self.bytes_scanned,
            "bytes_billed": self.bytes_billed,
            "cost_usd": self.cost_usd,
            "price_per_tb_usd": self.price_per_tb_usd,
            "tables": [t.to_dict() for t in self.tables],
        }

    @classmethod
    def from_tables(cls, tables: Sequence[TableEstimate], price_per_tb: float = 5.0) -> "Estimate":
        """Add the scans up and apply Athena's billing rules.

        >>> t = TableEstimate("db.t", 1, 1, 1, 1, ("x",), 1234)
        >>> e = Estimate.from_tables([t, t])
        >>> e.bytes_scanned, e.bytes_billed
        (2468, 10485760)
        """
        scanned = sum(t.bytes_scanned for t in tables)
        billed = billed_bytes(scanned)
        return cls(scanned, billed, cost_usd(billed, price_per_tb), float(price_per_tb), tuple(tables))


# --------------------------------------------------------------------------------------
# Estimating one scan


#: Supplies a table's file statistics; the query layer reads footers on demand for
#: tables whose catalog holds none (and caches them there).
FilesProvider = Callable[[Table, Sequence[Partition]], Sequence[DataFile]]


@dataclass(frozen=True)
class ScanPlan:
    """One scan, pruned: the partitions and files it keeps and what reading them costs."""

    scan: TableScan
    table: Table
    partitions: tuple[Partition, ...]
    files: tuple[DataFile, ...]
    estimate: TableEstimate


def plan_scans(
    scans: Iterable[tuple[TableScan, Table]],
    partitions_of: Callable[[Table], Sequence[Partition]],
    files_of: FilesProvider,
    evaluator: "ConstantEvaluator | None" = None,
) -> list[ScanPlan]:
    """Prune and size every scan.

    Args:
        scans: each scan with the catalog table it reads.
        partitions_of: the table's registered partitions.
        files_of: the data files (with footer statistics) of the given partitions.
        evaluator: evaluates constant and partition expressions (one DuckDB connection).
    """
    own = evaluator is None
    evaluator = evaluator or ConstantEvaluator()
    try:
        return [plan_scan(scan, table, partitions_of(table), files_of, evaluator) for scan, table in scans]
    finally:
        if own:
            evaluator.close()


def estimate_scans(
    scans: Iterable[tuple[TableScan, Table]],
    partitions_of: Callable[[Table], Sequence[Partition]],
    files_of: FilesProvider,
    price_per_tb: float = 5.0,
) -> Estimate:
    """Estimate every scan and add them up (see :func:`plan_scans`)."""
    plans = plan_scans(scans, partitions_of, files_of)
    return Estimate.from_tables([p.estimate for p in plans], price_per_tb)


def plan_scan(
    scan: TableScan,
    table: Table,
    partitions: Sequence[Partition],
    files_of: FilesProvider,
    evaluator: "ConstantEvaluator",
) -> ScanPlan:
    """What one scan reads: kept partitions x referenced columns x row groups that may match."""
    key_names = [k.name for k in table.partition_keys]
    notes: list[str] = []
    if scan.reason:
        notes.append(scan.reason)

    key_conjuncts, ts_conjuncts, column_conjuncts = _classify(scan.predicates, set(key_names), table)

    if key_names:
        kept = _prune_by_values(partitions, key_names, table, key_conjuncts, evaluator, notes)
        kept = _prune_by_time(kept, key_names, table, ts_conjuncts, evaluator)
    else:
        kept = list(partitions)

    files = list(files_of(table, kept)) if (kept or not key_names) else []
    if key_names:
        wanted = {tuple(p.values) for p in kept}
        files = [f for f in files if tuple(f.partition_values) in wanted]
    files = [f for f in files if not is_hidden_file(f.uri)]

    data_columns = {c.name for c in table.columns}
    read_columns = sorted(c for c in scan.columns if c in data_columns)
    domains = _column_domains(column_conjuncts, table, evaluator)

    total = 0
    row_groups = 0
    for f in files:
        total += f.footer_length + 8
        for rg in f.row_groups:
            if not _row_group_may_match(rg, domains, table):
                continue
            row_groups += 1
            for name in read_columns:
                chunk = rg.columns.get(name)
                if chunk is not None:
                    total += chunk.compressed_size

    estimate = TableEstimate(
        table=table.qualified_name,
        partitions_total=len(partitions) if key_names else 0,
        partitions_scanned=len(kept) if key_names else 0,
        files_scanned=len(files),
        row_groups_scanned=row_groups,
        columns=tuple(read_columns),
        bytes_scanned=total,
        note="; ".join(notes) if notes else None,
    )
    return ScanPlan(scan, table, tuple(kept), tuple(files), estimate)


def _classify(
    predicates: Sequence[exp.Expression], keys: set[str], table: Table
) -> tuple[list[exp.Expression], list[exp.Expression], list[tuple[str, exp.Expression]]]:
    """Split a scan's conjuncts: over partition keys, over the timestamp column, over one data column."""
    on_keys, on_time, on_column = [], [], []
    ts = table.timestamp_column
    for p in predicates:
        names = {c.name for c in p.find_all(exp.Column)}
        if not names:
            continue
        if names <= keys:
            on_keys.append(p)
            continue
        if len(names) == 1:
            (name,) = names
            if name == ts:
                on_time.append(p)
            if name not in keys:
                on_column.append((name, p))
    return on_keys, on_time, on_column


# --------------------------------------------------------------------------------------
# Partition pruning by evaluating predicates over the partition values


def _prune_by_values(
    partitions: Sequence[Partition],
    keys: list[str],
    table: Table,
    conjuncts: list[exp.Expression],
    evaluator: "ConstantEvaluator",
    notes: list[str],
) -> list[Partition]:
    if not conjuncts or not partitions:
        return list(partitions)
    kept = list(partitions)
    for conjunct in conjuncts:
        try:
            mask = evaluator.filter_partitions(kept, keys, table, conjunct)
        except _CannotEvaluate as ex:
            notes.append(f"predicate {_unqualified(conjunct).sql(dialect=DIALECT)} cannot prune ({ex})")
            continue
        kept = [p for p, keep in zip(kept, mask) if keep]
    return kept


def _unqualified(condition: exp.Expression) -> exp.Expression:
    copy = condition.copy()
    for col in copy.find_all(exp.Column):
        col.set("table", None)
    return copy


class _CannotEvaluate(Exception):
    """An expression the estimate cannot evaluate before the query runs."""


_ATHENA_TO_DUCKDB_TYPES = {
    "string": "VARCHAR", "varchar": "VARCHAR", "bigint": "BIGINT", "int": "INTEGER",
    "integer": "INTEGER", "smallint": "SMALLINT", "tinyint": "TINYINT", "double": "DOUBLE",
    "float": "FLOAT", "real": "FLOAT", "boolean": "BOOLEAN", "date": "DATE", "timestamp": "TIMESTAMP",
}


class ConstantEvaluator:
    """Evaluates constant expressions and partition predicates on an in-memory DuckDB.

    DuckDB runs the expressions after a sqlglot transpile from Athena's dialect, so
    ``concat(year, month) = '202403'``, ``CAST(month AS integer) BETWEEN 3 AND 5`` or
    ``date_parse(...)`` evaluate with the same meaning they have on Athena.

    >>> ev = ConstantEvaluator()
    >>> ev.constant(sqlglot.parse_one("DATE '2024-03-01' + INTERVAL '1' DAY", read="athena"), "date")
    datetime.date(2024, 3, 2)
    """

    def __init__(self) -> None:
        self._con = None
        self._cache: dict[tuple[str, str], Any] = {}

    def _connection(self):
        if self._con is None:
            from lakekit.engines.local import duckdb_connect

            self._con = duckdb_connect()
        return self._con

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None

    def constant(self, node: exp.Expression, athena_type: str) -> Any:
        """The value of a column-free expression, as the Python type of ``athena_type``."""
        value = _literal_value(node, athena_type)
        if value is not _NOT_LITERAL:
            return value
        sql = node.sql(dialect="duckdb")
        key = (sql, athena_type)
        if key not in self._cache:
            target = _ATHENA_TO_DUCKDB_TYPES.get(athena_type)
            if target is None:
                raise _CannotEvaluate(f"type {athena_type}")
            try:
                row = self._connection().execute(f"SELECT CAST(({sql}) AS {target})").fetchone()
            except Exception as ex:  # noqa: BLE001 - any DuckDB failure: not evaluable here
                raise _CannotEvaluate(_first_line(ex)) from ex
            self._cache[key] = _naive_utc(row[0])
        return self._cache[key]

    def filter_partitions(
        self, partitions: Sequence[Partition], keys: list[str], table: Table, condition: exp.Expression
    ) -> list[bool]:
        """Which partitions ``condition`` (over partition keys only) keeps."""
        import pyarrow as pa

        con = self._connection()
        columns = {k: [p.values[i] if i < len(p.values) else None for p in partitions] for i, k in enumerate(keys)}
        arrow = pa.table({f"k{i}": pa.array(v, pa.string()) for i, v in enumerate(columns.values())})
        casts = []
        for i, key in enumerate(keys):
            column = table.column(key)
            target = _ATHENA_TO_DUCKDB_TYPES.get(column.type if column else "string", "VARCHAR")
            casts.append(f'TRY_CAST(k{i} AS {target}) AS "{key}"')
        body = _unqualified(condition).sql(dialect="duckdb")
        con.register("lakekit_partition_values", arrow)
        try:
            rows = con.execute(
                f"SELECT COALESCE(({body}), false) FROM (SELECT {', '.join(casts)} FROM lakekit_partition_values)"
            ).fetchall()
        except Exception as ex:  # noqa: BLE001 - the engine would fail or not prune: keep all
            raise _CannotEvaluate(_first_line(ex)) from ex
        finally:
            con.unregister("lakekit_partition_values")
        return [bool(r[0]) for r in rows]


_NOT_LITERAL = object()


def _first_line(ex: BaseException) -> str:
    text = str(ex).strip().splitlines()
    return text[0] if text else type(ex).__name__


def _naive_utc(value: Any) -> Any:
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value


def _literal_value(node: exp.Expression, athena_type: str) -> Any:
    """Fast path for plain literals; ``_NOT_LITERAL`` sends the rest to DuckDB."""
    if isinstance(node, exp.Paren):
        return _literal_value(node.this, athena_type)
    if isinstance(node, exp.Literal):
        if node.is_string:
            text = node.this
            if athena_type in ("string", "varchar") or athena_type.startswith(("varchar", "char")):
                return text
            return _NOT_LITERAL
        if athena_type in ("string", "varchar"):
            raise _CannotEvaluate("a number compared with a string column")
        number = node.this
        return float(number) if any(ch in number for ch in ".eE") else int(number)
    if isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal) and not node.this.is_string:
        value = _literal_value(node.this, athena_type)
        return -value if isinstance(value, (int, float)) else _NOT_LITERAL
    if isinstance(node, exp.Boolean):
        return bool(node.this)
    if isinstance(node, exp.Null):
        raise _CannotEvaluate("NULL")
    return _NOT_LITERAL


# --------------------------------------------------------------------------------------
# Domains: the set of values a predicate lets through, as ranges plus a NULL verdict.


@dataclass(frozen=True)
class _Range:
    lo: Any = None  # None: unbounded
    lo_inclusive: bool = False
    hi: Any = None
    hi_inclusive: bool = False

    def overlaps(self, lo: Any, hi: Any) -> bool:
        """Whether this range meets the closed interval [lo, hi]."""
        if self.lo is not None:
            if hi < self.lo or (hi == self.lo and not self.lo_inclusive):
                return False
        if self.hi is not None:
            if lo > self.hi or (lo == self.hi and not self.hi_inclusive):
                return False
        return True

    def intersect(self, other: "_Range") -> "_Range | None":
        lo, lo_inc = self.lo, self.lo_inclusive
        if other.lo is not None and (lo is None or other.lo > lo or (other.lo == lo and not other.lo_inclusive)):
            lo, lo_inc = other.lo, other.lo_inclusive
        hi, hi_inc = self.hi, self.hi_inclusive
        if other.hi is not None and (hi is None or other.hi < hi or (other.hi == hi and not other.hi_inclusive)):
            hi, hi_inc = other.hi, other.hi_inclusive
        if lo is not None and hi is not None and (lo > hi or (lo == hi and not (lo_inc and hi_inc))):
            return None
        return _Range(lo, lo_inc, hi, hi_inc)


@dataclass(frozen=True)
class _Domain:
    ranges: tuple[_Range, ...]
    #: the predicate's verdict on NULL: True keeps it, False and None (unknown) drop it
    null: bool | None = None

    def and_(self, other: "_Domain") -> "_Domain":
        ranges = tuple(r for a in self.ranges for b in other.ranges if (r := a.intersect(b)) is not None)
        return _Domain(ranges, _and3(self.null, other.null))

    def or_(self, other: "_Domain") -> "_Domain":
        return _Domain(self.ranges + other.ranges, _or3(self.null, other.null))

    def not_(self) -> "_Domain":
        complement = (_Range(),)
        for r in self.ranges:
            pieces = []
            if r.lo is not None:
                pieces.append(_Range(None, False, r.lo, not r.lo_inclusive))
            if r.hi is not None:
                pieces.append(_Range(r.hi, not r.hi_inclusive, None, False))
            outside = _Domain(tuple(pieces))
            complement = tuple(x for a in complement for b in outside.ranges if (x := a.intersect(b)) is not None)
        null = None if self.null is None else not self.null
        return _Domain(complement, null)

    def may_match(self, lo: Any, hi: Any, nulls: int | None, rows: int) -> bool:
        if self.null is True and (nulls is None or nulls > 0):
            return True
        if lo is None or hi is None:
            # no range known: only an all-NULL chunk can be ruled out
            return not (nulls is not None and nulls >= rows)
        try:
            return any(r.overlaps(lo, hi) for r in self.ranges)
        except TypeError:  # values of kinds that do not compare: cannot rule anything out
            return True


def _and3(a: bool | None, b: bool | None) -> bool | None:
    if a is False or b is False:
        return False
    if a is True and b is True:
        return True
    return None


def _or3(a: bool | None, b: bool | None) -> bool | None:
    if a is True or b is True:
        return True
    if a is False and b is False:
        return False
    return None


_FLIP = {exp.GT: exp.LT, exp.GTE: exp.LTE, exp.LT: exp.GT, exp.LTE: exp.GTE, exp.EQ: exp.EQ, exp.NEQ: exp.NEQ}


def _domain(node: exp.Expression, column: str, athena_type: str, evaluator: ConstantEvaluator) -> _Domain | None:
    """The values of ``column`` that ``node`` lets through; None when it cannot tell."""
    if isinstance(node, exp.Paren):
        return _domain(node.this, column, athena_type, evaluator)
    if isinstance(node, exp.And):
        left = _domain(node.left, column, athena_type, evaluator)
        right = _domain(node.right, column, athena_type, evaluator)
        if left is None or right is None:
            return left or right
        return left.and_(right)
    if isinstance(node, exp.Or):
        left = _domain(node.left, column, athena_type, evaluator)
        right = _domain(node.right, column, athena_type, evaluator)
        return None if left is None or right is None else left.or_(right)
    if isinstance(node, exp.Not):
        inner = _domain(node.this, column, athena_type, evaluator)
        return None if inner is None else inner.not_()
    if isinstance(node, exp.Is) and isinstance(node.expression, exp.Null):
        return _Domain((), True) if _is_column(node.this, column) else None
    try:
        if type(node) in _FLIP:
            left, right = node.this, node.expression
            op = type(node)
            if not _is_column(left, column):
                left, right, op = right, left, _FLIP[op]
            if not _is_column(left, column) or right.find(exp.Column):
                return _date_of_timestamp(node, column, athena_type, evaluator)
            return _comparison(op, evaluator.constant(right, athena_type))
        if isinstance(node, exp.Between) and _is_column(node.this, column):
            lo = evaluator.constant(node.args["low"], athena_type)
            hi = evaluator.constant(node.args["high"], athena_type)
            return _Domain((_Range(lo, True, hi, True),), None)
        if isinstance(node, exp.In) and _is_column(node.this, column) and not node.args.get("query"):
            values = [evaluator.constant(v, athena_type) for v in node.expressions]
            return _Domain(tuple(_Range(v, True, v, True) for v in values), None)
    except _CannotEvaluate:
        return None
    return None


def _comparison(op: type, value: Any) -> _Domain:
    if op is exp.EQ:
        return _Domain((_Range(value, True, value, True),), None)
    if op is exp.NEQ:
        return _Domain((_Range(None, False, value, False), _Range(value, False, None, False)), None)
    if op is exp.GT:
        return _Domain((_Range(value, False, None, False),), None)
    if op is exp.GTE:
        return _Domain((_Range(value, True, None, False),), None)
    if op is exp.LT:
        return _Domain((_Range(None, False, value, False),), None)
    return _Domain((_Range(None, False, value, True),), None)  # LTE


def _date_of_timestamp(
    node: exp.Expression, column: str, athena_type: str, evaluator: ConstantEvaluator
) -> _Domain | None:
    """``date(ts) op D`` / ``CAST(ts AS date) op D`` as a range of instants of ``ts``."""
    if athena_type != "timestamp":
        return None
    left, right, op = node.this, node.expression, type(node)
    if not _is_date_of(left, column):
        left, right, op = right, left, _FLIP[op]
    if not _is_date_of(left, column) or right.find(exp.Column):
        return None
    day = evaluator.constant(right, "date")
    if isinstance(day, dt.datetime):
        day = day.date()
    days = _comparison(op, day)
    ranges = []
    for r in days.ranges:
        lo = hi = None
        lo_inc = hi_inc = False
        if r.lo is not None:
            start = r.lo if r.lo_inclusive else r.lo + dt.timedelta(days=1)
            lo, lo_inc = dt.datetime.combine(start, dt.time()), True
        if r.hi is not None:
            end = r.hi + dt.timedelta(days=1) if r.hi_inclusive else r.hi
            hi, hi_inc = dt.datetime.combine(end, dt.time()), False
        ranges.append(_Range(lo, lo_inc, hi, hi_inc))
    return _Domain(tuple(ranges), None)


def _is_column(node: exp.Expression, column: str) -> bool:
    return isinstance(node, exp.Column) and node.name == column


def _is_date_of(node: exp.Expression, column: str) -> bool:
    if isinstance(node, exp.Date) and _is_column(node.this, column):
        return True
    if isinstance(node, (exp.Cast, exp.TryCast)) and _is_column(node.this, column):
        return node.to.is_type(exp.DataType.Type.DATE)
    return False


# --------------------------------------------------------------------------------------
# Time-range pruning of year=/month=/day= partitions, and row-group pruning


def _prune_by_time(
    partitions: list[Partition],
    keys: list[str],
    table: Table,
    conjuncts: list[exp.Expression],
    evaluator: ConstantEvaluator,
) -> list[Partition]:
    ts = table.timestamp_column
    if not conjuncts or not ts or not set(keys) & set(_TIME_KEYS):
        return partitions
    column = table.column(ts)
    domain = _combined_domain(conjuncts, ts, column.type if column else "timestamp", evaluator)
    if domain is None:
        return partitions
    kept = []
    for p in partitions:
        span = _partition_span(dict(zip(keys, p.values)))
        if span is None or domain.may_match(span[0], span[1], 0, 1):
            kept.append(p)
    return kept


def _partition_span(values: dict[str, str]) -> tuple[dt.datetime, dt.datetime] | None:
    """First and last instant a ``year=/month=/day=`` partition can hold (UTC)."""
    try:
        year = int(values["year"])
        if "month" not in values:
            start = dt.datetime(year, 1, 1)
            end = dt.datetime(year + 1, 1, 1)
        else:
            month = int(values["month"])
            if "day" not in values:
                start = dt.datetime(year, month, 1)
                end = dt.datetime(year + (month == 12), month % 12 + 1, 1)
            else:
                start = dt.datetime(year, month, int(values["day"]))
                end = start + dt.timedelta(days=1)
    except (KeyError, ValueError, TypeError):
        return None
    return start, end - dt.timedelta(microseconds=1)


def _combined_domain(
    conjuncts: Iterable[exp.Expression], column: str, athena_type: str, evaluator: ConstantEvaluator
) -> _Domain | None:
    result = None
    for c in conjuncts:
        d = _domain(c, column, athena_type, evaluator)
        if d is None:
            continue
        result = d if result is None else result.and_(d)
    return result


@dataclass
class _ColumnDomain:
    name: str
    athena_type: str
    domain: _Domain = field(default_factory=lambda: _Domain((_Range(),), None))


def _column_domains(
    conjuncts: list[tuple[str, exp.Expression]], table: Table, evaluator: ConstantEvaluator
) -> list[_ColumnDomain]:
    by_column: dict[str, list[exp.Expression]] = {}
    for name, c in conjuncts:
        by_column.setdefault(name, []).append(c)
    result = []
    for name, items in by_column.items():
        column = table.column(name)
        if column is None:
            continue
        domain = _combined_domain(items, name, column.type, evaluator)
        if domain is not None:
            result.append(_ColumnDomain(name, column.type, domain))
    return result


def _row_group_may_match(rg, domains: list[_ColumnDomain], table: Table) -> bool:
    for d in domains:
        chunk = rg.columns.get(d.name)
        if chunk is None:
            continue
        try:
            lo = decode_stat(chunk.min, d.athena_type)
            hi = decode_stat(chunk.max, d.athena_type)
        except (TypeError, ValueError):
            continue
        if not d.domain.may_match(lo, hi, chunk.null_count, rg.rows):
            return False
    return True
