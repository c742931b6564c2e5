"""``Lake``: one lake's settings, storage and catalog, opened once, and the API on it.

A :class:`Lake` resolves its settings once (flag > ``LAKEKIT_*`` env > ``lakekit.toml``
> default), opens its storage and catalog on first use and keeps them until
:meth:`Lake.close` (or the end of a ``with`` block). Every operation is a method; the
module functions (``lakekit.ingest``, ``lakekit.query`` ...) open a lake, call one
method and close it.

>>> import tempfile
>>> with open_lake(warehouse=tempfile.mkdtemp()) as lake:
...     lake.query("SELECT 1 AS one").to_pylist()
[{'one': 1}]
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, BinaryIO

from lakekit.config import Settings, check_max_cost, resolve_settings
from lakekit.errors import UsageError

# Each method imports what it needs when it runs: an ingest never loads the SQL
# planner, DuckDB or the linter, a query never loads the ingest pipeline, and the
# command starts without any of them (docs/performance.md, "Start-up").
if TYPE_CHECKING:  # pragma: no cover
    import boto3
    import pyarrow as pa

    from lakekit.catalog import Catalog
    from lakekit.catalog.crawl import CrawlResult
    from lakekit.catalog.history import History, QueryRecord
    from lakekit.catalog.sync import SyncResult
    from lakekit.engines import Engine, QueryResult
    from lakekit.ingestion.compact import CompactResult
    from lakekit.ingestion.hashing import EarlyHashes
    from lakekit.ingestion.run import IngestResult
    from lakekit.ingestion.stream import StreamStatus
    from lakekit.ingestion.transform import Transformer
    from lakekit.layout import Layout
    from lakekit.lint.pricing import StatementPrice
    from lakekit.lint.result import LintResult
    from lakekit.plan import Estimate, QueryPlan
    from lakekit.storage import Storage

__all__ = [
    "Lake",
    "compact",
    "crawl",
    "estimate",
    "ingest",
    "ingest_stream",
    "lint_layout",
    "lint_query",
    "open_lake",
    "query",
    "run_query",
    "sync",
]

RuleCodes = Sequence[str] | str | None


class Lake:
    """A lake: where its data lives (storage), where its tables are (catalog), what
    runs its queries (engine), all from one :class:`~lakekit.config.Settings`."""

    def __init__(self, settings: Settings, *, boto3_session: boto3.Session | None = None) -> None:
        self.settings = settings
        self.boto3_session = boto3_session
        self._storage: Storage | None = None
        self._catalog: Catalog | None = None
        self._reader: Catalog | None = None
        self._engines: dict[str, Engine] = {}

    def __repr__(self) -> str:
        return f"Lake(warehouse={self.settings.warehouse!r}, catalog={self.settings.catalog!r})"

    # -- what a lake holds (opened on first use, once) ------------------------------------
    @property
    def storage(self) -> Storage:
        from lakekit.storage import Storage

        if self._storage is None:
            self._storage = Storage(self.settings.warehouse, self.boto3_session)
        return self._storage

    @property
    def catalog(self) -> Catalog:
        """The catalog, opened for writing (created when the lake has none yet)."""
        from lakekit.catalog import open_catalog

        if self._catalog is None:
            self._catalog = open_catalog(self.settings, self.boto3_session)
        return self._catalog

    @property
    def reader(self) -> Catalog:
        """The catalog for commands that only read: opened read-only, so they create
        nothing and work on a read-only warehouse (the writable one when already open)."""
        if self._catalog is not None:
            return self._catalog
        if self._reader is None:
            from lakekit.catalog import open_catalog

            self._reader = open_catalog(self.settings, self.boto3_session, read_only=True)
        return self._reader

    def existing_catalog(self) -> tuple[Catalog | None, str]:
        """The catalog when there is one (read-only; a local catalog is not created by
        looking for it), and where it was looked for."""
        if self.settings.catalog == "glue":
            return self.reader, "glue"
        path = self.settings.local_catalog_path()
        if self._catalog is None and not os.path.isfile(path):
            return None, path
        return self.reader, path

    def engine(self, name: str | None = None) -> Engine:
        """The engine called ``name`` (default: the settings'), opened on first use and kept
        until :meth:`close`: the local engine's DuckDB keeps its caches between queries."""
        from lakekit.engines import open_engine

        name = name or self.settings.engine
        if name not in self._engines:
            self._engines[name] = open_engine(name, self.settings, self.boto3_session)
        return self._engines[name]

    def close(self) -> None:
        for runner in self._engines.values():
            runner.close()
        self._engines.clear()
        for catalog in (self._catalog, self._reader):
            if catalog is not None:
                catalog.close()
        self._catalog = self._reader = None

    def __enter__(self) -> Lake:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- ingest ----------------------------------------------------------------------------
    def ingest(
        self,
        sources: str | Sequence[str],
        table: str | None = None,
        *,
        timestamp_column: str | None = None,
        partition_by: str | Sequence[str] | None = None,
        input_format: str = "auto",
        compression: str | None = None,
        target_file_size: str | int | None = None,
        mode: str = "append",
        max_rejects: int | None = None,
        layout: str | Layout | None = None,
        force: bool = False,
        projection: bool | None = None,
        delimiter: str | None = None,
        null_values: Sequence[str] | None = None,
        timestamp_format: str | None = None,
        memory_budget: int | None = None,
        block_size: int | None = None,
        progress: bool = False,
        transform: str | Transformer | None = None,
        backup: str | None = None,
        early_hashes: EarlyHashes | None = None,
    ) -> IngestResult:
        """Ingest JSON Lines / CSV sources into a partitioned Parquet table and register it.

        Args:
            sources: files, folders, globs, ``s3://`` URIs, or ``"-"`` for stdin.
            table: ``DB.TABLE`` (or from ``layout``).
            timestamp_column: the column partition values come from (UTC); without it the
                table is not partitioned.
            partition_by: ``"year,month,day"`` (default), ``"year,month"`` or ``"year"``.
            mode: ``append`` or ``overwrite-partitions`` (replace exactly the partitions the
                input touches).
            max_rejects: abort, committing nothing, when more records than this are rejected.
            force: ingest sources even when their content was ingested before.
            delimiter: the CSV delimiter, instead of the one sniffed.
            null_values: the text values that are NULL, instead of pandas' default markers.
            timestamp_format: a strftime pattern for the timestamp column's values.
            memory_budget: bytes of rows buffered before the largest buffers are written.
            transform: ``MODULE:FUNCTION`` (or a loaded :class:`Transformer`) applied to the
                records before they are parsed; see :mod:`lakekit.ingestion.transform`.
            backup: a folder or ``s3://`` prefix that receives a compressed copy of each source.
            early_hashes: hashes of the sources already under way
                (:func:`lakekit.ingestion.hashing.start_hashing`; the command starts them
                before pyarrow is imported); by default they start here.

        Returns:
            :class:`IngestResult`, the same fields as the command's JSON.
        """
        from lakekit.ingestion.hashing import start_hashing

        # Local sources are hashed on another thread while the pipeline is imported.
        early_hashes = early_hashes or start_hashing(sources)
        from lakekit.ingestion.options import resolve_options
        from lakekit.ingestion.run import run_ingest

        listed = [sources] if isinstance(sources, str) else list(sources)
        if "-" in listed:
            raise UsageError("stdin (-) is a stream committed in batches, one result each: call "
                             "Lake.ingest_stream (lakekit.ingest_stream), or run `lakekit ingest -`")
        options = resolve_options(
            table=table, layout=layout, timestamp_column=timestamp_column, partition_by=partition_by,
            input_format=input_format, compression=compression, target_file_size=target_file_size,
            mode=mode, max_rejects=max_rejects, projection=projection, delimiter=delimiter,
            null_values=null_values, timestamp_format=timestamp_format,
        )
        return run_ingest(
            sources=sources, options=options, storage=self.storage, catalog=self.catalog, force=force,
            memory_budget=memory_budget, block_size=block_size, progress=progress,
            transform=_transformer(transform), backup=backup, early_hashes=early_hashes,
        )

    def ingest_stream(
        self,
        input: BinaryIO | int | None = None,
        table: str | None = None,
        *,
        timestamp_column: str | None = None,
        partition_by: str | Sequence[str] | None = None,
        input_format: str = "auto",
        compression: str | None = None,
        target_file_size: str | int | None = None,
        max_rejects: int | None = None,
        layout: str | Layout | None = None,
        force: bool = False,
        delimiter: str | None = None,
        null_values: Sequence[str] | None = None,
        timestamp_format: str | None = None,
        buffer_size: str | int | None = None,
        buffer_interval: str | float | None = None,
        transform: str | Transformer | None = None,
        backup: str | None = None,
        memory_budget: int | None = None,
        block_size: int | None = None,
        on_batch: Callable[[IngestResult], None] | None = None,
        on_progress: Callable[[StreamStatus], None] | None = None,
        stop: threading.Event | None = None,
    ) -> list[IngestResult]:
        """Stream records from ``input`` (stdin by default) into a table, one atomic commit
        per batch, until end of input or ``stop`` is set (what is buffered is committed).

        A batch is cut when ``buffer_size`` bytes (default 64MiB) have arrived or
        ``buffer_interval`` seconds (default 60s) have passed since its first record.
        Records not committed yet are spooled in ``<warehouse>/_lakekit/spool/`` and
        committed first by the next stream into the table, exactly once.

        Returns:
            One :class:`IngestResult` per batch (committed, or skipped as a repeat).
        """
        from lakekit.ingestion.options import resolve_options
        from lakekit.ingestion.stream import DEFAULT_BUFFER_INTERVAL, DEFAULT_BUFFER_SIZE, StreamIngest
        from lakekit.layout import parse_duration, parse_size

        options = resolve_options(
            table=table, layout=layout, timestamp_column=timestamp_column, partition_by=partition_by,
            input_format=input_format, compression=compression, target_file_size=target_file_size,
            mode="append", max_rejects=max_rejects, projection=None, delimiter=delimiter,
            null_values=null_values, timestamp_format=timestamp_format,
        )
        stream = StreamIngest(
            input=sys.stdin.buffer if input is None else input, options=options, storage=self.storage,
            catalog=self.catalog,
            buffer_size=parse_size(buffer_size, "--buffer-size") if buffer_size is not None else DEFAULT_BUFFER_SIZE,
            buffer_interval=(parse_duration(buffer_interval, "--buffer-interval") if buffer_interval is not None
                             else DEFAULT_BUFFER_INTERVAL),
            transform=_transformer(transform), backup=backup, force=force, memory_budget=memory_budget,
            block_size=block_size, on_batch=on_batch, on_progress=on_progress,
            stop=stop if stop is not None else threading.Event(),
        )
        return stream.run()

    def compact(
        self,
        table: str,
        *,
        where: str | None = None,
        target_file_size: str | int = "128MiB",
        retain: str | float = "1h",
        dry_run: bool = False,
    ) -> CompactResult:
        """Rewrite each partition of ``DB.TABLE`` that holds more than one small file (under
        3/4 of ``target_file_size``) into files near the target, one atomic commit per
        partition: every catalog reader sees its old files or its new ones.

        Args:
            where: a predicate on partition keys only (``"year = '2024' AND month = '03'"``).
            target_file_size: the size files are written at (``128MiB``).
            retain: how long superseded files stay for queries that listed them before the
                switch (``1h``); ``0`` deletes them at once (local warehouses only).
            dry_run: only the plan (partitions, files before and after, bytes); change nothing.

        Returns:
            :class:`~lakekit.ingestion.compact.CompactResult` (``to_dict()`` is the command's JSON).
        """
        from lakekit.ingestion.compact import compact_table, parse_retain
        from lakekit.layout import parse_size

        size = parse_size(target_file_size, "--target-file-size")
        retain_seconds = parse_retain(retain)
        catalog = self.reader if dry_run else self.catalog
        return compact_table(storage=self.storage, catalog=catalog, table=table, where=where,
                             target_file_size=size, retain_seconds=retain_seconds, dry_run=dry_run)

    # -- queries ---------------------------------------------------------------------------
    def plan(self, sql: str, *, price_per_tb: float | None = None) -> QueryPlan:
        """Parse ``sql`` (one statement), find its scans, prune and size them."""
        from lakekit.plan import plan_query

        price = self._price(price_per_tb)
        return plan_query(sql, catalog=self.reader, storage=self.storage, price_per_tb=price)

    def estimate(self, sql: str, *, price_per_tb: float | None = None) -> Estimate:
        """What ``sql`` would scan and cost on Athena, without running it.

        >>> import tempfile
        >>> est = open_lake(warehouse=tempfile.mkdtemp()).estimate("SELECT 1")
        >>> est.bytes_scanned, est.bytes_billed
        (0, 10485760)
        """
        return self.plan(sql, price_per_tb=price_per_tb).estimate

    def dry_run(self, sql: str, *, engine: str | None = None, price_per_tb: float | None = None) -> Estimate:
        """The estimate of ``sql`` after every check a run makes before its engine reads
        anything (unknown tables and columns, the sandbox, and what the engine cannot
        run: the local engine binds the query without reading a file). Runs nothing.

        >>> import tempfile
        >>> open_lake(warehouse=tempfile.mkdtemp()).dry_run("SELECT 1").bytes_billed
        10485760
        """
        plan = self.plan(sql, price_per_tb=price_per_tb)
        check = getattr(self.engine(engine), "check", None)
        if check is not None:
            check(plan)
        return plan.estimate

    def run_query(
        self,
        sql: str,
        *,
        engine: str | Engine | None = None,
        max_cost: float | None = None,
        price_per_tb: float | None = None,
        timeout: float | None = None,
        on_estimate: Callable[[Estimate], None] | None = None,
    ) -> QueryResult:
        """Estimate ``sql``, refuse it when over ``max_cost``, else run it.

        ``on_estimate`` is called with the estimate before the budget is checked and the
        engine starts (the CLI prints it there, and reports it when the query is refused).

        Raises:
            BudgetExceeded: the estimate is over ``max_cost`` dollars; nothing ran.
            QueryFailed, QueryCancelled, QueryTimeout: the engine did not finish it.
        """
        from lakekit.engines import ActualScan, QueryResult
        from lakekit.plan import check_budget, plan_query

        price = self._price(price_per_tb)
        check_max_cost(max_cost)
        # No recovery here: nothing a reader sees changes before a commit point, so an
        # interrupted commit is left to the next writer and the query stays exact.
        plan = plan_query(sql, catalog=self.reader, storage=self.storage, price_per_tb=price)
        if on_estimate is not None:
            on_estimate(plan.estimate)
        check_budget(plan.estimate, max_cost)
        runner = engine if (engine is not None and not isinstance(engine, str)) else self.engine(engine)
        started = time.perf_counter()
        result = runner.execute(plan, timeout=timeout)
        wall = time.perf_counter() - started
        done = QueryResult(result.table, plan.estimate, ActualScan.of(result, wall), getattr(runner, "name", "local"))
        from lakekit.catalog.history import QueryRecord

        self.history_store().record(QueryRecord.new(
            sql, done.engine, plan.estimate.bytes_scanned, plan.estimate.bytes_billed, done.actual.bytes_scanned,
            plan.estimate.cost_usd, done.actual.seconds, done.actual.rows, done.actual.query_id,
        ))
        return done

    # -- history ---------------------------------------------------------------------------
    def history_store(self) -> History:
        """Where this lake's query runs are recorded: the catalog's area (written only
        where the catalog is writable)."""
        from lakekit.catalog.history import LocalHistory, StorageHistory

        if self.settings.catalog == "glue":
            return StorageHistory(self.storage, self.settings.warehouse)
        return LocalHistory(self.settings.local_catalog_path())

    def history(self, *, limit: int | None = None) -> list[QueryRecord]:
        """Past query runs, newest first: SQL, engine, estimate, what the engine scanned,
        cost, time. Reading it creates nothing."""
        return self.history_store().list(limit)

    def query(
        self,
        sql: str,
        *,
        engine: str | Engine | None = None,
        max_cost: float | None = None,
        price_per_tb: float | None = None,
        timeout: float | None = None,
    ) -> pa.Table:
        """Run ``sql`` (Athena's dialect) and return its rows as a ``pyarrow.Table``."""
        return self.run_query(sql, engine=engine, max_cost=max_cost, price_per_tb=price_per_tb,
                              timeout=timeout).table

    def _price(self, price_per_tb: float | None) -> float:
        from lakekit.plan import check_price

        price = float(price_per_tb if price_per_tb is not None else self.settings.price_per_tb)
        check_price(price)
        return price

    # -- lint ------------------------------------------------------------------------------
    def lint_query(
        self,
        sources: Sequence[Any] | str | os.PathLike,
        *,
        table_stats: bool = False,
        select: RuleCodes = None,
        ignore: RuleCodes = None,
        fix: bool = False,
        max_cost: float | None = None,
        baseline: str | Mapping[str, int] | None = None,
        write_baseline: str | None = None,
    ) -> LintResult:
        """Lint SQL with the query rules (Q001-Q012); see :func:`lakekit.lint.run.run_lint_query`.

        With a catalog, findings are priced (savings a run) and the cost gate can judge:
        ``max_cost`` dollars a statement (Q011), ``baseline`` a file (or mapping) of
        path -> bytes recorded by ``write_baseline`` (Q012: more than 10% above it).
        ``fix`` rewrites the SQL files with the safe fixes (Q002).
        """
        from dataclasses import replace

        from lakekit.lint.baseline import read_baseline
        from lakekit.lint.baseline import write_baseline as write_baseline_file
        from lakekit.lint.options import lint_options
        from lakekit.lint.run import run_lint_query

        options = lint_options(self.settings.lint, select=select, ignore=ignore)
        if max_cost is not None:
            options = replace(options, max_cost=check_max_cost(max_cost))
        if baseline is not None:
            options = replace(options, baseline=read_baseline(baseline) if isinstance(baseline, str) else dict(baseline))
        if isinstance(sources, (str, os.PathLike)):
            sources = [sources]
        catalog, where = self.existing_catalog()
        result = run_lint_query(sources, options=options, catalog=catalog, catalog_where=where,
                                table_stats=table_stats, pricer=self._statement_price if catalog else None,
                                fix=fix)
        if write_baseline is not None:
            if catalog is None:
                raise UsageError(f"--write-baseline needs a catalog to estimate with and there is none at {where}")
            write_baseline_file(write_baseline, result.estimates)
        return result

    def _statement_price(self, sql: str) -> StatementPrice | None:
        """One statement's estimate as the linter needs it; None when it cannot be planned
        (an unknown table: Q010 says so)."""
        from lakekit.errors import LakekitError
        from lakekit.lint.pricing import ScanAdvice, StarSavings, StatementPrice
        from lakekit.plan.query_plan import scan_bytes
        from lakekit.sql import parse_statements
        from lakekit.sql.scans import named_columns

        try:
            plan = self.plan(sql)
        except LakekitError:
            return None
        est = plan.estimate
        advice = tuple(
            ScanAdvice(a.table, a.alias, a.table_offset, a.message, a.predicate, a.bytes_scanned_with, a.cost_usd_with)
            for a in est.advice
        )
        star = []
        written = parse_statements(sql)[0]
        for sp in plan.plans:
            if not sp.scan.star:
                continue
            with_named = est.bytes_scanned - sp.estimate.bytes_scanned + scan_bytes(
                sp, named_columns(written, sp.scan.alias) & set(sp.scan.columns))
            offset = (sp.scan.node.this.meta or {}).get("start") if sp.scan.node.this is not None else None
            star.append(StarSavings(sp.table.qualified_name, sp.scan.alias, offset, with_named, est.cost_of(with_named)))
        return StatementPrice(est.bytes_scanned, est.bytes_billed, est.cost_usd, est.price_per_tb_usd, advice, tuple(star))

    def lint_layout(
        self,
        targets: Sequence[str] | str,
        *,
        select: RuleCodes = None,
        ignore: RuleCodes = None,
    ) -> LintResult:
        """Lint layouts with the layout rules (L001-L011); see :func:`lakekit.lint.run.run_lint_layout`."""
        from lakekit.lint.options import lint_options
        from lakekit.lint.run import run_lint_layout

        options = lint_options(self.settings.lint, select=select, ignore=ignore)
        return run_lint_layout(targets, options=options, catalog=self.existing_catalog,
                               boto3_session=self.boto3_session)

    # -- the catalog -------------------------------------------------------------------------
    def crawl(self, location: str, table: str, *, replace: bool = False) -> CrawlResult:
        """Register the Parquet ``key=value`` layout under ``location`` as ``DB.TABLE``
        (``replace``: in place of another table of that name)."""
        from lakekit.catalog.crawl import crawl_table

        return crawl_table(catalog=self.catalog, storage=self.storage, location=location, table=table,
                           replace=replace)

    def sync(self, table: str, *, dry_run: bool = False) -> SyncResult:
        """Make ``DB.TABLE``'s catalog partitions and file statistics match its storage."""
        from lakekit.catalog.sync import sync_table

        return sync_table(catalog=self.catalog, storage=self.storage, table=table, dry_run=dry_run)

    def tables(self, database: str | None = None) -> list[dict[str, Any]]:
        """One summary per table: name, location, partitions, files, rows, bytes."""
        from lakekit.catalog.describe import list_tables

        return list_tables(self.reader, database)

    def describe(self, table: str) -> dict[str, Any]:
        """A table's columns, partition keys, partitions, files and bytes."""
        from lakekit.catalog.describe import describe_table

        return describe_table(self.reader, table)

    def drop(self, table: str, *, purge: bool = False) -> dict[str, Any]:
        """Remove ``DB.TABLE`` from the catalog (its load history too, so its sources
        can be ingested again); with ``purge``, delete its data files as well.

        The catalog entry goes first: no reader is ever shown a table whose files are
        gone.
        """
        from lakekit.catalog.base import require_table
        from lakekit.names import parse_table_name

        database, name = parse_table_name(table)
        found = require_table(self.catalog, database, name)
        self.catalog.drop_table(database, name)
        if purge:
            self.storage.delete_dir(found.home)
        else:
            from lakekit import paths

            # the files stay on purpose: a later ingest of this name may start over them
            # (without this mark it would take them for a lost catalog's and refuse)
            self.storage.write_bytes(paths.dropped_marker_uri(found.home), json.dumps({"table": table}).encode())
        return {"table": found.qualified_name, "location": found.location, "purged": purge}


def _transformer(transform: str | Transformer | None) -> Transformer | None:
    from lakekit.ingestion.transform import Transformer, load_transform

    if transform is None or isinstance(transform, Transformer):
        return transform
    return load_transform(transform)


def open_lake(
    *,
    warehouse: str | None = None,
    catalog: str | None = None,
    engine: str | None = None,
    settings: Settings | None = None,
    boto3_session: boto3.Session | None = None,
) -> Lake:
    """A :class:`Lake` from flags (``None``: not given) over ``settings`` or the environment.

    Args:
        warehouse: a folder or ``s3://bucket/prefix`` (``--warehouse``).
        catalog: ``local`` or ``glue`` (``--catalog``).
        engine: ``local`` or ``athena`` (``--engine``).
        settings: settings resolved already; the flags above still override them.
        boto3_session: the AWS session for S3, Glue and Athena.
    """
    resolved = resolve_settings(settings=settings, warehouse=warehouse, catalog=catalog, engine=engine)
    return Lake(resolved, boto3_session=boto3_session)


# -- the module functions: open a lake, call one method, close it ------------------------------
def ingest(
    sources: str | Sequence[str],
    table: str | None = None,
    *,
    timestamp_column: str | None = None,
    partition_by: str | Sequence[str] | None = None,
    input_format: str = "auto",
    compression: str | None = None,
    target_file_size: str | int | None = None,
    mode: str = "append",
    max_rejects: int | None = None,
    layout: str | Layout | None = None,
    force: bool = False,
    projection: bool | None = None,
    delimiter: str | None = None,
    null_values: Sequence[str] | None = None,
    timestamp_format: str | None = None,
    memory_budget: int | None = None,
    block_size: int | None = None,
    progress: bool = False,
    transform: str | Transformer | None = None,
    backup: str | None = None,
    warehouse: str | None = None,
    catalog: str | None = None,
    settings: Settings | None = None,
    boto3_session: boto3.Session | None = None,
) -> IngestResult:
    """Ingest sources into a table (:meth:`Lake.ingest`).

    >>> import os, tempfile, json
    >>> src = os.path.join(tempfile.mkdtemp(), "e.jsonl")
    >>> _ = open(src, "w").write(json.dumps({"id": 1, "ts": "2024-03-07T10:00:00Z"}) + "\\n")
    >>> r = ingest(src, "demo.events", timestamp_column="ts", warehouse=tempfile.mkdtemp())
    >>> r.records_read, r.records_written, r.records_rejected, r.partitions_written
    (1, 1, 0, 1)
    """
    with open_lake(warehouse=warehouse, catalog=catalog, settings=settings, boto3_session=boto3_session) as lake:
        return lake.ingest(
            sources, table, timestamp_column=timestamp_column, partition_by=partition_by,
            input_format=input_format, compression=compression, target_file_size=target_file_size, mode=mode,
            max_rejects=max_rejects, layout=layout, force=force, projection=projection, delimiter=delimiter,
            null_values=null_values, timestamp_format=timestamp_format,
            memory_budget=memory_budget, block_size=block_size, progress=progress,
            transform=transform, backup=backup,
        )


def ingest_stream(
    input: BinaryIO | int | None = None,
    table: str | None = None,
    *,
    timestamp_column: str | None = None,
    partition_by: str | Sequence[str] | None = None,
    input_format: str = "auto",
    compression: str | None = None,
    target_file_size: str | int | None = None,
    max_rejects: int | None = None,
    layout: str | Layout | None = None,
    force: bool = False,
    delimiter: str | None = None,
    null_values: Sequence[str] | None = None,
    timestamp_format: str | None = None,
    buffer_size: str | int | None = None,
    buffer_interval: str | float | None = None,
    transform: str | Transformer | None = None,
    backup: str | None = None,
    memory_budget: int | None = None,
    block_size: int | None = None,
    on_batch: Callable[[IngestResult], None] | None = None,
    on_progress: Callable[[StreamStatus], None] | None = None,
    stop: threading.Event | None = None,
    warehouse: str | None = None,
    catalog: str | None = None,
    settings: Settings | None = None,
    boto3_session: boto3.Session | None = None,
) -> list[IngestResult]:
    r"""Stream records into a table, one commit per batch (:meth:`Lake.ingest_stream`).

    >>> import os, tempfile, json
    >>> r, w = os.pipe()
    >>> _ = os.write(w, (json.dumps({"id": 1, "ts": "2024-03-07T10:00:00Z"}) + "\n").encode()); os.close(w)
    >>> [b.records_written for b in ingest_stream(r, "demo.events", timestamp_column="ts", warehouse=tempfile.mkdtemp())]
    [1]
    """
    with open_lake(warehouse=warehouse, catalog=catalog, settings=settings, boto3_session=boto3_session) as lake:
        return lake.ingest_stream(
            input, table, timestamp_column=timestamp_column, partition_by=partition_by, input_format=input_format,
            compression=compression, target_file_size=target_file_size, max_rejects=max_rejects, layout=layout,
            force=force, delimiter=delimiter, null_values=null_values, timestamp_format=timestamp_format,
            buffer_size=buffer_size, buffer_interval=buffer_interval, transform=transform,
            backup=backup, memory_budget=memory_budget, block_size=block_size, on_batch=on_batch,
            on_progress=on_progress, stop=stop,
        )


def estimate(
    sql: str,
    *,
    price_per_tb: float | None = None,
    warehouse: str | None = None,
    catalog: str | None = None,
    settings: Settings | None = None,
    boto3_session: boto3.Session | None = None,
) -> Estimate:
    """What ``sql`` would scan and cost on Athena, without running it (:meth:`Lake.estimate`).

    >>> import tempfile
    >>> lakekit_estimate = estimate("SELECT 1", warehouse=tempfile.mkdtemp())
    >>> lakekit_estimate.bytes_scanned, lakekit_estimate.bytes_billed
    (0, 10485760)
    """
    with open_lake(warehouse=warehouse, catalog=catalog, settings=settings, boto3_session=boto3_session) as lake:
        return lake.estimate(sql, price_per_tb=price_per_tb)


def run_query(
    sql: str,
    *,
    engine: str | Engine | None = None,
    max_cost: float | None = None,
    price_per_tb: float | None = None,
    timeout: float | None = None,
    on_estimate: Callable[[Estimate], None] | None = None,
    warehouse: str | None = None,
    catalog: str | None = None,
    settings: Settings | None = None,
    boto3_session: boto3.Session | None = None,
) -> QueryResult:
    """Estimate ``sql``, refuse it when over ``max_cost``, else run it (:meth:`Lake.run_query`)."""
    engine_name = engine if isinstance(engine, str) else None
    with open_lake(warehouse=warehouse, catalog=catalog, engine=engine_name, settings=settings,
                   boto3_session=boto3_session) as lake:
        return lake.run_query(sql, engine=engine, max_cost=max_cost, price_per_tb=price_per_tb, timeout=timeout,
                              on_estimate=on_estimate)


def query(
    sql: str,
    *,
    engine: str | Engine | None = None,
    max_cost: float | None = None,
    price_per_tb: float | None = None,
    timeout: float | None = None,
    warehouse: str | None = None,
    catalog: str | None = None,
    settings: Settings | None = None,
    boto3_session: boto3.Session | None = None,
) -> pa.Table:
    """Run ``sql`` (Athena's dialect) and return its rows as a ``pyarrow.Table``.

    ``.to_pandas()`` on the result gives pandas.

    >>> import tempfile
    >>> query("SELECT 1 AS one", warehouse=tempfile.mkdtemp()).to_pylist()
    [{'one': 1}]
    """
    return run_query(sql, engine=engine, max_cost=max_cost, price_per_tb=price_per_tb, timeout=timeout,
                     warehouse=warehouse, catalog=catalog, settings=settings, boto3_session=boto3_session).table


def lint_query(
    sources: Sequence[Any] | str | os.PathLike,
    *,
    table_stats: bool = False,
    select: RuleCodes = None,
    ignore: RuleCodes = None,
    fix: bool = False,
    max_cost: float | None = None,
    baseline: str | Mapping[str, int] | None = None,
    write_baseline: str | None = None,
    warehouse: str | None = None,
    catalog: str | None = None,
    settings: Settings | None = None,
    boto3_session: boto3.Session | None = None,
) -> LintResult:
    """Lint SQL in Athena's dialect with the query rules Q001-Q012 (:meth:`Lake.lint_query`).

    Args:
        sources: SQL files, folders (their ``*.sql``), SQL text, or ``(name, text)`` pairs.
        table_stats: insist on the catalog (its partition keys, sizes and columns);
            without it the catalog is used when one exists, and partition keys are
            assumed when none does.
        select: rule codes or prefixes to run (default: ``[lint] select`` or all).
        ignore: rule codes or prefixes to skip.
        fix: rewrite the SQL files with the safe fixes (Q002).
        max_cost: dollars a statement's estimate may cost (Q011 over-budget).
        baseline: a baseline file (or mapping) of path -> bytes (Q012 cost-increase).
        write_baseline: record this run's estimates in that file.

    >>> sql = "SELECT country, count(DISTINCT user_id) FROM events WHERE dt = '2024-03-07' GROUP BY country"
    >>> [(v.code, v.column) for v in lint_query([sql], warehouse="/nonexistent").violations]
    [('Q006', 17)]
    """
    with open_lake(warehouse=warehouse, catalog=catalog, settings=settings, boto3_session=boto3_session) as lake:
        return lake.lint_query(sources, table_stats=table_stats, select=select, ignore=ignore, fix=fix,
                               max_cost=max_cost, baseline=baseline, write_baseline=write_baseline)


def lint_layout(
    targets: Sequence[str] | str,
    *,
    select: RuleCodes = None,
    ignore: RuleCodes = None,
    warehouse: str | None = None,
    catalog: str | None = None,
    settings: Settings | None = None,
    boto3_session: boto3.Session | None = None,
) -> LintResult:
    """Lint layout files, folders, ``s3://`` prefixes or ``DB.TABLE`` targets with the
    layout rules L001-L011 (:meth:`Lake.lint_layout`)."""
    with open_lake(warehouse=warehouse, catalog=catalog, settings=settings, boto3_session=boto3_session) as lake:
        return lake.lint_layout(targets, select=select, ignore=ignore)


def crawl(
    location: str,
    table: str,
    *,
    replace: bool = False,
    warehouse: str | None = None,
    catalog: str | None = None,
    settings: Settings | None = None,
    boto3_session: boto3.Session | None = None,
) -> CrawlResult:
    """Register the Parquet layout under ``location`` as ``DB.TABLE`` (:meth:`Lake.crawl`)."""
    with open_lake(warehouse=warehouse, catalog=catalog, settings=settings, boto3_session=boto3_session) as lake:
        return lake.crawl(location, table, replace=replace)


def sync(
    table: str,
    *,
    dry_run: bool = False,
    warehouse: str | None = None,
    catalog: str | None = None,
    settings: Settings | None = None,
    boto3_session: boto3.Session | None = None,
) -> SyncResult:
    """Make ``DB.TABLE``'s catalog match its storage (:meth:`Lake.sync`)."""
    with open_lake(warehouse=warehouse, catalog=catalog, settings=settings, boto3_session=boto3_session) as lake:
        return lake.sync(table, dry_run=dry_run)


def compact(
    table: str,
    *,
    where: str | None = None,
    target_file_size: str | int = "128MiB",
    retain: str | float = "1h",
    dry_run: bool = False,
    warehouse: str | None = None,
    catalog: str | None = None,
    settings: Settings | None = None,
    boto3_session: boto3.Session | None = None,
) -> CompactResult:
    """Compact ``DB.TABLE``'s small files, one atomic commit per partition (:meth:`Lake.compact`)."""
    with open_lake(warehouse=warehouse, catalog=catalog, settings=settings, boto3_session=boto3_session) as lake:
        return lake.compact(table, where=where, target_file_size=target_file_size, retain=retain, dry_run=dry_run)
