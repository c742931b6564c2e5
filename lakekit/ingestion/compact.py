"""Compaction: a partition's small files rewritten into files near the target size,
one commit per partition on the commit protocol (:mod:`lakekit.ingestion.commit`).

A file is *small* when it is under three quarters of the target size (Iceberg's
``min-file-size-bytes`` default): the writer closes a file at 95% of the target or
more, so a compacted partition holds full files and at most one small remainder, and
a second compaction finds nothing to do. A partition is compacted when it holds more
than one small file; only its small files are rewritten, its full files are carried
into the new folder as they are (hard links locally, server-side copies on S3).

Each partition is one :class:`~lakekit.catalog.base.Commit` of ``replace-files``
changes: its new files are written into a folder no reader looks at, then the catalog
switches the partition to that folder at one commit point, so every catalog reader
sees the old files or the new, never both, never neither. When a concurrent ingest
appends to the partition meanwhile, its files are kept: the change names the files it
replaces, and the catalog carries everything else. When one of those files is gone by
the commit point (another compaction replaced it first), the partition is left as it
is and reported skipped.

The rewrite goes through the ingest writer (:class:`~lakekit.ingestion.writer.PartitionedWriter`):
the same codec, row-group sizing, statistics, dictionary rules and file naming as an
ingest; rows keep their order (files in commit order, rows as stored).
"""

from __future__ import annotations

import contextlib
import math
import re
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from lakekit import paths
from lakekit.catalog.base import REPLACE_FILES, Catalog, Commit, DataFile, PartitionChange, Table, require_table
from lakekit.catalog.projection import is_projected
from lakekit.errors import LakekitError, TrinoTypeError, UsageError
from lakekit.ingestion import commit as commits
from lakekit.ingestion.writer import PartitionedWriter, SplitBatch, near_unique_columns
from lakekit.names import parse_table_name
from lakekit.pause import pause_point
from lakekit.storage import Storage
from lakekit.types import arrow_type

__all__ = [
    "DEFAULT_TARGET_FILE_SIZE",
    "CompactResult",
    "PartitionCompaction",
    "compact_table",
    "is_small",
    "parse_retain",
]

DEFAULT_TARGET_FILE_SIZE = 128 << 20
#: a file under this share of the target is small (Iceberg's min-file-size default)
SMALL_SHARE = 0.75
#: rows buffered by the writer before it writes its largest buffers (as an ingest)
MEMORY_BUDGET = 64 << 20
#: input files read ahead of the writer (S3 round trips overlap; memory stays bounded)
READ_AHEAD = 8
#: rows the writer looks at to choose its dictionary columns (an ingest's sample)
DICTIONARY_SAMPLE_ROWS = 20_000
#: the time grains lakekit partitions by, in order: their values make the writer's key
_GRAINS = ("year", "month", "day")


def is_small(f: DataFile, target_file_size: int) -> bool:
    """Whether compaction rewrites ``f``: under three quarters of the target size.

    >>> is_small(DataFile("/a", 90 << 20, 1, 1, ()), 128 << 20), is_small(DataFile("/b", 97 << 20, 1, 1, ()), 128 << 20)
    (True, False)
    """
    return f.size < target_file_size * SMALL_SHARE


def parse_retain(value: str | float | int | None) -> float:
    """``--retain``: a duration (``1h``, ``30m``, ``90s``), or 0 to delete superseded
    files at once. Default one hour.

    >>> parse_retain("1h"), parse_retain("0"), parse_retain(None)
    (3600.0, 0.0, 3600.0)
    """
    from lakekit.layout import parse_duration

    if value is None:
        return commits.DEFAULT_RETAIN_S
    if re.fullmatch(r"\s*0+(\.0*)?\s*(ms|s|sec|m|min|h)?\s*", str(value).lower()):
        return 0.0
    return parse_duration(value, "--retain")


