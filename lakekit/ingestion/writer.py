"""Partitioned Parquet writing under a memory budget.

Rows are buffered per partition and written out as row groups. A partition's buffer
becomes a row group when it reaches the row-group size. When all buffers together pass
the memory budget, the largest are written first, and the buffers too small to make a
row group worth reading are *spilled*: appended, as Arrow IPC, to one local spill file
and read back when their partition has gathered enough rows or the ingest ends. So
memory stays bounded however many partitions the input touches, and a partition that
receives a few rows from every block still ends in one file of full row groups rather
than many files of tiny ones. A file is closed when it reaches the target file size.
Files are written under a staging prefix and only moved into the table at commit.

Encoding a row group (dictionary, statistics, zstd) is the costliest step after
parsing, and pyarrow does it without the GIL, so it runs on encoder threads: each
partition is a *lane* whose writes run one after another, in order, while different
partitions encode side by side. The caller only cuts buffers and hands them over; the
memory budget counts rows until their lane has written them.
"""

from __future__ import annotations

import collections
import contextlib
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
from lakekit.paths import SPILL_FOLDER, SPOOL_PREFIX, join, partition_path
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
    #: (sorted batch, first row, rows) of each run of this partition's rows. Kept as
    #: positions, not slices: a slice is a native table of its own, about 4 KB for ten
    #: columns outside Arrow's memory pool and the budget, and a few rows of each block
    #: waiting in thousands of partitions made those slices most of the process's memory.
    runs: list[tuple[pa.Table, int, int]] = field(default_factory=list)
    batches: list[_Batch] = field(default_factory=list)
    #: Arrow bytes, estimated from each slice's share of its batch's rows: a slice's own
    #: ``nbytes`` costs tens of microseconds, and thousands of slices are cut per block
    nbytes: int = 0


@dataclass
class _Spilled:
    """A partition's rows in the spill file: the (offset, length) of each IPC stream, oldest first."""

    runs: list[tuple[int, int]] = field(default_factory=list)
    nbytes: int = 0  # estimated Arrow bytes once read back


