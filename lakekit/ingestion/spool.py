"""The stream spool: records read from stdin and not committed yet, kept in the warehouse.

Each ``lakekit ingest -`` run is a *stream* with a folder of its own::

    <warehouse>/_lakekit/spool/<db>/<table>/<stream-id>/
        stream.json              format (jsonl or csv) and, for CSV, the header line
        lock                     held (flock) while the stream runs, on a local warehouse
        heartbeat.json           rewritten every few seconds, on an s3:// warehouse
        <seq>/meta.json          the segment: where it starts, its identity once sealed
        <seq>/part-<n>.<fmt>     its records, as they arrived

A segment is one batch: records are appended to it as they arrive (locally, written
to the file at once; on S3, one object within half a second), and it is *sealed* when the batch
is cut (``--buffer-size`` / ``--buffer-interval``). Its identity, the hash the ingest
commit records, is ``sha256(identity of the segment before it + its bytes)``: a chain,
so two batches of identical records are still two batches, while an input that fits
in one batch is identified by its plain sha256 (a repeat of it is skipped, as for any
source). A stream that dies leaves its folder behind; the next stream into the table
takes it over (its lock free, or its heartbeat stale) and commits its segments first,
each exactly once: a segment that was committed but not yet removed is recognised by
its identity and skipped.
"""

from __future__ import annotations

import collections
import contextlib
import fcntl
import hashlib
import json
import os
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from lakekit import paths
from lakekit.errors import LakekitError
from lakekit.storage import Storage

#: spooled bytes are handed to the OS at once locally; on S3 they are put once the
#: oldest of them has waited this long. The stream ticks every 0.2 s and a PUT takes
#: its own time, so half a second keeps every record on S3 within a second of its
#: arrival (what a kill may lose), at two PUTs a second at most.
FLUSH_AFTER_S = 0.5
#: an s3:// stream rewrites its heartbeat this often, and is taken as dead when its
#: heartbeat is older than STALE_AFTER_S (a local one is alive while it holds its lock)
HEARTBEAT_EVERY_S = 10.0
STALE_AFTER_S = 120.0


def _now_id() -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + uuid.uuid4().hex[:8]


@dataclass
class Segment:
    """One batch of spooled records."""

    stream_id: str
    seq: int
    folder: str
    fmt: str
    #: the identity of the segment before it in the stream ("" for the first)
    previous: str
    #: bytes at the start of the data that did not arrive in it (a CSV header repeated)
    prefix_bytes: int
    #: stream line number of its first record line
    first_line: int
    #: when its first record arrived (epoch seconds)
    arrived: float
    identity: str | None = None
    nbytes: int = 0
    records: int = 0
    delimiter: str | None = None

    def meta(self) -> dict:
        return {"seq": self.seq, "previous": self.previous, "prefix_bytes": self.prefix_bytes,
                "first_line": self.first_line, "arrived": self.arrived, "identity": self.identity,
                "bytes": self.nbytes, "records": self.records}

    @property
    def line_offset(self) -> int:
        """Lines to add to a line number in the segment's data to get the stream's."""
        return self.first_line - 1 - (1 if self.prefix_bytes else 0)


def _hasher(previous: str):
    h = hashlib.sha256()
    if previous:
        h.update(bytes.fromhex(previous.split(":", 1)[-1]))
    return h


