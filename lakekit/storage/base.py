"""The storage protocol: what lakekit needs of a place that holds files.

Paths handed around inside lakekit are *URIs*: absolute local paths or
``s3://bucket/key``. A :class:`Backend` serves one kind of URI (:mod:`.local`,
:mod:`.s3`); :class:`lakekit.storage.Storage` picks the backend per URI, so a
warehouse of either kind also reads and writes URIs of the other kind (a local
source file into an ``s3://`` warehouse, an ``s3://`` source into a local one).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO, Protocol

import pyarrow as pa
import pyarrow.fs as pafs


@dataclass(frozen=True)
class FileEntry:
    uri: str
    size: int
    mtime_ns: int | None = None


class Backend(Protocol):
    """Files of one kind of URI. Failures raise :class:`~lakekit.errors.StorageError`."""

    #: whether moves are slow round trips worth running several at a time
    parallel_moves: bool
    #: whether a file being written is better spooled locally and uploaded whole (S3:
    #: an open multipart upload holds a part in memory)
    spools_writes: bool

    def filesystem(self) -> pafs.FileSystem: ...

    def path(self, uri: str) -> str:
        """The path pyarrow's filesystem wants for ``uri``."""

    def uri(self, path: str) -> str:
        """The URI of a path pyarrow's filesystem returned."""

    def open_input(self, uri: str, *, decompress: bool = False) -> pa.NativeFile: ...

    def open_random_access(self, uri: str) -> pa.NativeFile: ...

    def info(self, uri: str) -> pafs.FileInfo: ...

    def etag(self, uri: str) -> str | None: ...

    def list_files(self, prefix: str, recursive: bool = True) -> Iterator[FileEntry]: ...

    def list_dirs(self, prefix: str) -> list[str]: ...

    def read_tail(self, uri: str, nbytes: int) -> tuple[bytes, int]: ...

    def open_output(self, uri: str) -> BinaryIO: ...

    def write_bytes(self, uri: str, data: bytes) -> None: ...

    def copy(self, src: str, dst: str) -> None:
        """Copy within this backend."""

    def link(self, src: str, dst: str) -> None:
        """``dst`` holds ``src``'s bytes (a hard link, or a server-side copy); ``src`` stays."""

    def create_exclusive(self, uri: str, data: bytes) -> bool:
        """Create ``uri`` whole only if it does not exist; False when it does."""

    def read_tagged(self, uri: str) -> tuple[bytes, str] | None: ...

    def delete_if_unchanged(self, uri: str, tag: str) -> bool: ...

    def move(self, src: str, dst: str) -> None:
        """Move within this backend: the destination appears whole or not at all."""

    def delete(self, uri: str, missing_ok: bool = True) -> None: ...

    def delete_many(self, uris: list[str]) -> None: ...

    def delete_dir(self, uri: str) -> None: ...

    def prune_empty_dirs(self, uri: str, stop: str) -> None: ...

    def normalize(self, uri: str) -> str: ...
