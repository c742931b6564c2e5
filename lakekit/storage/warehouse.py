"""The warehouse's storage: one object for local folders and ``s3://`` prefixes alike.

:class:`Storage` is rooted at the warehouse and picks a backend per URI
(:class:`~lakekit.storage.local.LocalBackend` or
:class:`~lakekit.storage.s3.S3Backend`), so nothing above it asks which kind of URI
it holds. Copies and moves between the two kinds go through pyarrow.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.fs as pafs

from lakekit.errors import StorageError, UsageError
from lakekit.paths import is_s3, join, split_s3
from lakekit.storage.base import Backend, FileEntry
from lakekit.storage.local import LocalBackend
from lakekit.storage.s3 import S3Backend

if TYPE_CHECKING:  # pragma: no cover
    import boto3

#: concurrent moves when a backend's moves are slow round trips (S3)
MOVE_CONCURRENCY = 16


class Storage:
    """Files under one root URI (the warehouse), local or on S3.

    >>> import tempfile
    >>> st = Storage(tempfile.mkdtemp())
    >>> st.write_bytes(st.uri("a", "b.txt"), b"hi")
    >>> [e.size for e in st.list_files(st.uri("a"))]
    [2]
    """

    def __init__(self, root: str, boto3_session: boto3.Session | None = None):
        self._local = LocalBackend()
        self._s3 = S3Backend(boto3_session)
        if is_s3(root):
            bucket, _ = split_s3(root)
            if not bucket:
                raise UsageError(f"warehouse {root!r} names no bucket; write it like s3://bucket/prefix")
            self.root = root.rstrip("/")
        else:
            if "://" in root:
                raise UsageError(f"warehouse {root!r}: only local paths and s3:// URIs are supported")
            self.root = os.path.abspath(root)
        #: the root's own backend
        self.backend: Backend = self.backend_for(self.root)

    def backend_for(self, uri: str) -> Backend:
        return self._s3 if is_s3(uri) else self._local

    @property
    def is_remote(self) -> bool:
        """True when the root is on S3 (no local process can be checked for liveness there)."""
        return self.backend is self._s3

    def s3_client(self) -> Any:
        """The boto3 S3 client this storage uses for copies and checks."""
        return self._s3.client()

    def filesystem(self, uri: str) -> tuple[pafs.FileSystem, str]:
        """pyarrow's filesystem for ``uri`` and the path it wants."""
        backend = self.backend_for(uri)
        return backend.filesystem(), backend.path(uri)

    # -- paths -------------------------------------------------------------------------
    def uri(self, *parts: str) -> str:
        return join(self.root, *parts)

    def is_under(self, uri: str, base: str) -> bool:
        """True when ``uri`` is ``base`` itself or lies inside it (after normalising)."""
        norm = self.backend_for(base).normalize
        u, b = norm(uri), norm(base)
        return u == b or u.startswith(b.rstrip("/") + "/")

    # -- reading -----------------------------------------------------------------------
    def open_input(self, uri: str, *, decompress: bool = False) -> pa.NativeFile:
        """Open for streaming reads; ``decompress`` detects .gz/.bz2/.zst by extension."""
        return self.backend_for(uri).open_input(uri, decompress=decompress)

    def open_random_access(self, uri: str) -> pa.NativeFile:
        return self.backend_for(uri).open_random_access(uri)

    def exists(self, uri: str) -> bool:
        return self.backend_for(uri).info(uri).type != pafs.FileType.NotFound

    def is_dir(self, uri: str) -> bool:
        return self.backend_for(uri).info(uri).type == pafs.FileType.Directory

    def size(self, uri: str) -> int:
        info = self.backend_for(uri).info(uri)
        if info.type == pafs.FileType.NotFound:
            raise StorageError(f"{uri} does not exist")
        return info.size

    def etag(self, uri: str) -> str | None:
        """A content fingerprint the storage keeps for free (S3's ETag); None locally."""
        return self.backend_for(uri).etag(uri)

    def list_files(self, prefix: str, recursive: bool = True) -> Iterator[FileEntry]:
        """Files under ``prefix`` (none when it does not exist), in no set order."""
        return self.backend_for(prefix).list_files(prefix, recursive)

    def list_dirs(self, prefix: str) -> list[str]:
        return self.backend_for(prefix).list_dirs(prefix)

    def read_tail(self, uri: str, nbytes: int) -> tuple[bytes, int]:
        """The last ``nbytes`` of a file (all of it when shorter) and the file's size:
        what a Parquet footer read needs."""
        return self.backend_for(uri).read_tail(uri, nbytes)

    def read_bytes(self, uri: str) -> bytes:
        with self.open_input(uri) as f:
            return f.read()

    # -- writing -----------------------------------------------------------------------
    def open_output(self, uri: str):
        """A writable stream; on S3 a multipart upload when big, size-checked when closed."""
        return self.backend_for(uri).open_output(uri)

    def write_bytes(self, uri: str, data: bytes) -> None:
        self.backend_for(uri).write_bytes(uri, data)

    def copy(self, src: str, dst: str) -> None:
        """Copy a file; within one backend its own way (server-side on S3)."""
        source, target = self.backend_for(src), self.backend_for(dst)
        if source is target:
            source.copy(src, dst)
            return
        try:
            if target is self._local:
                self._local.filesystem().create_dir(os.path.dirname(dst), recursive=True)
            pafs.copy_files(source.path(src), target.path(dst), source.filesystem(), target.filesystem())
        except (OSError, pa.ArrowException) as ex:
            raise StorageError(f"cannot copy {src} to {dst}: {ex}") from ex

    def link(self, src: str, dst: str) -> None:
        """Make ``dst`` hold ``src``'s bytes without moving ``src``: a hard link locally
        (no bytes copied), a server-side copy on S3. ``dst`` appears whole."""
        source, target = self.backend_for(src), self.backend_for(dst)
        if source is target:
            source.link(src, dst)
        else:
            self.copy(src, dst)

    def link_many(self, pairs: list[tuple[str, str]], concurrency: int = MOVE_CONCURRENCY) -> None:
        """:meth:`link` each ``(src, dst)``; on S3 several at a time."""
        self._each(self.link, pairs, concurrency)

    def create_exclusive(self, uri: str, data: bytes) -> bool:
        """Create ``uri`` with ``data`` only if it does not exist; False when it does.
        Of several writers racing to create one name, exactly one succeeds."""
        return self.backend_for(uri).create_exclusive(uri, data)

    def read_tagged(self, uri: str) -> tuple[bytes, str] | None:
        """``(bytes, tag)`` of a small file, the tag naming this version of it (S3's
        ETag); None when it does not exist."""
        return self.backend_for(uri).read_tagged(uri)

    def delete_if_unchanged(self, uri: str, tag: str) -> bool:
        """Delete ``uri`` only if it is still the version ``tag`` names."""
        return self.backend_for(uri).delete_if_unchanged(uri, tag)

    def move(self, src: str, dst: str) -> None:
        """Move a file into place: an atomic rename locally, copy-check-delete on S3.

        On S3 the destination appears whole (a completed copy is one object) and the
        source is deleted only after the copy's size has been checked, so a failure at
        any point leaves a complete file in one place or the other, never a fragment.
        """
        source, target = self.backend_for(src), self.backend_for(dst)
        if source is target:
            source.move(src, dst)
            return
        self.copy(src, dst)
        self.delete(src)

    def move_many(self, pairs: list[tuple[str, str]], concurrency: int = MOVE_CONCURRENCY) -> None:
        """:meth:`move` each ``(src, dst)``; on S3 several at a time (each move is a few
        round trips that would otherwise wait on one another)."""
        self._each(self.move, pairs, concurrency)

    def _each(self, fn, pairs: list[tuple[str, str]], concurrency: int) -> None:
        if not pairs:
            return
        slow = any(self.backend_for(s).parallel_moves or self.backend_for(d).parallel_moves for s, d in pairs)
        if not slow or len(pairs) == 1:
            for src, dst in pairs:
                fn(src, dst)
            return
        with ThreadPoolExecutor(max_workers=min(concurrency, len(pairs))) as pool:
            for future in [pool.submit(fn, s, d) for s, d in pairs]:
                future.result()

    def delete(self, uri: str, missing_ok: bool = True) -> None:
        self.backend_for(uri).delete(uri, missing_ok)

    def delete_many(self, uris: list[str]) -> None:
        """Delete files; S3 keys go 1,000 to a request."""
        local = [u for u in uris if self.backend_for(u) is self._local]
        remote = [u for u in uris if self.backend_for(u) is self._s3]
        self._local.delete_many(local)
        if remote:
            self._s3.delete_many(remote)

    def delete_dir(self, uri: str) -> None:
        self.backend_for(uri).delete_dir(uri)

    def prune_empty_dirs(self, uri: str, stop: str) -> None:
        """Remove ``uri`` and its parents while empty, never going above ``stop``."""
        self.backend_for(uri).prune_empty_dirs(uri, stop)
