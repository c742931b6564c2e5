"""``lakekit.ingest``: raw records in, a partitioned Parquet table out, nothing lost.

>>> import os, tempfile, json
>>> src = os.path.join(tempfile.mkdtemp(), "e.jsonl")
>>> _ = open(src, "w").write(json.dumps({"id": 1, "ts": "2024-03-07T10:00:00Z"}) + "\\n")
>>> r = ingest(src, "demo.events", timestamp_column="ts", warehouse=tempfile.mkdtemp())
>>> r.records_read, r.records_written, r.records_rejected, r.partitions_written
(1, 1, 0, 1)
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import os
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Sequence

from lakekit.catalog import open_catalog
from lakekit.catalog.base import Column, IngestCommit, Load, Partition, Table
from lakekit.config import Settings, resolve_settings
from lakekit.errors import InputError, LakekitError, RejectLimitExceeded, UsageError
from lakekit.ingest import commit as commits
from lakekit.ingest.parse import CsvParser, JsonParser, Reject, parse_block
from lakekit.ingest.schema import TableSchema, check_declared_columns, conform
from lakekit.ingest.sources import STDIN, Block, Source, expand_sources, file_hash, open_source, read_blocks
from lakekit.ingest.writer import PartitionedWriter, split_by_partition
from lakekit.layout import COMPRESSIONS, Layout, load_layout, parse_partition_by, parse_size
from lakekit.names import parse_table_name
from lakekit.storage import Storage, join

if TYPE_CHECKING:  # pragma: no cover
    import boto3

__all__ = ["IngestResult", "ingest"]

DEFAULT_TARGET_FILE_SIZE = 128 << 20
DEFAULT_MEMORY_BUDGET = 64 << 20
DEFAULT_BLOCK_SIZE = 4 << 20
MODES = ("append", "overwrite-partitions")
INPUT_FORMATS = ("auto", "jsonl", "csv")


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

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class _Options:
    database: str
    name: str
    timestamp_column: str | None
    partition_by: tuple[str, ...]
    input_format: str
    compression: str
    target_file_size: int
    mode: str
    max_rejects: int | None
    declared_columns: dict
    projection: bool


def _resolve_options(table, layout, timestamp_column, partition_by, input_format, compression,
                     target_file_size, mode, max_rejects, projection) -> _Options:
    lay: Layout | None = None
    if layout is not None:
        lay = layout if isinstance(layout, Layout) else load_layout(str(layout))
        if lay.format != "parquet":
            raise UsageError(f"{lay.path}: lakekit writes Parquet; set format: parquet")
    table = table or (lay.table if lay else None)
    if not table:
        raise UsageError("no table given; pass --table DB.TABLE or --layout FILE")
    database, name = parse_table_name(table)
    ts = timestamp_column or (lay.timestamp_column if lay else None)
    if partition_by is not None:
        grains = parse_partition_by(partition_by)
    elif lay is not None:
        grains = lay.partition_by
    else:
        grains = ("year", "month", "day")
    if not ts:
        if partition_by is not None:
            raise UsageError("--partition-by needs --timestamp-column: partition values come from the record's timestamp")
        grains = ()
    compression = (compression or (lay.compression if lay else "zstd")).lower()
    if compression not in COMPRESSIONS:
        raise UsageError(f"compression {compression!r} is not supported; use one of {', '.join(COMPRESSIONS)}")
    if mode not in MODES:
        raise UsageError(f"mode {mode!r} is unknown; use append or overwrite-partitions")
    if input_format not in INPUT_FORMATS:
        raise UsageError(f"input format {input_format!r} is unknown; use auto, jsonl or csv")
    if max_rejects is not None and max_rejects < 0:
        raise UsageError("--max-rejects must be 0 or more")
    size = parse_size(target_file_size, "--target-file-size") if target_file_size is not None else (
        lay.target_file_size if lay else DEFAULT_TARGET_FILE_SIZE)
    return _Options(
        database, name, ts, grains, input_format, compression, size, mode, max_rejects,
        check_declared_columns(lay.columns) if lay else {},
        bool(projection if projection is not None else (lay.projection if lay else False)),
    )


def _pause_point(name: str) -> None:
    """Test hook: stop here (so a test can kill the process) when asked to."""
    if os.environ.get("LAKEKIT_TEST_PAUSE_AT") == name:
        marker = os.environ.get("LAKEKIT_TEST_PAUSE_FILE")
        if marker:
            with open(marker, "w") as f:
                f.write(name)
        time.sleep(float(os.environ.get("LAKEKIT_TEST_PAUSE_SECONDS", "60")))


class _Rejects:
    """The rejects file, opened on the first reject."""

    def __init__(self, storage: Storage, uri: str):
        self.storage, self.uri = storage, uri
        self.count = 0
        self._out = None

    def write(self, rejects: Sequence[Reject]) -> None:
        if not rejects:
            return
        if self._out is None:
            self._out = self.storage.open_output(self.uri)
        self._out.write("".join(json.dumps(r.to_dict(), ensure_ascii=False) + "\n" for r in rejects).encode("utf-8"))
        self.count += len(rejects)

    def close(self) -> None:
        if self._out is not None:
            self._out.close()


@dataclass
class _SourceCounts:
    read: int = 0
    written: int = 0
    rejected: int = 0


@dataclass
class _Run:
    """The state of one ingest while it runs."""

    opts: _Options
    storage: Storage
    schema: TableSchema
    writer: PartitionedWriter
    rejects: _Rejects
    block_size: int
    counts: dict[str, _SourceCounts] = field(default_factory=dict)
    schema_lock: threading.Lock = field(default_factory=threading.Lock)
    progress: object = None
    task: object = None

    def check_reject_limit(self) -> None:
        limit = self.opts.max_rejects
        if limit is not None and self.rejects.count > limit:
            raise RejectLimitExceeded(
                f"more than {limit} records rejected (--max-rejects {limit}); nothing was committed; "
                f"see {self.rejects.uri}"
            )


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
    warehouse: str | None = None,
    catalog: str | None = None,
    settings: Settings | None = None,
    memory_budget: int | None = None,
    block_size: int | None = None,
    progress: bool = False,
    boto3_session: "boto3.Session | None" = None,
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
        memory_budget: bytes of rows buffered before the largest buffers are written.

    Returns:
        :class:`IngestResult`, the same fields as the command's JSON.
    """
    started = time.monotonic()
    settings = settings or resolve_settings(warehouse=warehouse, catalog=catalog)
    opts = _resolve_options(table, layout, timestamp_column, partition_by, input_format, compression,
                            target_file_size, mode, max_rejects, projection)
    storage = Storage(settings.warehouse, boto3_session)
    cat = open_catalog(settings, boto3_session)
    try:
        return _ingest(sources, opts, settings, storage, cat, force, memory_budget, block_size, progress,
                       boto3_session, started)
    finally:
        cat.close()


