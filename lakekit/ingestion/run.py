"""One ingest, start to finish: sources -> parse -> schema -> pipeline -> writer -> commit.

Raw records in, a partitioned Parquet table out, nothing lost: every record read is
written or rejected, and the table changes only when the catalog commit succeeds
(:mod:`lakekit.ingestion.commit`). :meth:`lakekit.Lake.ingest` resolves the options
and calls :func:`run_ingest`.
"""

from __future__ import annotations

import datetime as dt
import os
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import pyarrow as pa

from lakekit import paths
from lakekit.catalog.base import Catalog, Column, IngestCommit, Load, Partition, Table
from lakekit.catalog.projection import projection_parameters
from lakekit.errors import LakekitError, NothingWritten, UsageError
from lakekit.ingestion import commit as commits
from lakekit.ingestion.backup import backup_source
from lakekit.ingestion.hashing import EarlyHashes
from lakekit.ingestion.options import IngestOptions, finish_for_new_table, reconcile_with_existing
from lakekit.ingestion.pipeline import RejectsFile, Run, read_all
from lakekit.ingestion.schema import TableSchema
from lakekit.ingestion.sources import STDIN, Source, expand_sources, file_hash
from lakekit.ingestion.transform import Transformer
from lakekit.ingestion.writer import PartitionedWriter, StagedFile
from lakekit.storage import Storage, join
from lakekit.types import athena_type

__all__ = ["IngestResult", "run_ingest"]

DEFAULT_MEMORY_BUDGET = 64 << 20
DEFAULT_BLOCK_SIZE = 4 << 20


@dataclass(frozen=True)
class IngestResult:
    """What an ingest did; the same fields as ``lakekit ingest --json``."""

    table: str
    ingest_id: str
    records_read: int
    records_written: int
    records_rejected: int
    files_written: int
    bytes_written: int
    partitions_written: int
    rejects_uri: str | None
    skipped_sources: list[str]
    seconds: float
    #: source field name -> column name, for every name that had to change
    renamed_columns: dict[str, str] = field(default_factory=dict)
    #: the most common reject errors, ``{"error", "count"}``, most common first
    reject_errors: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def _pause_point(name: str) -> None:
    """Test hook: stop here (so a test can kill the process) when asked to."""
    if os.environ.get("LAKEKIT_TEST_PAUSE_AT") == name:
        marker = os.environ.get("LAKEKIT_TEST_PAUSE_FILE")
        if marker:
            with open(marker, "w") as f:
                f.write(name)
        time.sleep(float(os.environ.get("LAKEKIT_TEST_PAUSE_SECONDS", "60")))