class Spool:
    """The spool of the stream this process runs. ``append`` is called by the thread
    reading the input, ``seal`` by the one committing; a lock keeps them apart."""

    def __init__(self, storage: Storage, database: str, table: str, fmt: str, *, seed: str = ""):
        self.storage = storage
        self.remote = storage.is_remote
        self.stream_id = _now_id()
        self.fmt = fmt
        self.folder = paths.stream_spool_uri(storage.root, database, table, self.stream_id)
        self.header: bytes = b""  # CSV: repeated at the start of every segment after the first
        self.delimiter: str | None = None
        self._lock = threading.Lock()
        self._seq = 0
        self._previous = seed
        self._lines = 0
        self._current: Segment | None = None
        self._hash = None
        self._fd: int | None = None
        self._pending: list[bytes] = []  # S3: bytes not yet put
        self._parts = 0
        self._pending_since = 0.0  # S3: when the oldest pending bytes arrived
        self._last_heartbeat = 0.0
        self._lock_fd: int | None = None
        self._sealed: collections.deque[Segment] = collections.deque()
        self._create()

    # -- the stream's folder -------------------------------------------------------------
    def _create(self) -> None:
        info = {"stream_id": self.stream_id, "format": self.fmt, "host": socket.gethostname(),
                "pid": os.getpid(), "started": time.time()}
        if self.remote:
            self.storage.write_bytes(paths.join(self.folder, "stream.json"), json.dumps(info).encode())
            self._heartbeat(force=True)
            return
        # Made under a hidden name and renamed once locked, so no other stream can take
        # a folder for abandoned in the moment between its creation and its lock.
        parent = os.path.dirname(self.folder)
        os.makedirs(parent, exist_ok=True)
        making = os.path.join(parent, "." + self.stream_id)
        os.makedirs(making)
        self._lock_fd = os.open(os.path.join(making, "lock"), os.O_CREAT | os.O_RDWR, 0o644)
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        _write_local_json(os.path.join(making, "stream.json"), info)
        os.rename(making, self.folder)

    def set_format(self, fmt: str, header: bytes = b"", delimiter: str | None = None) -> None:
        """The format the reader detected (and a CSV's header line and delimiter)."""
        self.fmt, self.header, self.delimiter = fmt, header, delimiter
        info = {"stream_id": self.stream_id, "format": fmt, "header": header.decode("utf-8", "surrogateescape"),
                "delimiter": delimiter}
        if self.remote:
            self.storage.write_bytes(paths.join(self.folder, "stream.json"), json.dumps(info).encode())
        else:
            _write_local_json(os.path.join(self.folder, "stream.json"), info)

    def _heartbeat(self, force: bool = False) -> None:
        now = time.time()
        if self.remote and (force or now - self._last_heartbeat >= HEARTBEAT_EVERY_S):
            beat = {"host": socket.gethostname(), "pid": os.getpid(), "at": now}
            self.storage.write_bytes(paths.join(self.folder, "heartbeat.json"), json.dumps(beat).encode())
            self._last_heartbeat = now

    # -- appending (the reading thread) ----------------------------------------------------
    def append(self, data: bytes, now: float) -> None:
        """Spool whole records as they arrive."""
        if not data:
            return
        with self._lock:
            seg = self._current or self._open(now)
            self._hash.update(data)
            self._write(data)
            lines = data.count(b"\n")
            seg.nbytes += len(data)
            seg.records += lines + (0 if data.endswith(b"\n") else 1)
            self._lines += lines

    def tick(self) -> None:
        """Called about every 0.2 s: S3 spools what has waited FLUSH_AFTER_S."""
        with self._lock:
            if self.remote and self._pending and time.monotonic() - self._pending_since >= FLUSH_AFTER_S:
                self._flush()
            self._heartbeat()

    def _open(self, now: float) -> Segment:
        self._seq += 1
        prefix = self.header if self._seq > 1 and self.header else b""
        seg = Segment(self.stream_id, self._seq, paths.join(self.folder, f"{self._seq:08d}"), self.fmt,
                      self._previous, len(prefix), self._lines + 1, now, delimiter=self.delimiter)
        self._hash = _hasher(self._previous)
        self._parts = 0
        if self.remote:
            self.storage.write_bytes(paths.join(seg.folder, "meta.json"), json.dumps(seg.meta()).encode())
        else:
            os.makedirs(seg.folder)
            _write_local_json(os.path.join(seg.folder, "meta.json"), seg.meta())
            self._fd = os.open(os.path.join(seg.folder, f"part-000000.{self.fmt}"),
                               os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o644)
        self._current = seg
        if prefix:
            self._write(prefix)
        return seg

    def _write(self, data: bytes) -> None:
        if self.remote:
            if not self._pending:
                self._pending_since = time.monotonic()
            self._pending.append(data)
            return
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view):]

    def _flush(self) -> None:
        if self._pending and self._current is not None:
            body = b"".join(self._pending)
            self.storage.write_bytes(paths.join(self._current.folder, f"part-{self._parts:06d}.{self.fmt}"), body)
            self._parts += 1
            self._pending = []

    # -- cutting batches (the committing thread) -------------------------------------------
    def current(self) -> tuple[int, float | None]:
        """(bytes, arrival of the first record) of the segment being filled."""
        with self._lock:
            seg = self._current
            return (seg.nbytes, seg.arrived) if seg else (0, None)

    def next_sealed(self) -> Segment | None:
        """The oldest sealed segment not handed out yet."""
        with self._lock:
            return self._sealed.popleft() if self._sealed else None

    def seal(self) -> Segment | None:
        """Close the segment being filled (None when nothing arrived since the last); it
        joins the queue :meth:`next_sealed` hands out."""
        with self._lock:
            seg = self._current
            if seg is None:
                return None
            if self.remote:
                self._flush()
            elif self._fd is not None:
                os.fsync(self._fd)
                os.close(self._fd)
                self._fd = None
            seg.identity = "sha256:" + self._hash.hexdigest()
            self._write_meta(seg)
            self._previous, self._current = seg.identity, None
            self._sealed.append(seg)
            return seg

    def _write_meta(self, seg: Segment) -> None:
        if self.remote:
            self.storage.write_bytes(paths.join(seg.folder, "meta.json"), json.dumps(seg.meta()).encode())
        else:
            _write_local_json(os.path.join(seg.folder, "meta.json"), seg.meta())

    def remove(self, seg: Segment) -> None:
        """A committed segment leaves the spool."""
        self.storage.delete_dir(seg.folder)

    def close(self) -> None:
        """Stop being the stream: the folder goes when empty, the lock is let go."""
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
            folders = (list(_segment_folders_remote(self.storage, self.folder)) if self.remote
                       else _segment_folders_local(self.folder))
            if self._current is None and not folders:
                with contextlib.suppress(LakekitError, OSError):
                    self.storage.delete_dir(self.folder)
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None