def _ingest(sources, opts: _Options, settings, storage: Storage, cat, force, memory_budget, block_size,
            progress, boto3_session, started) -> IngestResult:
    commits.recover(storage, cat)
    qualified = f"{opts.database}.{opts.name}"
    existing = cat.get_table(opts.database, opts.name)
    location = existing.location if existing else storage.uri(opts.database, opts.name)
    if existing:
        opts = _reconcile_with_existing(existing, opts)
        schema = TableSchema.from_columns(existing.columns, opts.timestamp_column, opts.partition_by)
    else:
        schema = TableSchema(timestamp_column=opts.timestamp_column, partition_by=opts.partition_by)
    for col_name, col_type in opts.declared_columns.items():
        schema.columns.setdefault(col_name, col_type)
        if col_name == opts.timestamp_column:
            schema.raw_timestamp_types.setdefault(col_name, __import__("pyarrow").string())
    schema.check_no_clash(schema.columns)

    source_list = expand_sources([sources] if isinstance(sources, str) else list(sources),
                                 lambda uri: Storage(uri, boto3_session))
    loaded = set() if force else cat.loaded_hashes(opts.database, opts.name)
    to_read: list[tuple[Source, str | None]] = []
    skipped: list[str] = []
    seen_hashes: set[str] = set()
    for src in source_list:
        digest = None if src.uri == STDIN else file_hash(src, storage if src.uri.startswith("s3://") else Storage(os.path.dirname(src.uri) or "."))
        if digest is not None and (digest in loaded or digest in seen_hashes):
            skipped.append(src.name)
            continue
        if digest is not None:
            seen_hashes.add(digest)
        to_read.append((src, digest))

    ingest_id = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:8]
    rejects_uri = storage.uri("_lakekit", "rejects", opts.database, opts.name, f"{ingest_id}.jsonl")
    result_base = dict(table=qualified, ingest_id=ingest_id, skipped_sources=skipped)
    if not to_read:
        return IngestResult(records_read=0, records_written=0, records_rejected=0, files_written=0,
                            bytes_written=0, partitions_written=0, rejects_uri=None,
                            seconds=round(time.monotonic() - started, 3), **result_base)

    commits.claim_staging(storage, ingest_id)
    staging = join(commits.staging_root(storage, ingest_id), "data")
    writer = PartitionedWriter(storage, staging, location, opts.partition_by, opts.compression,
                               opts.target_file_size, memory_budget or DEFAULT_MEMORY_BUDGET, ingest_id)
    run = _Run(opts, storage, schema, writer, _Rejects(storage, rejects_uri), block_size or DEFAULT_BLOCK_SIZE)
    try:
        hashes = _read_all(run, to_read, progress)
        _pause_point("parsed")
        staged = writer.close()
        run.rejects.close()
        _pause_point("staged")
        stdin_digest = hashes.get(STDIN)
        if stdin_digest and stdin_digest in loaded:
            commits.discard(storage, ingest_id)
            return IngestResult(records_read=0, records_written=0, records_rejected=0, files_written=0,
                                bytes_written=0, partitions_written=0, rejects_uri=None,
                                seconds=round(time.monotonic() - started, 3),
                                **{**result_base, "skipped_sources": skipped + ["<stdin>"]})
        read = sum(c.read for c in run.counts.values())
        written = sum(c.written for c in run.counts.values())
        if read != written + run.rejects.count:
            raise LakekitError(f"internal error: {read} records read but {written} written and "
                               f"{run.rejects.count} rejected; nothing was committed")
        table_def = _table_definition(existing, opts, schema, location)
        partitions = sorted({s.partition for s in staged})
        deletes: list[str] = []
        replaced: list[tuple[str, ...]] = []
        if opts.mode == "overwrite-partitions" and existing:
            replaced = partitions
            deletes = _files_to_replace(storage, cat, existing, set(partitions), {s.final_uri for s in staged})
        if opts.projection:
            _apply_projection(table_def, opts, staged)
        commit = IngestCommit(
            table=table_def,
            ingest_id=ingest_id,
            partitions=[] if opts.projection or not opts.partition_by else [
                Partition(p, join(location, *[f"{k}={v}" for k, v in zip(opts.partition_by, p)])) for p in partitions],
            files=[s.stats for s in staged],
            loads=[Load(src.name, hashes.get(src.uri) or digest or "", ingest_id, dt.datetime.now(dt.timezone.utc),
                        run.counts[src.name].read, run.counts[src.name].written, run.counts[src.name].rejected)
                   for src, digest in to_read if src.name in run.counts],
            replaced_partitions=replaced,
        )
        commits.write_journal(storage, ingest_id, qualified, [(s.staging_uri, s.final_uri) for s in staged], deletes)
        _pause_point("journaled")
        cat.commit_ingest(commit)
        _pause_point("committed")
        commits.apply_journal(storage, ingest_id, location)
    except BaseException:
        writer.abort()
        run.rejects.close()
        try:
            if not cat.is_committed(ingest_id):
                commits.discard(storage, ingest_id)
        except Exception:  # noqa: BLE001 - the next run's recovery cleans up
            pass
        raise
    return IngestResult(
        records_read=read,
        records_written=written,
        records_rejected=run.rejects.count,
        files_written=len(staged),
        bytes_written=sum(s.stats.size for s in staged),
        partitions_written=len(partitions) if opts.partition_by else 0,
        rejects_uri=rejects_uri if run.rejects.count else None,
        seconds=round(time.monotonic() - started, 3),
        **result_base,
    )


