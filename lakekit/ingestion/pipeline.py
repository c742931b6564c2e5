"""The read pipeline: sources to blocks, blocks parsed, conformed and split by partition
on the parse threads, then handed in order to the writer and the rejects file."""

from __future__ import annotations

import collections
import json
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from lakekit.errors import InputError, RejectLimitExceeded
from lakekit.ingestion.options import IngestOptions
from lakekit.ingestion.parse import CsvParser, JsonParser, Reject, line_records, parse_block
from lakekit.ingestion.schema import TableSchema, conform
from lakekit.ingestion.sources import STDIN, Block, PeekedStream, Source, open_source, read_blocks
from lakekit.ingestion.writer import PartitionedWriter, split_by_partition
from lakekit.storage import Storage


class RejectsFile:
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
    task: object = None

    def check_reject_limit(self) -> None:
        limit = self.opts.max_rejects
        if limit is not None and self.rejects.count > limit:
            raise RejectLimitExceeded(
                f"more than {limit} records rejected (--max-rejects {limit}); nothing was committed; "
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


def _detect_format(run: Run, src: Source, head: bytes) -> str:
    if run.opts.input_format != "auto":
        return run.opts.input_format
    by_name = src.format_from_name()
    if by_name:
        return by_name
    return "jsonl" if head.lstrip()[:1] in (b"{", b"[") else "csv"


def _read_source(run: Run, pool, src: Source, stream, raw, bar, done_bytes: int) -> None:
    try:
        head = stream.read(1 << 16)
    except (OSError, EOFError, ValueError) as ex:
        raise InputError(f"cannot read {src.name}: {ex}; is the file truncated or not what its name says?") from ex
    if not head:
        return
    fmt = _detect_format(run, src, head)
    is_csv = fmt == "csv"
    blocks = read_blocks(PeekedStream(head, stream), src, run.block_size, csv=is_csv)
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


def _prepare(run: Run, block: Block, parser, is_csv: bool, first_block: bool = False) -> _Prepared:
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


def _consume(run: Run, block: Block, prepared: _Prepared, counts: SourceCounts) -> None:
    """Hand a prepared block to the writer and its rejects to the rejects file."""
    parsed = prepared.parsed
    counts.read += parsed.records
    rejects: list[Reject] = list(parsed.rejects)
    records: list[tuple[int, bytes]] | None = None  # split only when a row is rejected
    for result, lines, split in prepared.pieces:
        if result.bad:
            if records is None:
                records = line_records(block)
                raw_of = dict(records)
            for index, message in result.bad:
                # A piece parsed from the whole block has one row per non-blank line.
                line = lines[index] if lines is not None else records[index][0]
                rejects.append(Reject(block.source.name, line, message, raw_of.get(line, b"")))
        run.writer.add_split(split)
        counts.written += result.table.num_rows
    rejects.sort(key=lambda r: r.line)
    counts.rejected += len(rejects)
    run.rejects.write(rejects)
    run.check_reject_limit()