# -- taking over the spool of a stream that died ---------------------------------------------
class DeadStream:
    """A dead stream's folder, taken over (its lock held) until :meth:`release`."""

    def __init__(self, storage: Storage, folder: str, lock_fd: int | None):
        self.storage, self.folder, self._lock_fd = storage, folder, lock_fd
        self.stream_id = os.path.basename(folder.rstrip("/"))
        info = _read_json(storage, paths.join(folder, "stream.json")) or {}
        self.fmt = info.get("format") or "jsonl"
        self.delimiter = info.get("delimiter")

    def segments(self) -> list[Segment]:
        """Its segments in order, each sealed (the one a crash left open is sealed now)."""
        out = []
        folders = (_segment_folders_remote(self.storage, self.folder) if self.storage.is_remote
                   else _segment_folders_local(self.folder))
        for folder in sorted(folders):
            meta = _read_json(self.storage, paths.join(folder, "meta.json"))
            if meta is None:  # killed before its first record was written
                self.storage.delete_dir(folder)
                continue
            seg = Segment(self.stream_id, int(meta["seq"]), folder, self.fmt, meta.get("previous") or "",
                          int(meta.get("prefix_bytes") or 0), int(meta.get("first_line") or 1),
                          float(meta.get("arrived") or time.time()), meta.get("identity"),
                          int(meta.get("bytes") or 0), int(meta.get("records") or 0), self.delimiter)
            if seg.identity is None:
                self._seal(seg)
            out.append(seg)
        return out

    def _seal(self, seg: Segment) -> None:
        h = _hasher(seg.previous)
        skip, total, lines = seg.prefix_bytes, 0, 0
        for chunk in segment_chunks(self.storage, seg):
            if skip:
                cut = min(skip, len(chunk))
                chunk, skip = chunk[cut:], skip - cut
            h.update(chunk)
            total += len(chunk)
            lines += chunk.count(b"\n")
        seg.identity, seg.nbytes, seg.records = "sha256:" + h.hexdigest(), total, lines
        meta = seg.meta()
        if self.storage.is_remote:
            self.storage.write_bytes(paths.join(seg.folder, "meta.json"), json.dumps(meta).encode())
        else:
            _write_local_json(os.path.join(seg.folder, "meta.json"), meta)

    def remove(self, seg: Segment) -> None:
        self.storage.delete_dir(seg.folder)

    def release(self, *, remove: bool) -> None:
        if remove:
            self.storage.delete_dir(self.folder)
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None