def run_ingest(
    *,
    sources: str | Source | Sequence[str | Source],
    options: IngestOptions,
    storage: Storage,
    catalog: Catalog,
    force: bool = False,
    memory_budget: int | None = None,
    block_size: int | None = None,
    progress: bool = False,
    transform: Transformer | None = None,
    backup: str | None = None,
    early_hashes: EarlyHashes | None = None,
) -> IngestResult:
    """Ingest ``sources`` into the table ``options`` names, committing all or nothing.

    ``transform`` is applied to every record before it is parsed (``--transform``);
    ``backup`` receives a compressed copy of each file source before the commit
    (``--backup``; stdin batches are backed up by :mod:`lakekit.ingestion.stream`).

    ``early_hashes`` (:func:`lakekit.ingestion.hashing.start_hashing`) holds hashes of
    local sources already under way; the others are hashed here.

    >>> import os, tempfile, json
    >>> import lakekit
    >>> src = os.path.join(tempfile.mkdtemp(), "e.jsonl")
    >>> _ = open(src, "w").write(json.dumps({"id": 1, "ts": "2024-03-07T10:00:00Z"}) + "\\n")
    >>> r = lakekit.ingest(src, "demo.events", timestamp_column="ts", warehouse=tempfile.mkdtemp())
    >>> r.records_read, r.records_written, r.records_rejected, r.partitions_written
    (1, 1, 0, 1)
    """
    started = time.monotonic()
    commits.recover(storage, catalog)
    opts, existing, schema = _target_table(options, catalog)
    location = existing.location if existing else storage.uri(opts.database, opts.name)
    loaded = set() if force else catalog.loaded_hashes(opts.database, opts.name)
    to_read, skipped = _sources_to_read(sources, storage, loaded, early_hashes)
    ingest_id = _new_ingest_id()
    outcome = _Outcome(table=f"{opts.database}.{opts.name}", ingest_id=ingest_id, skipped=skipped, started=started)
    if not to_read:
        return outcome.nothing_read()

    commits.claim_staging(storage, ingest_id)
    staging = join(commits.staging_root(storage, ingest_id), "data")
    writer = PartitionedWriter(storage, staging, location, opts.partition_by, opts.compression,
                               opts.target_file_size, memory_budget or DEFAULT_MEMORY_BUDGET, ingest_id)
    rejects = RejectsFile(storage, paths.rejects_uri(storage.root, opts.database, opts.name, ingest_id))
    run = Run(opts, storage, schema, writer, rejects, block_size or DEFAULT_BLOCK_SIZE, transform=transform)
    try:
        hashes = read_all(run, to_read, progress)
        _pause_point("parsed")
        if backup:
            for src, digest in to_read:
                if src.uri != STDIN:
                    backup_source(storage, backup, opts.database, opts.name, src, digest or "")
        staged = writer.close()
        run.rejects.close()
        _pause_point("staged")
        stdin_digest = hashes.get(STDIN)
        if stdin_digest and stdin_digest in loaded:
            commits.discard(storage, ingest_id)
            return outcome.nothing_read(also_skipped="<stdin>")
        _check_counts(run)
        _check_something_written(run)
        commit = _commit_of(run, existing=existing, location=location, staged=staged, to_read=to_read,
                            hashes=hashes, ingest_id=ingest_id, catalog=catalog)
        _commit(storage, catalog, commit, staged, existing=existing, location=location)
    except BaseException as ex:
        _abandon(storage, catalog, run, ingest_id)
        if isinstance(ex, LakekitError):
            ex.result = outcome.aborted(run)  # what it knew when it stopped, for --json
        raise
    return outcome.done(run, staged)


def _target_table(options: IngestOptions, catalog: Catalog) -> tuple[IngestOptions, Table | None, TableSchema]:
    """The options checked against the table when it exists, and the schema to conform to."""
    opts = options
    existing = catalog.get_table(opts.database, opts.name)
    if existing:
        opts = reconcile_with_existing(existing, opts)
        schema = TableSchema.from_columns(existing.columns, opts.timestamp_column, opts.partition_by)
        _check_declared_types(existing, opts)
    else:
        opts = finish_for_new_table(opts)
        schema = TableSchema(timestamp_column=opts.timestamp_column, partition_by=opts.partition_by)
    for col_name, col_type in opts.declared_columns.items():
        schema.columns.setdefault(col_name, col_type)
    for col_name, col_type in schema.columns.items():
        if pa.types.is_timestamp(col_type) or pa.types.is_date(col_type):
            schema.raw_timestamp_types.setdefault(col_name, pa.string())
    schema.check_no_clash(schema.columns)
    return opts, existing, schema


def _check_declared_types(existing: Table, opts: IngestOptions) -> None:
    """A layout may not change a stored column's type: files written with the old type
    would read differently from new ones. Dropping the table is the way out."""
    stored = {c.name: c.type for c in existing.columns}
    for name, arrow in opts.declared_columns.items():
        declared = athena_type(arrow)
        if name in stored and stored[name] != declared:
            raise UsageError(
                f"column {name!r} of table {existing.qualified_name} is {stored[name]}, but the layout declares "
                f"{declared}; a column's type cannot change: run `lakekit drop {existing.qualified_name}` (with --purge "
                "to delete its data too) and ingest again")


