"""The read pipeline: sources to blocks, blocks parsed, conformed and split by partition
on the parse threads, then handed in order to the writer and the rejects file."""

from __future__ import annotations

import collections
import csv
import json
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pyarrow as pa

from lakekit.errors import InputError, RejectLimitExceeded
from lakekit.ingestion.column_names import ColumnNamer
from lakekit.ingestion.formats import BOM, Format, detect
from lakekit.ingestion.framing import CsvGrammar, line_breaks
from lakekit.ingestion.options import IngestOptions
from lakekit.ingestion.parse import CsvParser, JsonParser, Reject, parse_block
from lakekit.ingestion.schema import ReadRules, TableSchema, conform
from lakekit.ingestion.sources import (
    STDIN,
    Block,
    PeekedStream,
    Source,
    open_source,
    read_blocks,
    read_csv_blocks,
    read_value_blocks,
)
from lakekit.ingestion.transform import Transformer
from lakekit.ingestion.writer import PartitionedWriter, split_by_partition
from lakekit.storage import Storage


class RejectsFile:
    """The rejects file, opened on the first reject; counts each kind of error."""

    def __init__(self, storage: Storage, uri: str):
        self.storage, self.uri = storage, uri
        self.count = 0
        self.kinds: collections.Counter = collections.Counter()
        self._out = None

    def write(self, rejects: Sequence[Reject]) -> None:
        if not rejects:
            return
        if self._out is None:
            self._out = self.storage.open_output(self.uri)
        self._out.write("".join(json.dumps(r.to_dict(), ensure_ascii=False) + "\n" for r in rejects).encode("utf-8"))
        self.count += len(rejects)
        self.kinds.update(r.summary for r in rejects)

    def most_common(self, n: int = 5) -> list[dict]:
        """The ``n`` most common errors, ``{"error", "count"}``, most common first."""
        return [{"error": e, "count": c} for e, c in self.kinds.most_common(n)]

    def close(self) -> None:
        if self._out is not None:
            self._out.close()


@dataclass
class SourceCounts:
    read: int = 0
    written: int = 0
    rejected: int = 0


@dataclass
class Run:
    """The state of one ingest while it runs."""

    opts: IngestOptions
    storage: Storage
    schema: TableSchema
    writer: PartitionedWriter
    rejects: RejectsFile
    block_size: int
    counts: dict[str, SourceCounts] = field(default_factory=dict)
    schema_lock: threading.Lock = field(default_factory=threading.Lock)
    namer: ColumnNamer = field(default_factory=ColumnNamer)
    task: object = None
    #: ``--transform``: applied to each block before it is parsed
    transform: Transformer | None = None

    def check_reject_limit(self) -> None:
        limit = self.opts.max_rejects
        if limit is not None and self.rejects.count > limit:
            common = ", ".join(f"{e['count']:,} x {e['error']}" for e in self.rejects.most_common(3))
            raise RejectLimitExceeded(
                f"more than {limit} records rejected (--max-rejects {limit}): {common}; nothing was committed; "
                f"see {self.rejects.uri}"
            )


def read_all(run: Run, to_read: list[tuple[Source, str | None]], progress: bool) -> dict[str, str]:
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
                run.counts[src.name] = SourceCounts()
                stream, hasher, raw = open_source(src, run.storage)
                try:
                    _read_source(run, pool, src, stream, raw, bar, done_bytes)
                finally:
                    _close_quietly(stream)
                    if raw is not stream:
                        _close_quietly(raw)
                    _advance(bar, raw, done_bytes)
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


def _open_blocks(run: Run, src: Source, stream) -> tuple[Format, Iterator[Block]] | None:
    """Sniff the source's format and start framing it into blocks (None: empty)."""
    try:
        head = stream.read(1 << 16)
    except (OSError, EOFError, ValueError, pa.ArrowException) as ex:
        raise InputError(f"cannot read {src.name}: {ex}; is the file truncated or not what its name says?") from ex
    if not head:
        return None
    fmt = detect(head, src.uri, run.opts.input_format, run.opts.delimiter)
    if run.transform is not None and fmt.kind != "jsonl":
        raise InputError(f"--transform works on JSON Lines records and {src.name} reads as {fmt.kind}; "
                         "convert it to JSON Lines first, or ingest it without --transform")
    stream = PeekedStream(head, stream)
    if fmt.kind == "json":
        return fmt, read_value_blocks(stream, src, run.block_size)
    if fmt.kind == "jsonl":
        return fmt, read_blocks(stream, src, run.block_size)
    return fmt, read_csv_blocks(stream, src, run.block_size, _csv_grammar(head, fmt))