def dead_streams(storage: Storage, database: str, table: str) -> Iterator[DeadStream]:
    """The table's streams whose process is gone, each taken over as it is yielded."""
    root = paths.stream_spool_uri(storage.root, database, table)
    for entry in sorted(storage.list_dirs(root)):
        folder = entry.rstrip("/")
        if os.path.basename(folder).startswith("."):
            continue  # a stream being created
        if storage.is_remote:
            if _remote_alive(storage, folder):
                continue
            yield DeadStream(storage, folder, None)
            continue
        lock_path = os.path.join(folder, "lock")
        try:
            fd = os.open(lock_path, os.O_RDWR)
        except FileNotFoundError:
            continue  # removed meanwhile
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue  # its stream is running
        if not os.path.isdir(folder):
            os.close(fd)
            continue
        yield DeadStream(storage, folder, fd)


def _remote_alive(storage: Storage, folder: str) -> bool:
    beat = _read_json(storage, paths.join(folder, "heartbeat.json"))
    if not beat:
        info = _read_json(storage, paths.join(folder, "stream.json")) or {}
        return time.time() - float(info.get("started") or 0) < STALE_AFTER_S
    if beat.get("host") == socket.gethostname():
        # On this machine the process itself can be asked: a restart takes over at once.
        try:
            os.kill(int(beat["pid"]), 0)
        except (ProcessLookupError, ValueError, KeyError):
            return False
        except PermissionError:
            return True
        return True
    return time.time() - float(beat.get("at") or 0) < STALE_AFTER_S


def segment_chunks(storage: Storage, seg: Segment, chunk_size: int = 4 << 20) -> Iterator[bytes]:
    """A segment's bytes in order (parts concatenated)."""
    parts = sorted(e.uri for e in storage.list_files(seg.folder, recursive=False)
                   if os.path.basename(e.uri).startswith("part-"))
    for part in parts:
        with storage.open_input(part) as f:
            while chunk := f.read(chunk_size):
                yield chunk


@contextlib.contextmanager
def segment_file(storage: Storage, seg: Segment) -> Iterator[str]:
    """A local file holding the segment's bytes, for the ingest to read."""
    if not storage.is_remote:
        parts = sorted(os.path.join(seg.folder, n) for n in os.listdir(seg.folder) if n.startswith("part-"))
        if len(parts) == 1:
            yield parts[0]
            return
    fd, path = tempfile.mkstemp(prefix=paths.SPOOL_PREFIX, suffix="." + seg.fmt)
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in segment_chunks(storage, seg):
                out.write(chunk)
        yield path
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


def _segment_folders_local(folder: str) -> list[str]:
    try:
        return [os.path.join(folder, n) for n in os.listdir(folder) if n.isdigit()]
    except FileNotFoundError:
        return []


def _segment_folders_remote(storage: Storage, folder: str) -> Iterator[str]:
    for entry in storage.list_dirs(folder):
        uri = entry.rstrip("/")
        if os.path.basename(uri).isdigit():
            yield uri


def _write_local_json(path: str, doc: dict) -> None:
    """Replace a small JSON file atomically (a kill leaves the old or the new one)."""
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(doc, f)
    os.replace(tmp, path)


def _read_json(storage: Storage, uri: str) -> dict | None:
    try:
        return json.loads(storage.read_bytes(uri))
    except (LakekitError, FileNotFoundError, ValueError):
        return None