@dataclass
class PartitionCompaction:
    """One partition's part of a compaction: planned (``--dry-run``) or done."""

    values: tuple[str, ...]
    #: ``year=2024/month=03/day=07`` (``""`` for an unpartitioned table)
    partition: str
    #: files the partition holds before
    files_before: int
    #: files it holds after (planned: full files kept + the rewrite's files at the target size)
    files_after: int
    #: files rewritten (the small ones) and their bytes
    files_rewritten: int
    bytes: int
    rows: int
    #: the bytes the new files take (0 in a plan)
    bytes_written: int = 0
    #: the commit that switched the partition (None in a plan, or when skipped)
    commit_id: str | None = None
    #: why the partition was left as it was, when it was
    skipped: str | None = None
    #: the small files this partition's commit replaces
    inputs: tuple[DataFile, ...] = field(default=(), repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {"partition": self.partition, "values": list(self.values), "files_before": self.files_before,
                "files_after": self.files_after, "files_rewritten": self.files_rewritten, "bytes": self.bytes,
                "rows": self.rows, "bytes_written": self.bytes_written, "commit_id": self.commit_id,
                "skipped": self.skipped}


@dataclass
class CompactResult:
    """What ``lakekit compact`` did (or, with ``dry_run``, would do)."""

    table: str
    dry_run: bool
    target_file_size: int
    retain_seconds: float
    partitions: list[PartitionCompaction]
    #: partitions the ``--where`` predicate selected (all, without one)
    partitions_considered: int
    #: superseded files whose retention had passed, deleted by this run
    files_deleted: int = 0
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)

    @property
    def compacted(self) -> list[PartitionCompaction]:
        return [p for p in self.partitions if p.skipped is None]

    def to_dict(self) -> dict[str, Any]:
        done = self.compacted
        return {
            "table": self.table,
            "dry_run": self.dry_run,
            "target_file_size": self.target_file_size,
            "retain_seconds": self.retain_seconds,
            "partitions_considered": self.partitions_considered,
            "partitions_compacted": len(done),
            "partitions": [p.to_dict() for p in self.partitions],
            "files_before": sum(p.files_before for p in done),
            "files_after": sum(p.files_after for p in done),
            "bytes_rewritten": sum(p.bytes for p in done),
            "bytes_written": sum(p.bytes_written for p in done),
            "files_deleted": self.files_deleted,
            "seconds": self.seconds,
            "warnings": list(self.warnings),
        }


def compact_table(
    *,
    storage: Storage,
    catalog: Catalog,
    table: str,
    where: str | None = None,
    target_file_size: int = DEFAULT_TARGET_FILE_SIZE,
    retain_seconds: float = commits.DEFAULT_RETAIN_S,
    dry_run: bool = False,
) -> CompactResult:
    """Compact ``table``'s partitions that hold more than one small file (see the module
    docstring); with ``dry_run``, only the plan, changing nothing.

    >>> import json, os, tempfile, lakekit
    >>> from lakekit.catalog import open_catalog
    >>> from lakekit.storage import Storage
    >>> wh, src = tempfile.mkdtemp(), tempfile.mkdtemp()
    >>> for i in range(3):
    ...     path = os.path.join(src, f"{i}.jsonl")
    ...     _ = open(path, "w").write(json.dumps({"id": i, "ts": "2024-03-07T10:00:00Z"}) + "\\n")
    ...     _ = lakekit.ingest(path, "demo.events", timestamp_column="ts", warehouse=wh)
    >>> settings = lakekit.resolve_settings(warehouse=wh)
    >>> r = compact_table(storage=Storage(wh), catalog=open_catalog(settings), table="demo.events")
    >>> [(p.partition, p.files_before, p.files_after) for p in r.partitions]
    [('year=2024/month=03/day=07', 3, 1)]
    """
    started = time.monotonic()
    database, name = parse_table_name(table)
    found = require_table(catalog, database, name)
    _check_can_compact(found, catalog, storage, retain_seconds)
    warnings: list[str] = []
    collected = 0
    if not dry_run:
        # what a killed writer left (a compaction killed after its commit point included)
        # is finished first, and superseded files whose readers are done go
        done = commits.recover(storage, catalog)
        warnings.extend(done["warnings"])
        collected = len(done["collected"])
        with contextlib.suppress(LakekitError):
            collected += len(commits.collect_garbage(storage, catalog, found))
        found = require_table(catalog, database, name)
    selected = _selected_partitions(found, catalog, where)
    plan = _plan(found, catalog, selected, target_file_size)
    result = CompactResult(found.qualified_name, dry_run, target_file_size, retain_seconds, plan,
                           len(selected) if found.partition_keys else 1, collected, warnings=warnings)
    if not dry_run:
        for part in plan:
            _compact_partition(storage, catalog, found, part, target_file_size, retain_seconds, result)
    result.seconds = round(time.monotonic() - started, 3)
    return result


