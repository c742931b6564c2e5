"""``lakekit ingest -``: stdin as a delivery stream, one atomic commit per batch.

A thread reads the input as it arrives and appends each whole record to the spool
(:mod:`lakekit.ingestion.spool`) at once, so a record read is on disk before anything
else happens to it. The calling thread cuts a batch when ``buffer_size`` bytes have
arrived or ``buffer_interval`` seconds have passed since the batch's first record (a
delivery stream's buffering hints), and commits it with the same ingest commit as any
source, identified by the batch's chained hash: a batch committed before a crash is
recognised and skipped when the next run commits the spool it left, so each record
lands exactly once. The input is polled every 0.2 s, so a batch is cut on time even
when nothing arrives, and a stop request (SIGTERM, a first SIGINT) is seen promptly.
"""

from __future__ import annotations

import bz2
import os
import select
import threading
import time
import zlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import BinaryIO

from lakekit.catalog.base import Catalog
from lakekit.errors import InputError, LakekitError, NothingWritten, first_line
from lakekit.ingestion.backup import batch_backup_uri, write_backup
from lakekit.ingestion.formats import detect
from lakekit.ingestion.options import IngestOptions
from lakekit.ingestion.run import IngestResult, run_ingest
from lakekit.ingestion.sources import Source
from lakekit.ingestion.spool import DeadStream, Segment, Spool, dead_streams, segment_chunks, segment_file
from lakekit.ingestion.transform import Transformer
from lakekit.storage import Storage

__all__ = ["DEFAULT_BUFFER_INTERVAL", "DEFAULT_BUFFER_SIZE", "StreamFailed", "StreamIngest", "StreamStatus"]

DEFAULT_BUFFER_SIZE = 64 << 20
DEFAULT_BUFFER_INTERVAL = 60.0
POLL_S = 0.2
READ_SIZE = 1 << 20
STDIN_LABEL = "<stdin>"