def _reconcile_with_existing(existing: Table, opts: _Options) -> _Options:
    keys = tuple(c.name for c in existing.partition_keys)
    ts = opts.timestamp_column or existing.timestamp_column
    if opts.timestamp_column and existing.timestamp_column and opts.timestamp_column != existing.timestamp_column:
        raise UsageError(f"table {existing.qualified_name} is partitioned by column {existing.timestamp_column!r}, "
                         f"not {opts.timestamp_column!r}; use --timestamp-column {existing.timestamp_column}")
    grains = opts.partition_by if opts.timestamp_column else keys
    if keys != grains:
        raise UsageError(f"table {existing.qualified_name} is partitioned by {','.join(keys) or 'nothing'}, "
                         f"not {','.join(grains) or 'nothing'}; pass --partition-by {','.join(keys) or '...'} "
                         "or ingest into a new table")
    opts.timestamp_column = ts
    opts.partition_by = keys
    return opts


def _table_definition(existing: Table | None, opts: _Options, schema: TableSchema, location: str) -> Table:
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


def _files_to_replace(storage: Storage, cat, table: Table, partitions: set, new_files: set[str]) -> list[str]:
    """Every data file now in the partitions being overwritten: catalogued or not."""
    old = {f.uri for f in cat.list_files(table.database, table.name) if tuple(f.partition_values) in partitions}
    keys = [c.name for c in table.partition_keys]
    for values in partitions:
        folder = join(table.location, *[f"{k}={v}" for k, v in zip(keys, values)])
        for entry in storage.list_files(folder, recursive=False):
            if not os.path.basename(entry.uri).startswith(("_", ".")):
                old.add(entry.uri)
    return sorted(old - new_files)