# -- what may be compacted -------------------------------------------------------------------
def _check_can_compact(table: Table, catalog: Catalog, storage: Storage, retain_seconds: float) -> None:
    t = table.qualified_name
    if table.parameters.get("lakekit.writer") != "lakekit":
        raise UsageError(
            f"{t} was registered by `lakekit catalog crawl`, not written by lakekit: its files may use another "
            "schema, codec or layout than lakekit writes, so compact leaves them alone; rewrite the data with "
            f"`lakekit ingest` into a table of lakekit's to compact it")
    if is_projected(table) and catalog.name == "glue":
        raise UsageError(
            f"{t} uses partition projection: Athena reads its fixed folders directly, so there is no partition "
            "location to switch at once and a rewrite would show readers old and new files together; "
            "compact is not possible for it")
    if not table.partition_keys and table.location.rstrip("/") == table.home.rstrip("/"):
        raise UsageError(
            f"the files of {t} sit directly in its location {table.location}: a new folder inside it would be read "
            "through the old location together with the old files, so compact cannot switch it at once")
    if bad := [k.name for k in table.partition_keys if k.name not in _GRAINS]:
        raise UsageError(f"{t} is partitioned by {', '.join(bad)}, not by lakekit's time grains; compact cannot "
                         "rewrite it")
    if retain_seconds <= 0 and paths.is_s3(storage.root):
        raise UsageError(
            "--retain 0 deletes superseded files at once; on S3 an Athena query that listed them before the switch "
            "would fail reading them: give a retention at least as long as your longest query (e.g. --retain 1h)")


def _selected_partitions(table: Table, catalog: Catalog, where: str | None) -> list[tuple[str, ...]]:
    """The partition values ``where`` keeps (every partition without it)."""
    if not table.partition_keys:
        if where:
            raise UsageError(f"{table.qualified_name} is not partitioned: --where selects partitions, and it has "
                             "none; leave --where out to compact the table as one unit")
        return [()]
    partitions = catalog.list_partitions(table.database, table.name)
    if not where:
        return [p.values for p in partitions]
    condition = partition_predicate(where, table)
    from lakekit.plan.evaluator import CannotEvaluate, ConstantEvaluator

    evaluator = ConstantEvaluator()
    try:
        keep = evaluator.filter_partitions(partitions, [k.name for k in table.partition_keys], table, condition)
    except CannotEvaluate as ex:
        raise UsageError(f"--where {where!r} cannot be evaluated on the partition values ({ex})") from ex
    finally:
        evaluator.close()
    return [p.values for p, k in zip(partitions, keep, strict=True) if k]