class StreamFailed(LakekitError):
    """A batch could not be committed; it stays in the spool for the next run."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code


@dataclass
class StreamStatus:
    """What a progress line shows."""

    records_received: int = 0
    bytes_received: int = 0
    records_per_second: float = 0.0
    batches_committed: int = 0
    records_committed: int = 0
    last_commit_at: float | None = None
    buffered_bytes: int = 0
    recovered_batches: int = 0


class _Decompressor:
    """gzip, bz2 or zstd, told by magic number, decompressed as the bytes arrive
    (concatenated members and frames included, as ``zcat`` does)."""

    def __init__(self, codec: str):
        self.codec = codec
        self._new()

    def _new(self) -> None:
        if self.codec == "gzip":
            self._obj = zlib.decompressobj(wbits=31)
        elif self.codec == "bz2":
            self._obj = bz2.BZ2Decompressor()
        else:
            import zstandard

            self._obj = zstandard.ZstdDecompressor().decompressobj(read_across_frames=True)

    def feed(self, data: bytes) -> bytes:
        out = []
        try:
            while data:
                out.append(self._obj.decompress(data))
                data = getattr(self._obj, "unused_data", b"") if getattr(self._obj, "eof", False) else b""
                if data:
                    self._new()
        except (zlib.error, OSError, EOFError, ValueError) as ex:
            raise InputError(f"cannot decompress stdin ({self.codec}): {ex}") from ex
        except Exception as ex:  # zstandard raises its own error type
            raise InputError(f"cannot decompress stdin ({self.codec}): {first_line(ex)}") from ex
        return b"".join(out)


_MAGIC = {b"\x1f\x8b": "gzip", b"BZh": "bz2", b"\x28\xb5\x2f\xfd": "zstd"}


class _Reader(threading.Thread):
    """Reads the input and spools each whole record as soon as its line ends."""

    def __init__(self, fd: int, spool: Spool, options: IngestOptions, buffer_size: int, clock: Callable[[], float]):
        super().__init__(name="lakekit-stream-reader", daemon=True)
        self.fd, self.spool, self.buffer_size, self.clock = fd, spool, buffer_size, clock
        self.input_format, self.delimiter = options.input_format, options.delimiter
        self.csv: bool | None = None  # known once the first line has arrived
        #: a JSON array or values spanning lines: framed by JSON syntax, so not cut at
        #: line ends; the whole input is one batch
        self.whole = False
        self.header = False
        self.stopping = threading.Event()
        self.done = threading.Event()
        self.wakeup = threading.Event()
        self.error: BaseException | None = None
        self.bytes_received = 0
        self.records_received = 0
        self._head = b""
        self._decompressor: _Decompressor | None = None
        self._sniffed = False
        self._pending: list[bytes] = []  # the record being received, not yet ended
        self._pending_quotes = 0
        self._header_seen = False

    def run(self) -> None:
        try:
            while not self.stopping.is_set():
                ready, _, _ = select.select([self.fd], [], [], POLL_S)
                if not ready:
                    self.spool.tick()
                    continue
                chunk = os.read(self.fd, READ_SIZE)
                if not chunk:
                    self._end()
                    break
                self._raw(chunk)
                self.spool.tick()
        except BaseException as ex:  # noqa: BLE001 - handed to the committing thread, which reports it
            self.error = ex
        finally:
            self.done.set()
            self.wakeup.set()

    def _raw(self, chunk: bytes) -> None:
        if not self._sniffed:
            self._head += chunk
            if len(self._head) < 4:
                return
            chunk, self._head, self._sniffed = self._head, b"", True
            codec = next((c for magic, c in _MAGIC.items() if chunk.startswith(magic)), None)
            if codec:
                self._decompressor = _Decompressor(codec)
        self._take(self._decompressor.feed(chunk) if self._decompressor else chunk)

    def _end(self) -> None:
        if not self._sniffed and self._head:
            chunk, self._head, self._sniffed = self._head, b"", True
            self._take(chunk)
        if self.csv is None and self._pending:
            self._detect(b"".join(self._pending))
        rest = b"".join(self._pending)
        self._pending = []
        if rest.strip():
            self._spool(rest)

    def _detect(self, buf: bytes) -> None:
        """The input's format, told from its first line(s) as a file's is."""
        fmt = detect(buf, "", self.input_format, self.delimiter)
        self.csv, self.whole = fmt.is_csv, fmt.kind == "json"
        self.header, self.delimiter = fmt.is_csv and fmt.header, fmt.delimiter if fmt.is_csv else None
        self.spool.set_format(fmt.kind, delimiter=self.delimiter)

    def _take(self, data: bytes) -> None:
        if not data:
            return
        if self.csv is None:
            self._pending.append(data)
            buf = b"".join(self._pending)
            if b"\n" not in buf.lstrip():
                return  # the first line is not complete yet
            self._pending, data = [], buf
            self._detect(buf)
        if self.whole:
            self._spool(data)
            return
        cut = _last_record_end(data, self.csv, self._pending_quotes % 2)
        if cut < 0:
            self._pending.append(data)
            if self.csv:
                self._pending_quotes += data.count(b'"')
            return
        whole = b"".join(self._pending) + data[: cut + 1] if self._pending else data[: cut + 1]
        rest = data[cut + 1:]
        self._pending = [rest] if rest else []
        self._pending_quotes = rest.count(b'"') if self.csv else 0
        self._spool(whole)

    def _spool(self, whole: bytes) -> None:
        if self.header and not self._header_seen:
            self._header_seen = True
            header = whole[: whole.find(b"\n") + 1] if b"\n" in whole else whole + b"\n"
            self.spool.set_format("csv", header, self.delimiter)
        self.bytes_received += len(whole)
        self.records_received += whole.count(b"\n") + (0 if whole.endswith(b"\n") else 1)
        if self.whole:
            self.spool.append(whole, self.clock())
            return
        # A batch is cut at --buffer-size here, as the bytes arrive, so batches keep to
        # it even while the committing thread is busy with the one before.
        while whole:
            held = self.spool.current()[0]
            room = self.buffer_size - held
            if len(whole) < room:
                self.spool.append(whole, self.clock())
                return
            cut = _last_record_end(whole[:room], bool(self.csv), 0)
            if cut < 0 and held:
                self.spool.seal()
                self.wakeup.set()
                continue
            if cut < 0:  # one record longer than the buffer: a batch of its own
                cut = _first_record_end(whole, bool(self.csv), room)
            piece, whole = whole[: cut + 1], whole[cut + 1:]
            self.spool.append(piece, self.clock())
            self.spool.seal()
            self.wakeup.set()


def _last_record_end(data: bytes, csv: bool, odd_quotes_before: int) -> int:
    """Index of the newline ending the last whole record in ``data`` (-1: none), for
    CSV outside quotes, given the parity of the quotes received before ``data``."""
    cut = data.rfind(b"\n")
    if not csv:
        return cut
    while cut >= 0 and (odd_quotes_before + data.count(b'"', 0, cut)) % 2:
        cut = data.rfind(b"\n", 0, cut)
    return cut


def _first_record_end(data: bytes, csv: bool, start: int) -> int:
    """Index of the first newline at or after ``start`` that ends a record (the last
    byte when none does)."""
    cut = data.find(b"\n", start)
    while csv and cut >= 0 and data.count(b'"', 0, cut) % 2:
        cut = data.find(b"\n", cut + 1)
    return cut if cut >= 0 else len(data) - 1


@dataclass
class StreamIngest:
    """One stream from ``input`` into the table ``options`` names. Call :meth:`run`."""

    input: BinaryIO | int
    options: IngestOptions
    storage: Storage
    catalog: Catalog
    buffer_size: int = DEFAULT_BUFFER_SIZE
    buffer_interval: float = DEFAULT_BUFFER_INTERVAL
    transform: Transformer | None = None
    backup: str | None = None
    force: bool = False
    memory_budget: int | None = None
    block_size: int | None = None
    #: called with each batch's result, committed or skipped, as it happens
    on_batch: Callable[[IngestResult], None] | None = None
    #: called about every 0.2 s with the stream's status (a progress line)
    on_progress: Callable[[StreamStatus], None] | None = None
    #: set it to stop: what is buffered is committed, then :meth:`run` returns
    stop: threading.Event = field(default_factory=threading.Event)
    clock: Callable[[], float] = time.time
    status: StreamStatus = field(default_factory=StreamStatus)
    results: list[IngestResult] = field(default_factory=list)
    _rate: deque = field(default_factory=lambda: deque(maxlen=30))

    def run(self) -> list[IngestResult]:
        """Commit what earlier streams left in the spool, then stream until end of input
        or :attr:`stop`. Returns the result of every batch."""
        self._recover()
        fd = self.input if isinstance(self.input, int) else self.input.fileno()
        spool = Spool(self.storage, self.options.database, self.options.name, "jsonl",
                      # --force: a new chain, so no batch can match one committed before
                      seed=os.urandom(32).hex() if self.force else "")
        reader = _Reader(fd, spool, self.options, self.buffer_size, self.clock)
        try:
            reader.start()
            try:
                self._loop(spool, reader)
            finally:
                reader.stopping.set()
                reader.join()
            # Whatever was read before the end (or the stop) is committed now.
            spool.seal()
            while (seg := spool.next_sealed()) is not None:
                self._commit(spool, seg)
            if reader.error is not None:
                raise reader.error
        finally:
            spool.close()
        return self.results

    def _loop(self, spool: Spool, reader: _Reader) -> None:
        while not self.stop.is_set() and not reader.done.is_set():
            _, arrived = spool.current()
            if arrived is not None and not reader.whole and self.clock() - arrived >= self.buffer_interval:
                spool.seal()
            seg = spool.next_sealed()
            if seg is not None:
                self._commit(spool, seg)
            else:
                reader.wakeup.wait(POLL_S)
                reader.wakeup.clear()
            self._progress(reader, spool)

    def _progress(self, reader: _Reader, spool: Spool) -> None:
        now = time.monotonic()
        self._rate.append((now, reader.records_received))
        first_t, first_n = self._rate[0]
        st = self.status
        st.records_received, st.bytes_received = reader.records_received, reader.bytes_received
        st.records_per_second = (reader.records_received - first_n) / (now - first_t) if now > first_t else 0.0
        st.buffered_bytes = spool.current()[0]
        if self.on_progress is not None:
            self.on_progress(st)

    # -- batches -------------------------------------------------------------------------
    def _commit(self, spool: Spool | DeadStream, seg: Segment | None) -> IngestResult | None:
        if seg is None:
            return None
        try:
            result = self._ingest_segment(seg)
        except NothingWritten as ex:
            # Every record of the batch was rejected: they are in its rejects file, and a
            # stream goes on past them, as a delivery stream's error output does.
            result = ex.result
        except LakekitError as ex:
            raise StreamFailed(f"{ex} (the batch of {seg.records:,} records is kept in {seg.folder} and is "
                               "committed first by the next `lakekit ingest -` into this table)",
                               ex.exit_code) from ex
        spool.remove(seg)
        self.results.append(result)
        if result.records_read:
            self.status.batches_committed += 1
            self.status.records_committed += result.records_read
            self.status.last_commit_at = time.time()
        if self.on_batch is not None:
            self.on_batch(result)
        return result

    def _ingest_segment(self, seg: Segment) -> IngestResult:
        opts = replace(self.options, input_format=seg.fmt, delimiter=seg.delimiter if seg.fmt == "csv" else None)
        if self.backup:
            uri = batch_backup_uri(self.backup, opts.database, opts.name, seg.arrived, seg.stream_id, seg.seq)
            write_backup(self.storage, uri, segment_chunks(self.storage, seg))
        with segment_file(self.storage, seg) as path:
            source = Source(path, seg.nbytes, label=STDIN_LABEL, digest=seg.identity, line_offset=seg.line_offset)
            return run_ingest(sources=[source], options=opts, storage=self.storage, catalog=self.catalog,
                              force=False, memory_budget=self.memory_budget, block_size=self.block_size,
                              transform=self.transform)

    def _recover(self) -> None:
        """Commit, in order, the segments of every stream into this table that died."""
        for dead in dead_streams(self.storage, self.options.database, self.options.name):
            try:
                for seg in dead.segments():
                    if self._commit(dead, seg) is not None:
                        self.status.recovered_batches += 1
            except BaseException:
                dead.release(remove=False)
                raise
            dead.release(remove=True)