def _csv_grammar(head: bytes, fmt: Format) -> CsvGrammar:
    """The grammar for a CSV source, told the header's field count when the header
    ends within ``head``: a record spanning lines with another count is a stray quote."""
    body = head[len(BOM):] if head.startswith(BOM) else head
    grammar = CsvGrammar(fmt.delimiter)
    found = grammar.first_record(body)
    if found is None or found[1] >= len(body) and not body.endswith((b"\n", b"\r")):
        return grammar
    width = grammar.field_count(found[2])
    return CsvGrammar(fmt.delimiter, width) if width > 0 else grammar


def _read_source(run: Run, pool, src: Source, stream, raw, bar, done_bytes: int) -> None:
    opened = _open_blocks(run, src, stream)
    if opened is None:
        return
    fmt, blocks = opened
    first = next(blocks, None)
    if first is None:
        return
    if fmt.is_csv:
        names, first = _csv_header(run, first, fmt)
        null_values = run.opts.null_values

        def make_parser():
            return CsvParser(len(names), fmt.delimiter, null_values)
    else:
        names = None

        def make_parser():
            return JsonParser(run.schema.parse_schema(), multiline=fmt.kind == "json")

    counts = run.counts[src.name]
    # The first block is parsed and conformed alone: the schema it settles is the one
    # the blocks after it are parsed against, in parallel.
    _consume(run, first, _prepare(run, first, make_parser(), names, first_block=True), counts)
    pending: collections.deque = collections.deque()
    for block in blocks:
        pending.append((block, pool.submit(_prepare, run, block, make_parser(), names)))
        if len(pending) >= 3:  # parse threads keep busy while this one writes
            blk, fut = pending.popleft()
            _consume(run, blk, fut.result(), counts)
            _advance(bar, raw, done_bytes)
    while pending:
        blk, fut = pending.popleft()
        _consume(run, blk, fut.result(), counts)
        _advance(bar, raw, done_bytes)


def _advance(bar, raw, done_bytes: int) -> None:
    if bar is not None:
        bar.update(bar.task_ids[0], completed=done_bytes + raw.bytes_read)


def _csv_header(run: Run, block: Block, fmt: Format) -> tuple[list[str], Block]:
    """The column names of a CSV source and its first block without the header.

    Without a header (sniffed: numbers where names would be) columns are named
    ``column0``, ``column1``, ... as DuckDB names them; an empty name in a header is
    ``unnamed_<position>`` as pandas names it (``Unnamed: 0``, sanitized).
    """
    data = block.data[3:] if block.data.startswith(BOM) else block.data
    if block.framed is not None:
        records = block.framed
        if not records:
            return [], block
        line, raw = records[0]
        end = None
    else:
        found = block.grammar.first_record(data)
        if found is None:
            return [], block
        start, end, raw = found
        line = block.first_line + line_breaks(data[:start])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as ex:
        raise InputError(f"{block.source.name}: the CSV header is not valid UTF-8") from ex
    fields = next(csv.reader([text], delimiter=fmt.delimiter), [])
    if not fmt.header:
        kept = Block(data, block.first_line, block.source, "csv", block.framed, block.rejects, block.grammar)
        return [f"column{i}" for i in range(len(fields))], kept
    names = [f.strip() or f"Unnamed: {i}" for i, f in enumerate(fields)]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise InputError(f"{block.source.name}: the CSV header repeats column {repeated[0]!r}; "
                         "every column needs a name of its own")
    if end is None:
        body = b"\n".join(r for _, r in records[1:]) + b"\n" if records[1:] else b""
        rest = Block(body, records[1][0] if records[1:] else line + 1, block.source, "csv", records[1:],
                     block.rejects, block.grammar)
    else:
        rest = Block(data[end:], line + line_breaks(data[start:end]), block.source, "csv", None, block.rejects,
                     block.grammar)
    return names, rest