def partition_predicate(where: str, table: Table):
    """``--where`` parsed in Athena's dialect: a boolean over partition keys only, typed
    as Athena types it (``year = 2024`` compares varchar with integer: refused).

    >>> from lakekit.catalog.base import Column
    >>> t = Table("db", "t", "/l", [Column("id", "bigint")], [Column("year", "string")])
    >>> partition_predicate("year = '2024'", t).sql(dialect="athena")
    "year = '2024'"
    >>> partition_predicate("id = 1", t)
    Traceback (most recent call last):
    ...
    lakekit.errors.UsageError: --where may only use partition keys (year); id is a column of db.t, not a partition key
    """
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError

    from lakekit.sql import DIALECT
    from lakekit.sql.trino import check_types

    try:
        condition = sqlglot.parse_one(where, read=DIALECT)
    except ParseError as ex:
        raise UsageError(f"--where {where!r} is not a SQL predicate: {str(ex).splitlines()[0]}") from ex
    if condition is None or isinstance(condition, exp.Query | exp.DDL | exp.DML):
        raise UsageError(f"--where {where!r} is not a predicate; write it like \"year = '2024' AND month = '03'\"")
    keys = [k.name for k in table.partition_keys]
    for column in condition.find_all(exp.Column):
        col = column.name.lower()
        if col not in keys:
            what = "a column of" if table.column(col) is not None else "not a column of"
            raise UsageError(f"--where may only use partition keys ({', '.join(keys)}); {column.name} is {what} "
                             f"{table.qualified_name}, not a partition key")
    if any(condition.find_all(exp.Subquery, exp.Select)):
        raise UsageError(f"--where {where!r} may not hold a query; compare partition keys with values")
    probe = exp.select("1").from_("t").where(condition.copy())
    try:
        check_types(probe, {"t": {k.name: k.type for k in table.partition_keys}})
    except TrinoTypeError as ex:
        raise UsageError(f"--where {where!r}: {ex} (partition keys are strings: write year = '2024')") from ex
    except LakekitError as ex:
        raise UsageError(f"--where {where!r}: {ex}") from ex
    return condition


# -- the plan -------------------------------------------------------------------------------
def _plan(table: Table, catalog: Catalog, selected: list[tuple[str, ...]],
          target_file_size: int) -> list[PartitionCompaction]:
    if not selected:
        return []
    keys = [k.name for k in table.partition_keys]
    files = catalog.list_files(table.database, table.name, partitions=selected if keys else None)
    by_partition: dict[tuple[str, ...], list[DataFile]] = {}
    for f in files:
        by_partition.setdefault(tuple(f.partition_values) if keys else (), []).append(f)
    plan = []
    for values in sorted(by_partition):
        held = sorted(by_partition[values], key=lambda f: f.uri)
        small = [f for f in held if is_small(f, target_file_size)]
        if len(small) < 2:
            continue
        size = sum(f.size for f in small)
        after = len(held) - len(small) + max(1, math.ceil(size / target_file_size))
        plan.append(PartitionCompaction(values, paths.partition_path(keys, values), len(held), after, len(small),
                                        size, sum(f.rows for f in small), inputs=tuple(small)))
    return plan


# -- one partition, one commit --------------------------------------------------------------
def _compact_partition(storage: Storage, catalog: Catalog, table: Table, part: PartitionCompaction,
                       target_file_size: int, retain_seconds: float, result: CompactResult) -> None:
    keys = tuple(k.name for k in table.partition_keys)
    pending = commits.begin(storage, table.qualified_name, table.home)
    writer = PartitionedWriter(storage, pending.folder, pending.folder, keys,
                               table.parameters.get("compression", "zstd"), target_file_size, MEMORY_BUDGET,
                               pending.commit_id)
    key = _writer_key(keys, part.values)
    schema = _target_schema(table, part.inputs)
    try:
        for data in _with_dictionary_choice(writer, _read_in_order(storage, part.inputs)):
            data = _conform(data, schema, table)
            if data.num_rows:
                writer.add_split(SplitBatch(data, [(key, 0, data.num_rows)]))
        staged = writer.close()
        pause_point("staged")
        written_rows = sum(s.stats.rows for s in staged)
        if written_rows != part.rows:
            raise LakekitError(f"internal error: compacting {table.qualified_name} {part.partition or ''} read "
                               f"{part.rows} rows but wrote {written_rows}; nothing was committed")
        change = PartitionChange(part.values, pending.location(keys, part.values), tuple(s.stats for s in staged),
                                 REPLACE_FILES, frozenset(f.uri for f in part.inputs))
        outcome = commits.commit(storage, catalog, Commit(_as_committed(table), pending.commit_id, [change], [],
                                                          "compact", retain_seconds))
    except BaseException:
        writer.abort()
        with contextlib.suppress(Exception):  # the next writer's recovery removes it otherwise
            commits.discard(storage, pending.commit_id, pending.folder)
        raise
    if not outcome.committed:
        part.skipped = "changed by another compaction meanwhile; left as it is"
        part.files_after = part.files_before
        return
    part.commit_id = pending.commit_id
    part.bytes_written = sum(s.stats.size for s in staged)
    part.files_after = part.files_before - part.files_rewritten + len(staged)
    result.warnings.extend(outcome.warnings)