#: Arrow bytes under which a partition's buffer is spilled rather than written as a row
#: group when memory runs short (about 64 KiB of Parquet at the usual 4x expansion).
SPILL_BELOW = 256 << 10


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
        self.spill_below = SPILL_BELOW
        self.spilled: dict[int, _Spilled] = {}
        self.spilled_bytes = 0  # bytes appended to the spill file (for the report and tests)
        self._spill_path: str | None = None
        self._spill_out: pa.NativeFile | None = None
        self._spill_fd: int | None = None

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
        rows = split.table.num_rows
        for key, start, length in split.runs:
            self._append(key, (split.table, start, length), batch, batch.nbytes * length // rows)
        if self.buffered_bytes > self.memory_budget:
            self._relieve_memory()

    def _append(self, key: int, run: tuple[pa.Table, int, int], batch: _Batch, nbytes: int) -> None:
        buf = self.buffers.setdefault(key, _Buffer())
        buf.runs.append(run)
        buf.batches.append(batch)
        buf.nbytes += nbytes
        open_file = self.open_files.get(key)
        room = self.target_file_size - (open_file.bytes_written if open_file else 0)
        if self._gathered(key) / self.expansion >= min(self.row_group_bytes, max(room, 64 << 10)):
            self._flush(key)

    def _gathered(self, key: int) -> int:
        """The Arrow bytes a partition holds, in memory and spilled."""
        buf, spilled = self.buffers.get(key), self.spilled.get(key)
        return (buf.nbytes if buf else 0) + (spilled.nbytes if spilled else 0)

    def _relieve_memory(self) -> None:
        """Hand the largest buffers to their lanes until the rows not yet handed over are
        under half the budget, spill the buffers too small for a row group of their own,
        then wait while rows held (handed over or not) are over the budget.

        Spilling the small ones matters most: each sorted batch is held until the last
        of its slices is gone, so a few rows of every block waiting in thousands of
        partitions would otherwise hold every block in memory."""
        waiting = sum(b.nbytes for b in self.buffers.values())
        small = []
        for key in sorted(self.buffers, key=lambda k: self.buffers[k].nbytes, reverse=True):
            if self._gathered(key) < self.spill_below:
                small.append(key)
            elif waiting > self.memory_budget // 2:
                waiting -= self.buffers[key].nbytes
                self._flush(key)
        if small:
            self._spill(small)
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

    # -- spilling ------------------------------------------------------------------------
    def _spill(self, keys: list[int]) -> None:
        """Append the buffers of ``keys`` to the spill file and let their batches go."""
        out = self._spill_output()
        released: list[_Batch] = []
        for key in keys:
            buf = self.buffers.pop(key)
            table = _concat(_slices(buf.runs))
            start = out.tell()
            with pa.ipc.new_stream(out, table.schema) as stream:  # closes the stream, not the file
                stream.write_table(table)
            spilled = self.spilled.setdefault(key, _Spilled())
            spilled.runs.append((start, out.tell() - start))
            spilled.nbytes += buf.nbytes
            released.extend(buf.batches)
        self.spilled_bytes = out.tell()
        self._release(released)

    def _spill_output(self) -> pa.NativeFile:
        """The spill file, created on first use. For a local warehouse it sits in the
        commit's own staging folder (a hidden ``_spill`` folder, removed before the
        commit; a killed ingest's staging folder is removed by the next writer's
        recovery); for S3, in the local spool."""
        if self._spill_out is None:
            if self.spool:
                folder = self.spool
            else:
                folder = os.path.join(self.storage.backend_for(self.staging_root).path(self.staging_root), SPILL_FOLDER)
                os.makedirs(folder, exist_ok=True)
            self._spill_path = os.path.join(folder, f"spill-{self.ingest_id}.arrows")
            self._spill_out = pa.OSFile(self._spill_path, "wb")  # unbuffered: readers see each write
            self._spill_fd = os.open(self._spill_path, os.O_RDONLY)
        return self._spill_out

    def _read_spilled(self, spilled: _Spilled) -> list[pa.Table]:
        """A partition's spilled rows, read back on its lane (``os.pread`` is safe across threads)."""
        return [pa.ipc.open_stream(os.pread(self._spill_fd, length, offset)).read_all()
                for offset, length in spilled.runs]

    def _remove_spill(self) -> None:
        if self._spill_out is not None:
            self._spill_out.close()
            os.close(self._spill_fd)
            self._spill_out = self._spill_fd = None
        if self._spill_path is not None:
            with contextlib.suppress(OSError):
                os.remove(self._spill_path)
                if not self.spool:
                    os.rmdir(os.path.dirname(self._spill_path))
            self._spill_path = None

    def _release(self, batches: list[_Batch]) -> None:
        """Slices of these batches are gone from memory: a batch whose last slice went is freed."""
        with self._written:
            for batch in batches:
                batch.pending -= 1
                if batch.pending == 0:
                    self.buffered_bytes -= batch.nbytes
            self._written.notify_all()

    def _flush(self, key: int) -> None:
        """Hand a partition's rows (spilled and buffered) to its lane, opening a file for
        it if it has none (closing another lane's file first when too many are open)."""
        buf = self.buffers.pop(key, None) or _Buffer()
        spilled = self.spilled.pop(key, None)
        if not buf.runs and spilled is None:
            return
        if key not in self._lanes_open and len(self._lanes_open) >= self.max_open_files:
            # Too many partitions open at once: close the one opened first (its lane
            # finishes its writes before).
            victim = next(iter(self._lanes_open))
            self._submit(victim, self._close_lane, victim)
        self._lanes_open[key] = None
        nbytes = buf.nbytes + (spilled.nbytes if spilled else 0)
        self._submit(key, self._write, key, buf.runs, spilled, nbytes, buf.batches)

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

    def _write(self, key: int, runs: list[tuple[pa.Table, int, int]], spilled: _Spilled | None, nbytes: int,
               batches: list[_Batch]) -> None:
        """Write rows to a partition's files, on its lane, spilled rows first (they came
        first): a file that fills is closed and the rest goes on in the next."""
        try:
            tables = _slices(runs)
            if spilled is not None:
                tables = self._read_spilled(spilled) + tables
            self._write_rows(key, _concat(tables), nbytes)
        finally:
            self._release(batches)

    def _write_rows(self, key: int, table: pa.Table, nbytes: int) -> None:
        f = self.open_files.get(key)
        if f is not None and f.schema != table.schema:
            # The table gained a column since this file was opened: a Parquet file has
            # one schema, so start a new file.
            self._close(key)
        while table is not None and table.num_rows:
            f = self.open_files.get(key) or self._open(key, table.schema)
            room = self.target_file_size - f.bytes_written
            estimate = nbytes / self.expansion
            part, table, part_bytes = table, None, nbytes
            if estimate > room * 1.05 and part.num_rows > 1:
                # More than the file has room for: fill this file, the rest starts the next.
                fit = max(1, int(part.num_rows * room / estimate))
                part_bytes = nbytes * fit // part.num_rows
                nbytes -= part_bytes
                part, table = part.slice(0, fit), part.slice(fit)
            before = f.sink.tell()
            f.writer.write_table(part, row_group_size=max(part.num_rows, 1))
            f.bytes_written = f.sink.tell()
            written = f.bytes_written - before
            if written > 0 and part_bytes > 0:
                # Lanes share one estimate; a lost update between two of them is harmless.
                self.expansion = 0.7 * self.expansion + 0.3 * (part_bytes / written)
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
        for key in list(self.buffers) + list(self.spilled):
            self._flush(key)
        for key in list(self._lanes_open):
            self._submit(key, self._close_lane, key)
        try:
            self._drain()
        finally:
            self._encoders.shutdown(wait=True)
            self._remove_spill()
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
        self.spilled.clear()
        self._remove_spill()
        self._remove_spool()


def _slices(runs: list[tuple[pa.Table, int, int]]) -> list[pa.Table]:
    return [table if rows == table.num_rows else table.slice(start, rows) for table, start, rows in runs]


def _concat(tables: list[pa.Table]) -> pa.Table:
    # promote: a column first seen in a later block is null in the earlier rows
    return tables[0] if len(tables) == 1 else pa.concat_tables(tables, promote_options="default")


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