def _sources_to_read(
    sources: str | Source | Sequence[str | Source], storage: Storage, loaded: set[str],
    early_hashes: EarlyHashes | None = None,
) -> tuple[list[tuple[Source, str | None]], list[str]]:
    """Each source with its content hash, less those ingested before (or given twice)."""
    to_read: list[tuple[Source, str | None]] = []
    skipped: list[str] = []
    seen_hashes: set[str] = set()
    for src in expand_sources([sources] if isinstance(sources, str | Source) else list(sources), storage):
        digest = src.digest
        if digest is None and src.uri != STDIN:
            digest = (early_hashes.get(src.uri) if early_hashes else None) or file_hash(src, storage)
        if digest is not None and (digest in loaded or digest in seen_hashes):
            skipped.append(src.name)
            continue
        if digest is not None:
            seen_hashes.add(digest)
        to_read.append((src, digest))
    return to_read, skipped


def _new_ingest_id() -> str:
    """Sortable by time, unique by its random tail: ``20240307T101500Z-1f2e3d4c``."""
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:8]


def _check_counts(run: Run) -> None:
    """Every record read is written or rejected: anything else is a bug, and nothing commits."""
    read = sum(c.read for c in run.counts.values())
    written = sum(c.written for c in run.counts.values())
    if read != written + run.rejects.count:
        raise LakekitError(f"internal error: {read} records read but {written} written and "
                           f"{run.rejects.count} rejected; nothing was committed")


def _check_something_written(run: Run) -> None:
    """Committing an ingest that wrote nothing would register an empty table and mark
    its sources done, so the rerun after a fix would skip them: it fails instead."""
    written = sum(c.written for c in run.counts.values())
    if written == 0 and run.rejects.count:
        common = ", ".join(f"{e['count']:,} x {e['error']}" for e in run.rejects.most_common(3))
        raise NothingWritten(f"every record was rejected ({run.rejects.count:,}): {common}; nothing was committed "
                             f"and no source is recorded as done; see {run.rejects.uri}")


def _commit_of(
    run: Run,
    *,
    existing: Table | None,
    location: str,
    staged: list[StagedFile],
    to_read: list[tuple[Source, str | None]],
    hashes: dict[str, str],
    ingest_id: str,
    catalog: Catalog,
) -> IngestCommit:
    """What the catalog commit of this ingest changes."""
    opts = run.opts
    table_def = _table_definition(existing, opts, run.schema, location)
    partitions = sorted({s.partition for s in staged})
    replaced: list[tuple[str, ...]] = []
    if opts.mode == "overwrite-partitions" and existing:
        replaced = partitions
    if opts.projection:
        _apply_projection(table_def, opts, staged)
    return IngestCommit(
        table=table_def,
        ingest_id=ingest_id,
        partitions=[] if opts.projection or not opts.partition_by else [
            Partition(p, paths.partition_location(location, opts.partition_by, p)) for p in partitions],
        files=[s.stats for s in staged],
        loads=[Load(src.name, hashes.get(src.uri) or digest or "", ingest_id, dt.datetime.now(dt.UTC),
                    run.counts[src.name].read, run.counts[src.name].written, run.counts[src.name].rejected)
               for src, digest in to_read if src.name in run.counts],
        replaced_partitions=replaced,
    )


def _commit(storage: Storage, catalog: Catalog, commit: IngestCommit, staged: list[StagedFile], *,
            existing: Table | None, location: str) -> None:
    """Journal the moves, commit the catalog (the commit point), then carry the journal out."""
    table = commit.table
    deletes: list[str] = []
    if commit.replaced_partitions and existing is not None:
        deletes = _files_to_replace(storage, catalog, existing, set(commit.replaced_partitions),
                                    {s.final_uri for s in staged})
    moves = [(s.staging_uri, s.final_uri) for s in staged]
    commits.write_journal(storage, commit.ingest_id, table.qualified_name, moves, deletes)
    _pause_point("journaled")
    catalog.commit_ingest(commit)
    _pause_point("committed")
    commits.apply_journal(storage, commit.ingest_id, location)