def _as_committed(table: Table) -> Table:
    """The table as a compaction commits it: its columns and keys, and no parameters but
    its home, so the commit merges nothing stale over what an ingest set meanwhile."""
    parameters = {} if table.partition_keys else {"lakekit.home": table.home}
    return Table(table.database, table.name, table.location, list(table.columns), list(table.partition_keys),
                 parameters)


def _writer_key(keys: Sequence[str], values: Sequence[str]) -> int:
    """The writer's partition key (``yyyymmdd``, unused grains 0) for a partition's values."""
    parts = dict(zip(keys, values, strict=True))
    return int(parts.get("year", 0)) * 10000 + int(parts.get("month", 0)) * 100 + int(parts.get("day", 0))


def _target_schema(table: Table, inputs: Sequence[DataFile]) -> pa.Schema:
    """The columns the inputs hold, in the table's order and with its types: files written
    before a column was added read it as null, as Athena reads them."""
    present = {name for f in inputs for rg in f.row_groups.raw for name in rg[1]}
    return pa.schema([pa.field(c.name, arrow_type(c.type)) for c in table.columns if c.name in present])


def _conform(data: pa.Table, schema: pa.Schema, table: Table) -> pa.Table:
    columns = []
    for f in schema:
        if f.name in data.column_names:
            column = data.column(f.name)
            if column.type != f.type:
                try:
                    column = column.cast(f.type, safe=True)
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as ex:
                    raise LakekitError(f"cannot compact {table.qualified_name}: column {f.name} is stored as "
                                       f"{column.type}, not as the table's {f.type}: {ex}") from ex
            columns.append(column)
        else:
            columns.append(pa.nulls(data.num_rows, f.type))
    extra = set(data.column_names) - set(schema.names)
    if extra:
        raise LakekitError(f"cannot compact {table.qualified_name}: a file holds columns the table does not know "
                           f"({', '.join(sorted(extra))}); nothing was committed")
    return pa.Table.from_arrays(columns, schema=schema)


def _with_dictionary_choice(writer: PartitionedWriter, tables: Iterator[pa.Table]) -> Iterator[pa.Table]:
    """Let the writer choose its dictionary columns from as many rows as an ingest's first
    block gives it: small inputs alone would look dictionary-friendly, and a dictionary
    over unique ids makes the compacted file larger than its inputs."""
    sample: list[pa.Table] = []
    rows = 0
    for data in tables:
        if writer.no_dictionary is None:
            sample.append(data)
            rows += data.num_rows
            if rows < DICTIONARY_SAMPLE_ROWS:
                continue
            writer.no_dictionary = near_unique_columns(pa.concat_tables(sample, promote_options="default"))
            yield from sample
            sample = []
        else:
            yield data
    if sample:
        writer.no_dictionary = near_unique_columns(pa.concat_tables(sample, promote_options="default"))
        yield from sample


def _read_in_order(storage: Storage, files: Sequence[DataFile]) -> Iterator[pa.Table]:
    """Each file's rows, in the order given, read a few files ahead on threads."""

    def read(uri: str) -> pa.Table:
        with storage.open_random_access(uri) as src:
            return pq.read_table(src)

    with ThreadPoolExecutor(max_workers=READ_AHEAD, thread_name_prefix="lakekit-compact-read") as pool:
        queue = [pool.submit(read, f.uri) for f in files[:READ_AHEAD]]
        for i in range(len(files)):
            data = queue[i].result()
            queue[i] = None  # type: ignore[call-overload] - its rows are the caller's now
            if i + READ_AHEAD < len(files):
                queue.append(pool.submit(read, files[i + READ_AHEAD].uri))
            yield data
