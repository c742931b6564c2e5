"""One ingest, start to finish: sources -> parse -> schema -> pipeline -> writer -> commit.

Raw records in, a partitioned Parquet table out, nothing lost: every record read is
written or rejected, and the table changes only when the catalog commit succeeds
(:mod:`lakekit.ingestion.commit`). :meth:`lakekit.Lake.ingest` resolves the options
and calls :func:`run_ingest`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace

import pyarrow as pa

from lakekit import paths
from lakekit.catalog.base import APPEND, OVERWRITE, Catalog, Column, Commit, Load, PartitionChange, Table
from lakekit.catalog.projection import projection_parameters
from lakekit.errors import CommitOutcomeUnknown, LakekitError, NothingWritten, UsageError
from lakekit.ingestion import commit as commits
from lakekit.ingestion.backup import backup_source
from lakekit.ingestion.hashing import EarlyHashes
from lakekit.ingestion.options import IngestOptions, finish_for_new_table, reconcile_with_existing
from lakekit.ingestion.pipeline import RejectsFile, Run, read_all
from lakekit.ingestion.schema import TableSchema
from lakekit.ingestion.sources import STDIN, Source, expand_sources, file_hash
from lakekit.ingestion.transform import Transformer
from lakekit.ingestion.writer import PartitionedWriter, StagedFile
from lakekit.pause import pause_point
from lakekit.storage import Storage
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
    #: what the user should know about a committed ingest (Glue did not take it at
    #: once); printed on stderr, not part of the JSON document SPEC defines
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        out = asdict(self)
        del out["warnings"]
        return out


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
    # A commit this recovery could not publish to Glue (refused again) is reported with
    # this ingest's own warnings: a retry that skips its sources must not look finished.
    recovered = commits.recover(storage, catalog)
    for _ in range(RACE_RETRIES):
        result = _ingest_once(sources, options, storage, catalog, force, memory_budget, block_size, progress,
                              started, transform, backup, early_hashes)
        if result is not None:
            earlier = [w for w in recovered["warnings"] if w not in result.warnings]
            return replace(result, warnings=earlier + result.warnings) if earlier else result
    raise LakekitError(f"{options.database}.{options.name}: other ingests kept committing some of these sources "
                       f"first, {RACE_RETRIES} times; nothing was committed by this run, run it again")


#: how often an ingest re-reads its sources after racing commits loaded some of them
RACE_RETRIES = 5


def _ingest_once(sources, options: IngestOptions, storage: Storage, catalog: Catalog, force: bool,
                 memory_budget: int | None, block_size: int | None, progress: bool,
                 started: float, transform: Transformer | None, backup: str | None,
                 early_hashes: EarlyHashes | None) -> IngestResult | None:
    """One attempt; None when a racing ingest committed some (not all) of the sources
    first, so that the rest must be read again without them."""
    opts, existing, schema = _target_table(options, catalog)
    if existing is None:
        opts, existing, schema = _check_no_data_without_table(options, catalog, storage, opts, existing, schema)
    home = existing.home if existing else storage.uri(opts.database, opts.name)
    if existing is not None:
        with contextlib.suppress(LakekitError):  # tidying: superseded files whose readers are done
            commits.collect_garbage(storage, catalog, existing)
    loaded = set() if force else catalog.loaded_hashes(opts.database, opts.name)
    to_read, skipped = _sources_to_read(sources, storage, loaded, early_hashes)
    pending = commits.Pending(paths.new_commit_id(), f"{opts.database}.{opts.name}", home)
    outcome = _Outcome(table=pending.table, ingest_id=pending.commit_id, skipped=skipped, started=started)
    if not to_read:
        return outcome.nothing_read()

    commits.begin(storage, pending.table, home, pending.commit_id)
    writer = PartitionedWriter(storage, pending.folder, pending.folder, opts.partition_by, opts.compression,
                               opts.target_file_size, memory_budget or DEFAULT_MEMORY_BUDGET, pending.commit_id)
    rejects = RejectsFile(storage, paths.rejects_uri(storage.root, opts.database, opts.name, pending.commit_id))
    run = Run(opts, storage, schema, writer, rejects, block_size or DEFAULT_BLOCK_SIZE, transform=transform)
    try:
        hashes = read_all(run, to_read, progress)
        pause_point("parsed")
        if backup:
            for src, digest in to_read:
                if src.uri != STDIN:
                    backup_source(storage, backup, opts.database, opts.name, src, digest or "")
        staged = writer.close()
        run.rejects.close()
        pause_point("staged")
        stdin_digest = hashes.get(STDIN)
        if stdin_digest and stdin_digest in loaded:
            commits.discard(storage, pending.commit_id, pending.folder)
            return outcome.nothing_read(also_skipped="<stdin>")
        _check_counts(run)
        _check_something_written(run)
        request = _commit_of(run, existing=existing, pending=pending, staged=staged, to_read=to_read,
                             hashes=hashes, force=force)
        result = commits.commit(storage, catalog, request)
    except CommitOutcomeUnknown:
        run.writer.abort()
        run.rejects.close()
        raise  # its files stay: the next writer's recovery finishes or removes the commit
    except BaseException as ex:
        _abandon(storage, run, pending)
        if isinstance(ex, LakekitError):
            ex.result = outcome.aborted(run)  # what it knew when it stopped, for --json
        raise
    if result.duplicate_hashes:
        if run.rejects.count:
            storage.delete(run.rejects.uri)  # the racer's ingest reported these records
        raced = [src.name for src, digest in to_read if (hashes.get(src.uri) or digest) in result.duplicate_hashes]
        if len(raced) < len(to_read):
            return None  # read the others again, without these
        return outcome.nothing_read(also_skipped=raced)
    return outcome.done(run, staged, result.warnings)


def _check_no_data_without_table(options, catalog, storage, opts, existing, schema):
    """A new table's folder must hold no data: files there and no table in the catalog
    mean a lost or replaced catalog, and a fresh table over them would let folder
    readers see both. Folders of commits in flight (a racing first ingest) are not data."""
    home = storage.uri(opts.database, opts.name)
    if storage.exists(paths.dropped_marker_uri(home)):
        return opts, existing, schema  # dropped without --purge: its files stay, knowingly
    in_flight = {e.uri.rsplit("/", 1)[-1][: -len(".json")]
                 for e in storage.list_files(paths.pending_uri(storage.root), recursive=False)}
    for entry in storage.list_files(home):
        parts = paths.relative_parts(home, entry.uri)
        if paths.has_hidden_part(parts) or parts[0] in in_flight:
            continue
        again = _target_table(options, catalog)  # a racing ingest may have created it meanwhile
        if again[1] is not None:
            return again
        raise UsageError(
            f"{home} already holds data files ({entry.uri}) but catalog {catalog.name} ({catalog.location}) has no "
            f"table {opts.database}.{opts.name}: was the catalog lost or replaced? Register the files with "
            f"`lakekit catalog crawl {home} --table {opts.database}.{opts.name}`, or move the folder away"
        )
    return opts, existing, schema


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
    pending: commits.Pending,
    staged: list[StagedFile],
    to_read: list[tuple[Source, str | None]],
    hashes: dict[str, str],
    force: bool,
) -> Commit:
    """What this ingest commits: each partition's new folder with its files."""
    opts = run.opts
    table_def = _table_definition(existing, opts, run.schema, pending.home)
    if opts.projection:
        _apply_projection(table_def, opts, staged)
    by_partition: dict[tuple[str, ...], list] = {}
    for s in staged:
        by_partition.setdefault(s.partition, []).append(s.stats)
    mode = OVERWRITE if opts.mode == "overwrite-partitions" else APPEND
    changes = [PartitionChange(values, pending.location(opts.partition_by, values), tuple(files), mode)
               for values, files in sorted(by_partition.items())]
    now = dt.datetime.now(dt.UTC)
    loads = [Load(src.name, hashes.get(src.uri) or digest or "", pending.commit_id, now,
                  run.counts[src.name].read, run.counts[src.name].written, run.counts[src.name].rejected)
             for src, digest in to_read if src.name in run.counts]
    # a forced ingest loads its sources again on purpose: their hashes are recorded, not checked
    return Commit(table_def, pending.commit_id, changes, loads, "ingest", commits.DEFAULT_RETAIN_S,
                  check_hashes=not force)