def _apply_projection(table: Table, opts: _Options, staged) -> None:
    try:
        from lakekit.catalog.projection import projection_parameters
    except ImportError as ex:  # pragma: no cover - depends on the AWS package being present
        raise UsageError("partition projection is not available in this build") from ex
    table.parameters.update(projection_parameters(table, opts.partition_by, [s.partition for s in staged]))


def _read_all(run: _Run, to_read: list[tuple[Source, str | None]], progress: bool) -> dict[str, str]:
    """Read every source through the parse/conform/write pipeline. Returns stdin's hash."""
    hashes: dict[str, str] = {}
    total = sum(s.size or 0 for s, _ in to_read)
    bar = _progress_bar(progress, total)
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="lakekit-parse") as pool:
        if bar is not None:
            bar.start()
        try:
            done_bytes = 0
            for src, _digest in to_read:
                run.counts[src.name] = _SourceCounts()
                stream, hasher, raw = open_source(src, run.storage)
                try:
                    _read_source(run, pool, src, stream, raw, bar, done_bytes)
                finally:
                    _close_quietly(stream)
                    if raw is not stream:
                        _close_quietly(raw)
                done_bytes += src.size or 0
                if hasher is not None:
                    hashes[STDIN] = "sha256:" + hasher.sha.hexdigest()
        finally:
            if bar is not None:
                bar.stop()
    return hashes


def _close_quietly(f) -> None:
    try:
        f.close()
    except Exception:  # noqa: BLE001
        pass


def _progress_bar(enabled: bool, total: int):
    if not enabled:
        return None
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

    console = Console(stderr=True)
    if not console.is_terminal:
        return None
    bar = Progress(TextColumn("ingest"), BarColumn(), DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn(),
                   console=console, transient=True)
    bar.add_task("ingest", total=total or None)
    return bar


def _detect_format(run: _Run, src: Source, head: bytes) -> str:
    if run.opts.input_format != "auto":
        return run.opts.input_format
    by_name = src.format_from_name()
    if by_name:
        return by_name
    return "jsonl" if head.lstrip()[:1] in (b"{", b"[") else "csv"


def _read_source(run: _Run, pool, src: Source, stream, raw, bar, done_bytes: int) -> None:
    try:
        head = stream.read(1 << 16)
    except (OSError, EOFError, ValueError) as ex:
        raise InputError(f"cannot read {src.name}: {ex}; is the file truncated or not what its name says?") from ex
    if not head:
        return
    fmt = _detect_format(run, src, head)
    is_csv = fmt == "csv"
    blocks = read_blocks(_Rewound(head, stream), src, run.block_size, csv=is_csv)
    first = next(blocks, None)
    if first is None:
        return
    if is_csv:
        header, first = _split_header(first)

        def make_parser():
            known = run.schema.csv_types()
            return CsvParser(header, {n: t for n, t in known.items() if n in header})
    else:
        def make_parser():
            return JsonParser(run.schema.parse_schema())

    counts = run.counts[src.name]
    # The first block is parsed and conformed alone: the schema it settles is the one
    # the blocks after it are parsed against, in parallel.
    _consume(run, first, _prepare(run, first, make_parser(), is_csv, first_block=True), counts)
    pending: collections.deque = collections.deque()
    for block in blocks:
        pending.append((block, pool.submit(_prepare, run, block, make_parser(), is_csv)))
        if len(pending) >= 3:  # parse threads keep busy while this one writes
            blk, fut = pending.popleft()
            _consume(run, blk, fut.result(), counts)
            _advance(bar, raw, done_bytes)
    while pending:
        blk, fut = pending.popleft()
        _consume(run, blk, fut.result(), counts)
        _advance(bar, raw, done_bytes)


