"""Partitioned Parquet writing under a memory budget.

Rows are buffered per partition and written out as row groups. A partition's buffer
becomes a row group when it reaches the row-group size; when all buffers together pass
the memory budget, the largest are written first, so memory stays bounded however many
partitions the input touches. A file is closed when it reaches the target file size.
Files are written under a staging prefix and only moved into the table at commit.

Encoding a row group (dictionary, statistics, zstd) is the costliest step after
parsing, and pyarrow does it without the GIL, so it runs on encoder threads: each
partition is a *lane* whose writes run one after another, in order, while different
partitions encode side by side. The caller only cuts buffers and hands them over; the
memory budget counts rows until their lane has written them.
"""

from __future__ import annotations

import collections
import os
import shutil
import tempfile
import threading
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from lakekit.catalog.base import DataFile
from lakekit.ingestion.arrays import int64_values
from lakekit.ingestion.schema import partition_values
from lakekit.names import check_partition_value
from lakekit.parquet import stats_from_metadata
from lakekit.paths import SPOOL_PREFIX, join, partition_path
from lakekit.storage import Storage


@dataclass
class StagedFile:
    staging_uri: str
    final_uri: str
    partition: tuple[str, ...]
    stats: DataFile


@dataclass
class _OpenFile:
    staging_uri: str
    final_uri: str
    local_path: str | None  # the spool file, for an s3:// warehouse
    sink: pa.NativeFile
    writer: pq.ParquetWriter
    schema: pa.Schema
    bytes_written: int = 0


@dataclass
class SplitBatch:
    """Rows sorted by partition key, with the run of rows of each partition."""

    table: pa.Table
    runs: list[tuple[int, int, int]]  # (partition key, first row, row count)


def split_by_partition(table: pa.Table, keys: pa.Array | None) -> SplitBatch:
    """Sort a batch by partition with one take. Pure, so parse threads can run it.

    >>> t = pa.table({"x": [1, 2, 3]})
    >>> split_by_partition(t, pa.array([20240102, 20240101, 20240102])).runs
    [(20240101, 0, 1), (20240102, 1, 2)]
    """
    if table.num_rows == 0:
        return SplitBatch(table, [])
    if keys is None:
        return SplitBatch(table, [(0, 0, table.num_rows)])
    uniques = pc.unique(keys)
    if len(uniques) == 1:
        return SplitBatch(table, [(uniques[0].as_py(), 0, table.num_rows)])
    order = pc.sort_indices(keys)
    table = table.take(order)
    sorted_keys = int64_values(keys.take(order))
    bounds = np.flatnonzero(np.diff(sorted_keys)) + 1
    starts = np.concatenate(([0], bounds))
    ends = np.concatenate((bounds, [len(sorted_keys)]))
    return SplitBatch(table, [(int(sorted_keys[s]), int(s), int(e - s)) for s, e in zip(starts, ends)])


@dataclass
class _Batch:
    """A sorted batch whose slices wait in partition buffers. Its memory is held until
    the last of its slices is written, so that is what the budget counts."""

    nbytes: int
    pending: int


@dataclass
class _Buffer:
    tables: list[pa.Table] = field(default_factory=list)
    batches: list[_Batch] = field(default_factory=list)
    nbytes: int = 0


#: Threads encoding Parquet: one per core of the machines lakekit is sized for; more
#: would only hold more row groups in memory at once.
ENCODER_THREADS = max(2, min(4, os.cpu_count() or 2))