def _abandon(storage: Storage, catalog: Catalog, run: Run, ingest_id: str) -> None:
    """After a failure: nothing staged is left behind unless the ingest committed."""
    run.writer.abort()
    run.rejects.close()
    try:
        if not catalog.is_committed(ingest_id):
            commits.discard(storage, ingest_id)
    except Exception:  # noqa: BLE001 - the next run's recovery cleans up
        pass


@dataclass(frozen=True)
class _Outcome:
    """Builds the :class:`IngestResult` of one ingest."""

    table: str
    ingest_id: str
    skipped: list[str]
    started: float

    def _seconds(self) -> float:
        return round(time.monotonic() - self.started, 3)

    def nothing_read(self, also_skipped: str | None = None) -> IngestResult:
        skipped = self.skipped + [also_skipped] if also_skipped else self.skipped
        return IngestResult(table=self.table, ingest_id=self.ingest_id, records_read=0, records_written=0,
                            records_rejected=0, files_written=0, bytes_written=0, partitions_written=0,
                            rejects_uri=None, skipped_sources=skipped, seconds=self._seconds())

    def done(self, run: Run, staged: list[StagedFile]) -> IngestResult:
        return IngestResult(
            table=self.table,
            ingest_id=self.ingest_id,
            records_read=sum(c.read for c in run.counts.values()),
            records_written=sum(c.written for c in run.counts.values()),
            records_rejected=run.rejects.count,
            files_written=len(staged),
            bytes_written=sum(s.stats.size for s in staged),
            partitions_written=len({s.partition for s in staged}) if run.opts.partition_by else 0,
            rejects_uri=run.rejects.uri if run.rejects.count else None,
            skipped_sources=self.skipped,
            seconds=self._seconds(),
            renamed_columns=dict(run.namer.renamed),
            reject_errors=run.rejects.most_common(),
        )

    def aborted(self, run: Run) -> IngestResult:
        """The counts of an ingest that stopped: nothing of it was committed."""
        return IngestResult(
            table=self.table, ingest_id=self.ingest_id, records_read=sum(c.read for c in run.counts.values()),
            records_written=0, records_rejected=run.rejects.count, files_written=0, bytes_written=0,
            partitions_written=0, rejects_uri=run.rejects.uri if run.rejects.count else None,
            skipped_sources=self.skipped, seconds=self._seconds(), renamed_columns=dict(run.namer.renamed),
            reject_errors=run.rejects.most_common(),
        )


def _table_definition(existing: Table | None, opts: IngestOptions, schema: TableSchema, location: str) -> Table:
    params = dict(existing.parameters) if existing else {}
    params.update({
        "classification": "parquet",
        "compression": opts.compression,
        "typeOfData": "file",
        "lakekit.writer": "lakekit",
    })
    if opts.timestamp_column:
        params["lakekit.timestamp_column"] = opts.timestamp_column
    return Table(
        database=opts.database,
        name=opts.name,
        location=location,
        columns=schema.catalog_columns(),
        partition_keys=[Column(k, "string") for k in opts.partition_by],
        parameters=params,
    )


def _files_to_replace(storage: Storage, cat: Catalog, table: Table, partitions: set, new_files: set[str]) -> list[str]:
    """Every data file now in the partitions being overwritten: catalogued or not."""
    old = {f.uri for f in cat.list_files(table.database, table.name) if tuple(f.partition_values) in partitions}
    keys = [c.name for c in table.partition_keys]
    for values in partitions:
        folder = paths.partition_location(table.location, keys, values)
        for entry in storage.list_files(folder, recursive=False):
            if not paths.is_hidden(entry.uri):
                old.add(entry.uri)
    return sorted(old - new_files)


def _apply_projection(table: Table, opts: IngestOptions, staged) -> None:
    table.parameters.update(projection_parameters(table, opts.partition_by, [s.partition for s in staged]))


