"""The query plan: one statement, parsed and qualified, each scan pruned and sized.

For each scan of a table (see :func:`lakekit.sql.analyze`):

1. **Partitions** (:mod:`.partitions`): conjuncts over partition keys evaluated on the
   partitions' values; conjuncts on the timestamp column as a range of instants.
2. **Files**: the kept partitions' files (:mod:`.file_stats`), less those whose names
   start with ``_`` or ``.`` (Athena skips them). Each opened file costs its footer:
   the serialized footer length + 8 bytes (4-byte length and the ``PAR1`` magic).
3. **Row groups** (:mod:`.row_groups`): a row group whose min/max cannot meet the
   scan's bounds on a column is skipped, as Trino's Parquet reader skips it.
4. **Columns**: in the kept row groups, the compressed size of the chunks of the
   columns the scan references. Partition keys live in paths and cost nothing.

The bytes add up over scans and are billed by :mod:`.billing`'s rules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from sqlglot import exp

from lakekit.catalog.base import Catalog, DataFile, Partition, Table, require_table
from lakekit.catalog.projection import is_projected
from lakekit.errors import TableNotFound, UsageError
from lakekit.parquet import FOOTER_TRAILER, raw_row_groups
from lakekit.paths import is_hidden
from lakekit.plan.advice import scan_advice
from lakekit.plan.billing import Estimate, TableEstimate
from lakekit.plan.evaluator import ConstantEvaluator
from lakekit.plan.file_stats import FileStats
from lakekit.plan.partitions import projected_partitions, prune_by_values, time_domain_of
from lakekit.plan.row_groups import ColumnDomain, column_domains, row_group_may_match
from lakekit.plan.scan_plan import ScanPlan
from lakekit.sql import (
    Schema,
    TableScan,
    analyze,
    catalog_schema,
    check_columns,
    parse_statements,
    refuse_file_functions_in_text,
    refuse_outside_reads,
    tables_schema,
)
from lakekit.sql.partition_residual import partition_residual
from lakekit.storage import Storage

#: Supplies a table's file statistics; the query layer reads footers on demand for
#: tables whose catalog holds none (and caches them there).
FilesProvider = Callable[[Table, Sequence[Partition]], Sequence[DataFile]]


def plan_scans(
    scans: Iterable[tuple[TableScan, Table]],
    partitions_of: Callable[[Table], Sequence[Partition]],
    files_of: FilesProvider,
    evaluator: ConstantEvaluator | None = None,
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


def plan_scan(
    scan: TableScan,
    table: Table,
    partitions: Sequence[Partition],
    files_of: FilesProvider,
    evaluator: ConstantEvaluator,
) -> ScanPlan:
    """What one scan reads: kept partitions x referenced columns x row groups that may match."""
    key_names = [k.name for k in table.partition_keys]
    notes: list[str] = []
    if scan.reason:
        notes.append(scan.reason)

    key_conjuncts, ts_conjuncts, column_conjuncts = _classify(scan.predicates, set(key_names), table)

    # Athena prunes partitions by their keys alone: the timestamp column bounds row
    # groups (through their statistics, below), never partitions.
    kept = prune_by_values(partitions, key_names, table, key_conjuncts, evaluator, notes) if key_names else list(partitions)

    files = list(files_of(table, kept)) if (kept or not key_names) else []
    if key_names:
        wanted = {tuple(p.values) for p in kept}
        files = [f for f in files if tuple(f.partition_values) in wanted]
    files = [f for f in files if not is_hidden(f.uri)]

    data_columns = {c.name for c in table.columns}
    read_columns = sorted(c for c in scan.columns if c in data_columns)
    domains = column_domains(column_conjuncts, table, evaluator)

    total, row_groups = _bytes_read(files, domains, read_columns)

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
    time_domain = time_domain_of(table, ts_conjuncts, evaluator) if key_names else None
    return ScanPlan(scan, table, tuple(kept), tuple(files), estimate, time_domain, tuple(domains))


def _bytes_read(files: Sequence[DataFile], domains: Sequence[ColumnDomain], columns: Sequence[str]) -> tuple[int, int]:
    """Bytes a reader fetches from ``files`` for ``columns`` (footers, and the columns'
    chunks in the row groups the domains cannot rule out), and those row groups' count."""
    total = 0
    row_groups = 0
    for f in files:
        total += f.footer_length + FOOTER_TRAILER
        for rows, chunks in raw_row_groups(f.row_groups):
            if domains and not row_group_may_match(rows, chunks, domains):
                continue
            row_groups += 1
            for name in columns:
                chunk = chunks.get(name)
                if chunk is not None:
                    total += chunk[0]
    return total, row_groups


def scan_bytes(sp: ScanPlan, columns: Iterable[str]) -> int:
    """What the scan would read if it referenced only ``columns`` (same files, same row groups)."""
    data_columns = {c.name for c in sp.table.columns}
    return _bytes_read(sp.files, sp.domains, sorted(set(columns) & data_columns))[0]