def _advance(bar, raw, done_bytes: int) -> None:
    if bar is None:
        return
    try:
        position = raw.tell() if hasattr(raw, "tell") else raw.bytes_read
    except Exception:  # noqa: BLE001 - progress is best effort
        return
    bar.update(bar.task_ids[0], completed=done_bytes + position)


class _Rewound:
    """Re-reads bytes already taken from a stream, then continues with the stream."""

    def __init__(self, head: bytes, rest):
        self.head, self.rest = head, rest

    def read(self, n: int) -> bytes:
        if self.head:
            data, self.head = self.head[:n], self.head[n:]
            return data
        return self.rest.read(n)


def _split_header(block: Block) -> tuple[list[str], Block]:
    line, sep, rest = block.data.partition(b"\n")
    try:
        text = line.decode("utf-8-sig").rstrip("\r")
    except UnicodeDecodeError as ex:
        raise InputError(f"{block.source.name}: the CSV header is not valid UTF-8") from ex
    import csv as _csv

    names = next(_csv.reader([text]), [])
    if not names or any(not n.strip() for n in names):
        raise InputError(f"{block.source.name}: the CSV header has an empty column name; "
                         "every column needs a name in the first line")
    if len(set(names)) != len(names):
        raise InputError(f"{block.source.name}: the CSV header repeats a column name")
    return [n.strip() for n in names], Block(rest, block.first_line + 1, block.source)


@dataclass
class _Prepared:
    """A block parsed, conformed and sorted by partition, ready for the writer."""

    parsed: object
    pieces: list[tuple[object, list[int] | None, object]]  # (conformed, line numbers, split)


def _prepare(run: _Run, block: Block, parser, is_csv: bool, first_block: bool = False) -> _Prepared:
    """Everything a block needs before writing; runs on the parse threads."""
    parsed = parse_block(block, parser, is_csv)
    pieces = []
    for piece, lines in zip(parsed.tables, parsed.line_numbers):
        ts = run.schema.timestamp_column
        if first_block and ts and piece.num_rows and ts not in piece.column_names and ts not in run.schema.columns:
            raise InputError(
                f"timestamp column {ts!r} is not in {block.source.name} "
                f"(fields: {', '.join(piece.column_names[:12])}); pass --timestamp-column with one of them")
        # Conforming may add columns to the shared schema: one thread at a time.
        with run.schema_lock:
            result = conform(piece, run.schema)
        pieces.append((result, lines, split_by_partition(result.table, result.keys)))
    return _Prepared(parsed, pieces)


def _consume(run: _Run, block: Block, prepared: _Prepared, counts: _SourceCounts) -> None:
    """Hand a prepared block to the writer and its rejects to the rejects file."""
    parsed = prepared.parsed
    counts.read += parsed.records
    rejects: list[Reject] = list(parsed.rejects)
    records_cache: dict[int, bytes] | None = None
    for result, lines, split in prepared.pieces:
        if result.bad:
            if records_cache is None:
                from lakekit.ingest.parse import _records

                records_cache = dict(_records(block))
            for index, message in result.bad:
                line = lines[index] if lines is not None else _nth_record_line(block, index)
                rejects.append(Reject(block.source.name, line, message, records_cache.get(line, b"")))
        run.writer.add_split(split)
        counts.written += result.table.num_rows
    rejects.sort(key=lambda r: r.line)
    counts.rejected += len(rejects)
    run.rejects.write(rejects)
    run.check_reject_limit()


def _nth_record_line(block: Block, index: int) -> int:
    """Line number of the index-th non-blank line of a block (only on the reject path)."""
    line = block.first_line
    seen = -1
    for raw in block.data.split(b"\n"):
        if raw.strip():
            seen += 1
            if seen == index:
                return line
        line += 1
    return line