def _abandon(storage: Storage, run: Run, pending: commits.Pending) -> None:
    """After a failure before the commit point: nothing this ingest wrote is left."""
    run.writer.abort()
    run.rejects.close()
    try:
        commits.discard(storage, pending.commit_id, pending.folder)
    except Exception:  # noqa: BLE001 - the next writer's recovery removes it
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

    def nothing_read(self, also_skipped: str | list[str] | None = None) -> IngestResult:
        extra = [also_skipped] if isinstance(also_skipped, str) else list(also_skipped or [])
        skipped = self.skipped + extra
        return IngestResult(table=self.table, ingest_id=self.ingest_id, records_read=0, records_written=0,
                            records_rejected=0, files_written=0, bytes_written=0, partitions_written=0,
                            rejects_uri=None, skipped_sources=skipped, seconds=self._seconds())

    def done(self, run: Run, staged: list[StagedFile], warnings: list[str]) -> IngestResult:
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
            warnings=list(warnings),
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


def _table_definition(existing: Table | None, opts: IngestOptions, schema: TableSchema, home: str) -> Table:
    params = dict(existing.parameters) if existing else {}
    params.update({
        "classification": "parquet",
        "compression": opts.compression,
        "typeOfData": "file",
        "lakekit.writer": "lakekit",
    })
    if opts.timestamp_column:
        params["lakekit.timestamp_column"] = opts.timestamp_column
    if not opts.partition_by:
        params["lakekit.home"] = home
    return Table(
        database=opts.database,
        name=opts.name,
        location=existing.location if existing else home,
        columns=schema.catalog_columns(),
        partition_keys=[Column(k, "string") for k in opts.partition_by],
        parameters=params,
    )


def _apply_projection(table: Table, opts: IngestOptions, staged) -> None:
    table.parameters.update(projection_parameters(table, opts.partition_by, [s.partition for s in staged]))


