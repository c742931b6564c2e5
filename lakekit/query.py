"""Run SQL on the lake, with the scan estimate computed before anything runs.

>>> import lakekit
>>> lakekit.query("SELECT 1 AS one", warehouse=__import__("tempfile").mkdtemp()).to_pylist()
[{'one': 1}]
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Sequence

import pyarrow as pa

from lakekit.catalog import Catalog, DataFile, Partition, Table, open_catalog, require_table
from lakekit.catalog.projection import is_projected
from lakekit.config import Settings, resolve_settings
from lakekit.cost import Estimate, ScanPlan, is_hidden_file, plan_scans
from lakekit.engines import Engine, EngineResult, open_engine
from lakekit.errors import BudgetExceeded, InputError, LakekitError, TableNotFound, UsageError
from lakekit.sql import TableScan, catalog_schema, parse_statements, table_scans
from lakekit.storage import Storage

if TYPE_CHECKING:  # pragma: no cover
    import boto3
    from sqlglot import exp

__all__ = ["ActualScan", "QueryPlan", "QueryResult", "estimate", "plan_query", "query", "run_query"]


@dataclass(frozen=True)
class ActualScan:
    """What the engine reported after running the query."""

    bytes_scanned: int | None
    seconds: float
    rows: int
    engine_seconds: float | None = None
    query_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"bytes_scanned": self.bytes_scanned, "seconds": round(self.seconds, 3), "rows": self.rows}


@dataclass
class QueryPlan:
    """A parsed, qualified statement with its scans pruned and sized."""

    sql: str
    statement: "exp.Expression"
    plans: list[ScanPlan]
    estimate: Estimate
    default_database: str | None = None


@dataclass
class QueryResult:
    """A query's rows with the estimate made before it ran and what it really read."""

    table: pa.Table
    estimate: Estimate
    actual: ActualScan
    engine: str

    def to_dict(self, rows: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {"estimate": self.estimate.to_dict(), "actual": self.actual.to_dict()}
        if rows:
            out["rows"] = self.table.to_pylist()
        return out


def _settings(settings: Settings | None, **flags: Any) -> Settings:
    if settings is not None:
        overrides = {k: v for k, v in flags.items() if v is not None}
        if not overrides:
            return settings
        from dataclasses import replace

        return replace(settings, **overrides)
    return resolve_settings(**flags)


def plan_query(
    sql: str,
    *,
    catalog: Catalog,
    storage: Storage,
    price_per_tb: float = 5.0,
    default_database: str | None = None,
) -> QueryPlan:
    """Parse one statement, find its scans, prune and size them against ``catalog``."""
    statements = parse_statements(sql)
    if len(statements) > 1:
        raise UsageError(f"one statement at a time, got {len(statements)}; run them one by one")
    [statement] = statements
    schema = _schema_for(statement, catalog)
    scans = table_scans(statement, schema, default_database=default_database)
    resolved: list[tuple[TableScan, Table]] = []
    tables: dict[tuple[str, str], Table] = {}
    for scan in scans:
        database = scan.database or _database_of(scan.name, schema)
        key = (database, scan.name)
        if key not in tables:
            tables[key] = require_table(catalog, database, scan.name)
        resolved.append((scan, tables[key]))
    qualified = scans[0].node.root() if scans else statement

    partitions_cache: dict[str, list[Partition]] = {}

    def partitions_of(table: Table) -> list[Partition]:
        if table.qualified_name not in partitions_cache:
            partitions = catalog.list_partitions(table.database, table.name)
            if not partitions and table.partition_keys and is_projected(table):
                partitions = _projected_partitions(table, catalog, storage)
            partitions_cache[table.qualified_name] = partitions
        return partitions_cache[table.qualified_name]

    files_of = _FileStats(catalog, storage)
    plans = plan_scans(resolved, partitions_of, files_of)
    est = Estimate.from_tables([p.estimate for p in plans], price_per_tb)
    return QueryPlan(sql, qualified, plans, est, default_database)


def _schema_for(statement: "exp.Expression", catalog: Catalog) -> dict:
    """The MappingSchema of the tables ``statement`` names (not every catalog table:
    listing a whole Glue catalog for one query would dominate the estimate)."""
    from sqlglot import exp

    ctes = {cte.alias_or_name for cte in statement.find_all(exp.CTE)}
    schema: dict[str, dict[str, dict[str, str]]] = {}
    unqualified = False
    for node in statement.find_all(exp.Table):
        if not node.name or (not node.db and node.name.lower() in {c.lower() for c in ctes}):
            continue
        if not node.db:
            unqualified = True
            continue
        table = require_table(catalog, node.db.lower(), node.name.lower())  # Athena folds case
        schema.setdefault(table.database, {})[table.name] = {
            c.name: c.type for c in (*table.columns, *table.partition_keys)
        }
    if unqualified:  # a table written without its database: any database may hold it
        for db, tables in catalog_schema(catalog).items():
            schema.setdefault(db, {}).update(tables)
    return schema


def _projected_partitions(table: Table, catalog: Catalog, storage: Storage) -> list[Partition]:
    """The partitions of a table whose partitions Athena projects (none are registered).

    Athena enumerates the projected values and reads the folders that hold files; the
    partitions that hold files are those of the catalog's file statistics, or, when it
    has none, the ``key=value`` folders found in storage.
    """
    keys = [k.name for k in table.partition_keys]
    values = {tuple(f.partition_values) for f in catalog.list_files(table.database, table.name) if f.partition_values}
    if not values:
        base = table.location.rstrip("/")
        for entry in storage.list_files(table.location):
            if is_hidden_file(entry.uri):
                continue
            found = dict(
                part.split("=", 1) for part in entry.uri[len(base):].strip("/").split("/")[:-1] if "=" in part
            )
            if set(keys) <= set(found):
                values.add(tuple(found[k] for k in keys))
    template = table.parameters.get("storage.location.template")
    partitions = []
    for vals in sorted(values):
        if template:
            location = template
            for key, value in zip(keys, vals):
                location = location.replace("${" + key + "}", value)
        else:
            location = "/".join([table.location.rstrip("/"), *(f"{k}={v}" for k, v in zip(keys, vals))])
        partitions.append(Partition(vals, location))
    return partitions


def _database_of(name: str, schema: dict) -> str:
    """The database of a table written without one: the only database that has it."""
    holders = sorted(db for db, tables in schema.items() if name in tables)
    if len(holders) == 1:
        return holders[0]
    if not holders:
        raise TableNotFound(f"table {name} not found in any database; write it as DB.TABLE (`lakekit tables` lists them)")
    raise UsageError(f"table {name} exists in databases {', '.join(holders)}; write it as DB.{name}")


class _FileStats:
    """File statistics from the catalog; footers read on demand (and cached there)
    for partitions whose files the catalog does not know, e.g. after a crawl."""

    def __init__(self, catalog: Catalog, storage: Storage) -> None:
        self._catalog = catalog
        self._storage = storage
        self._files: dict[str, list[DataFile]] = {}
        #: partition values whose statistics were fetched, per table (None: all of them)
        self._fetched: dict[str, set[tuple[str, ...]] | None] = {}
        try:
            import inspect

            self._can_filter = "partitions" in inspect.signature(catalog.list_files).parameters
        except (TypeError, ValueError):  # pragma: no cover - callables without a signature
            self._can_filter = False

    def __call__(self, table: Table, partitions: Sequence[Partition]) -> list[DataFile]:
        key = table.qualified_name
        self._fetch(table, partitions)
        files = self._files[key]
        if table.partition_keys:
            known = {tuple(f.partition_values) for f in files}
            missing = [(p.location, tuple(p.values)) for p in partitions if tuple(p.values) not in known]
        else:
            missing = [] if files else [(table.location, ())]
        if missing:
            fresh = [
                self._read_footer(uri, values)
                for location, values in missing
                for uri in self._data_files(location)
            ]
            if fresh:
                self._catalog.put_files(table.database, table.name, fresh)
                self._files[key] = files + fresh
        return self._files[key]

    def _fetch(self, table: Table, partitions: Sequence[Partition]) -> None:
        """Load the catalog's statistics: only the kept partitions' when the catalog can
        filter (decoding every file's statistics dominates estimates of large tables)."""
        key = table.qualified_name
        if key in self._fetched and self._fetched[key] is None:
            return
        if not (self._can_filter and table.partition_keys):
            self._files[key] = self._catalog.list_files(table.database, table.name)
            self._fetched[key] = None
            return
        done = self._fetched.setdefault(key, set())
        wanted = [tuple(p.values) for p in partitions if tuple(p.values) not in done]
        found = self._catalog.list_files(table.database, table.name, partitions=wanted) if wanted else []
        self._files[key] = self._files.get(key, []) + list(found)
        done.update(wanted)

    def _data_files(self, location: str) -> list[str]:
        return sorted(e.uri for e in self._storage.list_files(location) if not is_hidden_file(e.uri))

    def _read_footer(self, uri: str, values: tuple[str, ...]) -> DataFile:
        from lakekit.parquet_stats import read_file_stats

        try:
            return read_file_stats(self._storage, uri, values)
        except LakekitError:
            raise
        except (OSError, pa.ArrowException) as ex:
            raise InputError(
                f"cannot read the Parquet footer of {uri}: {ex}; lakekit estimates Parquet tables only"
            ) from ex


def estimate(
    sql: str,
    *,
    price_per_tb: float | None = None,
    warehouse: str | None = None,
    catalog: str | None = None,
    settings: Settings | None = None,
    boto3_session: "boto3.Session | None" = None,
) -> Estimate:
    """What ``sql`` would scan and cost on Athena, without running it.

    Args:
        sql: one statement in Athena's dialect.
        price_per_tb: dollars per TB (2^40 bytes); default from settings ($5.00).
        warehouse, catalog, settings: where the lake is (as on the command line).
        boto3_session: for Glue and S3.

    >>> import tempfile
    >>> lakekit_estimate = estimate("SELECT 1", warehouse=tempfile.mkdtemp())
    >>> lakekit_estimate.bytes_scanned, lakekit_estimate.bytes_billed
    (0, 10485760)
    """
    s = _settings(settings, warehouse=warehouse, catalog=catalog)
    price = float(price_per_tb if price_per_tb is not None else s.price_per_tb)
    _check_price(price)
    cat = open_catalog(s, boto3_session=boto3_session)
    try:
        return plan_query(sql, catalog=cat, storage=Storage(s.warehouse, boto3_session), price_per_tb=price).estimate
    finally:
        cat.close()


def run_query(
    sql: str,
    *,
    engine: str | Engine | None = None,
    max_cost: float | None = None,
    price_per_tb: float | None = None,
    timeout: float | None = None,
    warehouse: str | None = None,
    catalog: str | None = None,
    settings: Settings | None = None,
    on_estimate: "Callable[[Estimate], None] | None" = None,
    boto3_session: "boto3.Session | None" = None,
) -> QueryResult:
    """Estimate ``sql``, refuse it when over ``max_cost``, else run it.

    ``on_estimate`` is called with the estimate before the engine starts (the CLI
    prints it there).

    Raises:
        BudgetExceeded: the estimate is over ``max_cost`` dollars; nothing ran.
        QueryFailed, QueryCancelled, QueryTimeout: the engine did not finish it.
    """
    s = _settings(settings, warehouse=warehouse, catalog=catalog, engine=engine if isinstance(engine, str) else None)
    price = float(price_per_tb if price_per_tb is not None else s.price_per_tb)
    _check_price(price)
    if max_cost is not None and max_cost < 0:
        raise UsageError("--max-cost must not be negative")
    cat = open_catalog(s, boto3_session=boto3_session)
    try:
        storage = Storage(s.warehouse, boto3_session)
        # An ingest that committed but was killed before its files were all moved into
        # place is finished first, so the query reads every file the catalog lists.
        from lakekit.ingest.commit import recover

        recover(storage, cat)
        plan = plan_query(sql, catalog=cat, storage=storage, price_per_tb=price)
        check_budget(plan.estimate, max_cost)
        if on_estimate is not None:
            on_estimate(plan.estimate)
        runner = engine if (engine is not None and not isinstance(engine, str)) else open_engine(s.engine, s, boto3_session)
        try:
            started = time.perf_counter()
            result: EngineResult = runner.execute(sql, plan.statement, plan.plans, timeout=timeout)
            wall = time.perf_counter() - started
        finally:
            if runner is not engine:
                runner.close()
    finally:
        cat.close()
    actual = ActualScan(
        bytes_scanned=result.bytes_scanned,
        seconds=result.seconds if result.seconds else wall,
        rows=result.table.num_rows,
        engine_seconds=result.engine_seconds,
        query_id=result.query_id,
    )
    return QueryResult(result.table, plan.estimate, actual, getattr(runner, "name", "local"))


def query(sql: str, **kwargs: Any) -> pa.Table:
    """Run ``sql`` (Athena's dialect) and return its rows as a ``pyarrow.Table``.

    Takes the arguments of :func:`run_query` (``engine``, ``max_cost``, ``warehouse`` ...);
    ``.to_pandas()`` on the result gives pandas.
    """
    return run_query(sql, **kwargs).table


def check_budget(est: Estimate, max_cost: float | None) -> None:
    """Raise :class:`BudgetExceeded` when ``est`` costs more than ``max_cost`` dollars.

    >>> from lakekit.cost import TableEstimate
    >>> check_budget(Estimate.from_tables([TableEstimate("db.t", 0, 0, 1, 1, (), 2**40)]), 1.0)
    Traceback (most recent call last):
    ...
    lakekit.errors.BudgetExceeded: estimated cost $5.000000 (1.00 TB billed) is over --max-cost $1.000000; the query was not run
    """
    if max_cost is None or est.cost_usd <= max_cost:
        return
    raise BudgetExceeded(
        f"estimated cost ${est.cost_usd:.6f} ({format_bytes(est.bytes_billed)} billed) is over "
        f"--max-cost ${max_cost:.6f}; the query was not run"
    )


def _check_price(price: float) -> None:
    if price < 0:
        raise UsageError("--price-per-tb must not be negative")


def format_bytes(n: int | None) -> str:
    """Bytes the way Athena's console shows them (binary units).

    >>> format_bytes(0), format_bytes(1536), format_bytes(10 * 2**20), format_bytes(None)
    ('0 B', '1.50 KB', '10.00 MB', 'unknown')
    """
    if n is None:
        return "unknown"
    value = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{int(value)} B" if unit == "B" else f"{value:.2f} {unit}"
        value /= 1024
    return f"{n} B"  # pragma: no cover