def _classify(
    predicates: Sequence[exp.Expression], keys: set[str], table: Table
) -> tuple[list[exp.Expression], list[exp.Expression], list[tuple[str, exp.Expression]]]:
    """Split a scan's conjuncts: over partition keys, over the timestamp column, over one data column."""
    on_keys: list[exp.Expression] = []
    on_time: list[exp.Expression] = []
    on_column: list[tuple[str, exp.Expression]] = []
    ts = table.timestamp_column
    for p in predicates:
        names = {c.name for c in p.find_all(exp.Column)}
        if not names:
            continue
        if names <= keys:
            on_keys.append(p)
            continue
        if names & keys:
            # Athena evaluates a condition with the partition's values bound and the rows
            # unknown: what it implies over the keys alone still prunes
            residual = partition_residual(p, lambda c: c.name in keys)
            if residual is not None and {c.name for c in residual.find_all(exp.Column)} & keys:
                on_keys.append(residual)
        if len(names) == 1:
            (name,) = names
            if name == ts:
                on_time.append(p)
            if name not in keys:
                on_column.append((name, p))
    return on_keys, on_time, on_column


@dataclass(frozen=True)
class QueryPlan:
    """A parsed, qualified statement with its scans pruned and sized.

    What an engine runs (:meth:`lakekit.engines.base.Engine.execute`); no engine
    changes it, so one plan can be estimated, shown and run, in any order.
    """

    sql: str
    statement: exp.Expression
    plans: tuple[ScanPlan, ...]
    estimate: Estimate
    default_database: str | None = None


def plan_query(
    sql: str,
    *,
    catalog: Catalog,
    storage: Storage,
    price_per_tb: float = 5.0,
    default_database: str | None = None,
) -> QueryPlan:
    """Parse one statement, find its scans, prune and size them against ``catalog``."""
    refuse_file_functions_in_text(sql)
    statements = parse_statements(sql)
    if len(statements) > 1:
        raise UsageError(f"one statement at a time, got {len(statements)}; run them one by one")
    [statement] = statements
    refuse_outside_reads(statement)
    schema = _schema_for(statement, catalog)
    analysis = analyze(statement, schema, default_database=default_database)
    # analyze() returns the statement qualified when it reads tables, as given otherwise
    check_columns(analysis.statement, schema, default_database, qualified=bool(analysis.scans))
    resolved: list[tuple[TableScan, Table]] = []
    tables: dict[tuple[str, str], Table] = {}
    for scan in analysis.scans:
        database = scan.database or _database_of(scan.name, schema)
        key = (database, scan.name)
        if key not in tables:
            tables[key] = require_table(catalog, database, scan.name)
        resolved.append((scan, tables[key]))

    partitions_cache: dict[str, list[Partition]] = {}

    def partitions_of(table: Table) -> list[Partition]:
        if table.qualified_name not in partitions_cache:
            if table.partition_keys and is_projected(table):
                # Athena projects the partitions and reads the folders that exist now
                partitions = projected_partitions(table, catalog, storage)
            else:
                partitions = catalog.list_partitions(table.database, table.name)
            partitions_cache[table.qualified_name] = partitions
        return partitions_cache[table.qualified_name]

    files_of = FileStats(catalog, storage)
    evaluator = ConstantEvaluator()
    try:
        plans = plan_scans(resolved, partitions_of, files_of, evaluator)
        est = Estimate.from_tables([p.estimate for p in plans], price_per_tb)

        def replan(sp: ScanPlan, extra: exp.Expression) -> ScanPlan:
            scan = replace(sp.scan, predicates=(*sp.scan.predicates, extra))
            return plan_scan(scan, sp.table, partitions_of(sp.table), files_of, evaluator)

        est = replace(est, advice=scan_advice(plans, est, replan))
    finally:
        evaluator.close()
    return QueryPlan(sql, analysis.statement, tuple(plans), est, default_database)


def _schema_for(statement: exp.Expression, catalog: Catalog) -> Schema:
    """The MappingSchema of the tables ``statement`` names (not every catalog table:
    listing a whole Glue catalog for one query would dominate the estimate)."""
    ctes = {cte.alias_or_name for cte in statement.find_all(exp.CTE)}
    schema: Schema = {}
    unqualified = False
    for node in statement.find_all(exp.Table):
        if not node.name or (not node.db and node.name.lower() in {c.lower() for c in ctes}):
            continue
        if not node.db:
            unqualified = True
            continue
        table = require_table(catalog, node.db.lower(), node.name.lower())  # Athena folds case
        for db, found in tables_schema([table]).items():
            schema.setdefault(db, {}).update(found)
    if unqualified:  # a table written without its database: any database may hold it
        for db, tables in catalog_schema(catalog).items():
            schema.setdefault(db, {}).update(tables)
    return schema


def _database_of(name: str, schema: Schema) -> str:
    """The database of a table written without one: the only database that has it."""
    holders = sorted(db for db, tables in schema.items() if name in tables)
    if len(holders) == 1:
        return holders[0]
    if not holders:
        raise TableNotFound(f"table {name} not found in any database; write it as DB.TABLE (`lakekit tables` lists them)")
    raise UsageError(f"table {name} exists in databases {', '.join(holders)}; write it as DB.{name}")