@dataclass
class _Prepared:
    """A block parsed, conformed and sorted by partition, ready for the writer."""

    parsed: object
    #: (conformed, the (line, raw) of each row or None for the block's records, split)
    pieces: list[tuple[object, list[tuple[int, bytes]] | None, object]]
    #: with ``--transform``: the block as transformed (the one parsed), the records
    #: it failed on, and the raw text of each line as it was read (rejects keep it)
    transformed: Block | None = None
    transform_rejects: list[Reject] = field(default_factory=list)
    raw_lines: dict[int, bytes] | None = None


def _prepare(run: Run, block: Block, parser, names: list[str] | None, first_block: bool = False) -> _Prepared:
    """Everything a block needs before writing; runs on the parse threads."""
    transformed, transform_rejects, raw_lines = None, [], None
    if run.transform is not None:
        raw_lines = dict(enumerate(block.data.split(b"\n"), start=block.first_line))
        block, transform_rejects = run.transform.apply(block)
        transformed = block
    parsed = parse_block(block, parser, names is not None)
    pieces = []
    block_records: list | None = None
    for piece, records in zip(parsed.tables, parsed.row_records):
        if names is not None:
            with run.schema_lock:
                columns = [run.namer.column(n) for n in names]
            sources = dict(zip(columns, names))
            piece = pa.Table.from_arrays(piece.columns, names=columns)
        else:
            with run.schema_lock:
                renamed = run.namer.rename_table(piece)
            sources = dict(zip(renamed.column_names, piece.column_names))
            piece = renamed
        ts = run.schema.timestamp_column
        if first_block and ts and piece.num_rows and ts not in piece.column_names and ts not in run.schema.columns:
            raise InputError(
                f"timestamp column {ts!r} is not in {block.source.name} "
                f"(fields: {', '.join(piece.column_names[:12])}); pass --timestamp-column with one of them")

        def record_raw(i: int, records=records, rows=piece.num_rows):
            nonlocal block_records
            if records is not None:
                return records[i][1]
            if block_records is None:
                block_records = _block_records(block, rows)
            return block_records[i][1] if i < len(block_records) else None

        rules = ReadRules(text=names is not None, timestamp_format=run.opts.timestamp_format,
                          record_raw=record_raw, source_names=sources)
        # Conforming may add columns to the shared schema: one thread at a time.
        with run.schema_lock:
            result = conform(piece, run.schema, rules)
        pieces.append((result, records, split_by_partition(result.table, result.keys)))
    return _Prepared(parsed, pieces, transformed, transform_rejects, raw_lines)


def _block_records(block: Block, rows: int) -> list[tuple[int, bytes]]:
    """The (line, raw) of each row of a block parsed whole: its lines, unless a line
    held several objects (then the rows outnumber the lines)."""
    records = block.records()
    return records if len(records) == rows else block.records(split_lines=True)


def _consume(run: Run, block: Block, prepared: _Prepared, counts: SourceCounts) -> None:
    """Hand a prepared block to the writer and its rejects to the rejects file."""
    parsed = prepared.parsed
    block = prepared.transformed or block
    counts.read += parsed.records + len(prepared.transform_rejects)
    rejects: list[Reject] = list(parsed.rejects)
    block_records: list[tuple[int, bytes]] | None = None  # framed only when a row is rejected
    for result, records, split in prepared.pieces:
        if result.bad:
            if records is None:
                if block_records is None:
                    block_records = _block_records(block, sum(r.table.num_rows + len(r.bad) for r, _, _ in prepared.pieces))
                records = block_records
            for index, message, kind in result.bad:
                line, raw = records[index] if index < len(records) else (block.first_line, b"")
                rejects.append(Reject(block.source.name, line, message, raw, kind))
        run.writer.add_split(split)
        counts.written += result.table.num_rows
    if prepared.raw_lines is not None:
        # A transformed record refused later is reported with the text it was read as.
        rejects = [Reject(r.source, r.line, r.error, prepared.raw_lines.get(r.line, r.raw), r.kind) for r in rejects]
    rejects += prepared.transform_rejects
    rejects.sort(key=lambda r: r.line)
    counts.rejected += len(rejects)
    run.rejects.write(rejects)
    run.check_reject_limit()