class PartitionedWriter:
    """Writes conformed rows to staged Parquet files, one set per partition."""

    def __init__(
        self,
        storage: Storage,
        staging_root: str,
        table_location: str,
        partition_by: tuple[str, ...],
        compression: str,
        target_file_size: int,
        memory_budget: int,
        ingest_id: str,
    ):
        self.storage = storage
        self.staging_root = staging_root
        self.table_location = table_location
        self.partition_by = partition_by
        self.compression = compression  # lakekit's codec names are pyarrow's (layout.COMPRESSIONS)
        self.target_file_size = target_file_size
        self.memory_budget = memory_budget
        # A row group is the unit a reader skips by statistics; big enough to read
        # efficiently, small enough that a file holds a few and buffers stay modest.
        self.row_group_bytes = max(64 << 10, min(target_file_size // 2, 64 << 20))
        self.ingest_id = ingest_id
        self.buffers: dict[int, _Buffer] = {}
        self.open_files: dict[int, _OpenFile] = {}
        self.staged: list[StagedFile] = []
        self.buffered_bytes = 0
        # Arrow bytes per Parquet byte, learned as row groups are written.
        self.expansion = 4.0
        self._seq = 0
        self.max_open_files = 512
        #: columns whose first values were nearly all distinct (ids, free text):
        #: a dictionary cannot shrink them, and building one costs about a quarter
        #: of the write time before Parquet gives up on it.
        self.no_dictionary: set[str] | None = None
        # Files bound for S3 are written to a local spool first and uploaded whole when
        # closed: an open multipart upload holds a part in memory per file, which with
        # many partitions open would break the memory budget.
        self.spool = tempfile.mkdtemp(prefix=SPOOL_PREFIX) if storage.backend_for(staging_root).spools_writes else None
        self._encoders = ThreadPoolExecutor(max_workers=ENCODER_THREADS, thread_name_prefix="lakekit-encode")
        #: the last task handed to each partition's lane; the next one waits for it
        self._lanes: dict[int, Future] = {}
        self._pending: collections.deque[Future] = collections.deque()  # in submission order
        #: lanes the caller has given a file to (opened by a write, not closed since)
        self._lanes_open: dict[int, None] = {}  # in the order they were opened
        self._lock = threading.Lock()
        self._written = threading.Condition(self._lock)

    # -- input ---------------------------------------------------------------------------
    def add_split(self, split: SplitBatch) -> None:
        """Buffer a batch already sorted by partition (see :func:`split_by_partition`)."""
        if split.table.num_rows == 0:
            return
        if self.no_dictionary is None:
            self.no_dictionary = near_unique_columns(split.table)
        # The slices share the sorted batch's memory, which is freed when the last of
        # them is written: that is what the budget counts.
        batch = _Batch(split.table.nbytes, len(split.runs))
        with self._lock:  # encoder threads subtract what they have written
            self.buffered_bytes += batch.nbytes
        for key, start, length in split.runs:
            piece = split.table if length == split.table.num_rows else split.table.slice(start, length)
            self._append(key, piece, batch)
        if self.buffered_bytes > self.memory_budget:
            self._relieve_memory()

    def _append(self, key: int, table: pa.Table, batch: _Batch) -> None:
        buf = self.buffers.setdefault(key, _Buffer())
        buf.tables.append(table)
        buf.batches.append(batch)
        buf.nbytes += table.nbytes
        open_file = self.open_files.get(key)
        room = self.target_file_size - (open_file.bytes_written if open_file else 0)
        if buf.nbytes / self.expansion >= min(self.row_group_bytes, max(room, 64 << 10)):
            self._flush(key)

    def _relieve_memory(self) -> None:
        """Hand the largest buffers to their lanes until the rows not yet handed over are
        under half the budget, then wait while rows held (handed over or not) are over it."""
        waiting = sum(b.nbytes for b in self.buffers.values())
        for key in sorted(self.buffers, key=lambda k: self.buffers[k].nbytes, reverse=True):
            if waiting <= self.memory_budget // 2:
                break
            waiting -= self.buffers[key].nbytes
            self._flush(key)
        with self._written:
            while self.buffered_bytes > self.memory_budget and self._in_flight():
                self._written.wait(0.05)

    # -- output --------------------------------------------------------------------------
    def _partition_path(self, key: int) -> tuple[tuple[str, ...], str]:
        if not self.partition_by:
            return (), ""
        values = partition_values(key, self.partition_by)
        checked = [check_partition_value(k, v) for k, v in zip(self.partition_by, values)]
        return values, partition_path(self.partition_by, checked)

    def _open(self, key: int, schema: pa.Schema) -> _OpenFile:
        _, rel = self._partition_path(key)
        with self._lock:
            self._seq += 1
            seq = self._seq
        name = f"part-{self.ingest_id}-{seq:05d}-{uuid.uuid4().hex[:8]}.parquet"
        rel_path = f"{rel}/{name}" if rel else name
        staging_uri = join(self.staging_root, *rel_path.split("/"))
        final_uri = join(self.table_location, *rel_path.split("/"))
        local_path = None
        if self.spool:
            local_path = os.path.join(self.spool, f"{seq:05d}.parquet")
            sink = pa.OSFile(local_path, "wb")
        else:
            sink = self.storage.open_output(staging_uri)
        writer = pq.ParquetWriter(
            sink,
            schema,
            compression=self.compression,
            write_statistics=True,
            use_dictionary=[n for n in schema.names if n not in (self.no_dictionary or ())],
            # Athena, Hive and Spark cannot read nanosecond timestamps.
            coerce_timestamps="us",
            allow_truncated_timestamps=True,
            store_schema=True,
        )
        f = _OpenFile(staging_uri, final_uri, local_path, sink, writer, schema)
        self.open_files[key] = f
        return f

    def _flush(self, key: int) -> None:
        """Hand a partition's buffer to its lane, opening a file for it if it has none
        (closing another lane's file first when too many are open)."""
        buf = self.buffers.pop(key, None)
        if buf is None or not buf.tables:
            return
        table = pa.concat_tables(buf.tables, promote_options="default") if len(buf.tables) > 1 else buf.tables[0]
        if key not in self._lanes_open and len(self._lanes_open) >= self.max_open_files:
            # Too many partitions open at once: close the one opened first (its lane
            # finishes its writes before).
            victim = next(iter(self._lanes_open))
            self._submit(victim, self._close_lane, victim)
        self._lanes_open[key] = None
        self._submit(key, self._write, key, table, buf.batches)

    def _submit(self, key: int, fn, *args) -> None:
        """Run ``fn`` on an encoder thread after the lane's previous task."""
        if fn == self._close_lane:
            self._lanes_open.pop(key, None)
        previous = self._lanes.get(key)
        future = self._encoders.submit(self._after, previous, fn, *args)
        self._lanes[key] = future
        self._pending.append(future)
        self._reap()

    @staticmethod
    def _after(previous: Future | None, fn, *args) -> None:
        # The previous task of a lane was submitted first, so it is running or done:
        # waiting for it cannot hold up the pool.
        if previous is not None:
            previous.result()
        fn(*args)

    def _reap(self) -> None:
        """Forget the tasks finished at the front of the queue; a failure is raised here,
        on the caller's thread. Only the front is looked at: with thousands of
        partitions queued, scanning them all at every hand-over would be quadratic."""
        while self._pending and self._pending[0].done():
            self._pending.popleft().result()

    def _in_flight(self) -> bool:
        self._reap()
        return bool(self._pending)

    def _drain(self) -> None:
        while self._pending:
            self._pending.popleft().result()

    def _write(self, key: int, table: pa.Table, batches: list[_Batch]) -> None:
        """Write rows to a partition's files, on its lane: a file that fills is closed and
        the rest goes on in the next."""
        try:
            self._write_rows(key, table)
        finally:
            with self._written:
                for batch in batches:
                    batch.pending -= 1
                    if batch.pending == 0:
                        self.buffered_bytes -= batch.nbytes
                self._written.notify_all()

    def _write_rows(self, key: int, table: pa.Table) -> None:
        f = self.open_files.get(key)
        if f is not None and f.schema != table.schema:
            # The table gained a column since this file was opened: a Parquet file has
            # one schema, so start a new file.
            self._close(key)
        while table is not None and table.num_rows:
            f = self.open_files.get(key) or self._open(key, table.schema)
            room = self.target_file_size - f.bytes_written
            estimate = table.nbytes / self.expansion
            part, table = table, None
            if estimate > room * 1.05 and part.num_rows > 1:
                # More than the file has room for: fill this file, the rest starts the next.
                fit = max(1, int(part.num_rows * room / estimate))
                part, table = part.slice(0, fit), part.slice(fit)
            before = f.sink.tell()
            f.writer.write_table(part, row_group_size=max(part.num_rows, 1))
            f.bytes_written = f.sink.tell()
            written = f.bytes_written - before
            if written > 0 and part.nbytes > 0:
                # Lanes share one estimate; a lost update between two of them is harmless.
                self.expansion = 0.7 * self.expansion + 0.3 * (part.nbytes / written)
            if f.bytes_written >= self.target_file_size * 0.95 or table is not None:
                self._close(key)

    def _close_lane(self, key: int) -> None:
        if key in self.open_files:
            self._close(key)

    def _close(self, key: int) -> None:
        f = self.open_files.pop(key)
        f.writer.close()
        f.sink.close()
        values, _ = self._partition_path(key)
        written = f.local_path or f.staging_uri
        with (pa.OSFile(written) if f.local_path else self.storage.open_random_access(written)) as src:
            size = src.size()
            meta = pq.read_metadata(src)
        if f.local_path:
            self.storage.move(f.local_path, f.staging_uri)  # upload, size-checked
        staged = StagedFile(f.staging_uri, f.final_uri, values, stats_from_metadata(f.final_uri, size, meta, values))
        with self._lock:
            self.staged.append(staged)

    def close(self) -> list[StagedFile]:
        """Write every buffer and close every file; returns the staged files."""
        for key in list(self.buffers):
            self._flush(key)
        for key in list(self._lanes_open):
            self._submit(key, self._close_lane, key)
        try:
            self._drain()
        finally:
            self._encoders.shutdown(wait=True)
        self._remove_spool()
        # Lanes finish in any order; the list is in file-name order, the same every run.
        self.staged.sort(key=lambda s: s.final_uri)
        return self.staged

    def _remove_spool(self) -> None:
        if self.spool:
            shutil.rmtree(self.spool, ignore_errors=True)

    def abort(self) -> None:
        self._encoders.shutdown(wait=True, cancel_futures=True)
        for f in self.open_files.values():
            try:
                f.writer.close()
                f.sink.close()
            except Exception:  # noqa: BLE001 - best effort; staging is removed anyway
                pass
        self.open_files.clear()
        self.buffers.clear()
        self._remove_spool()


def near_unique_columns(table: pa.Table, sample: int = 20_000) -> set[str]:
    """Columns more than half of whose values differ, judged on the first rows."""
    head = table.slice(0, sample)
    out = set()
    for name in head.column_names:
        col = head.column(name)
        if pa.types.is_nested(col.type):
            continue  # no distinct count for lists and structs; Parquet decides per leaf
        valid = len(col) - col.null_count
        if valid >= 1000 and pc.count_distinct(col).as_py() > valid // 2:
            out.add(name)
    return out
