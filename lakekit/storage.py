"""The warehouse's storage: local folders or ``s3://`` prefixes behind one small API.

Everything goes through a pyarrow filesystem so the same code writes and lists local
paths and S3 objects. Paths handed around inside lakekit are *URIs*: absolute local
paths or ``s3://bucket/key``.
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator

import pyarrow as pa
import pyarrow.fs as pafs

from lakekit.errors import StorageError, UsageError

if TYPE_CHECKING:  # pragma: no cover
    import boto3


@dataclass(frozen=True)
class FileEntry:
    uri: str
    size: int
    mtime_ns: int | None = None


def is_s3(uri: str) -> bool:
    return uri.startswith("s3://")


def join(base: str, *parts: str) -> str:
    """Join URI parts with '/', whatever the OS: ``join('s3://b/p', 'db', 't')``."""
    if is_s3(base):
        return posixpath.join(base, *parts)
    return os.path.join(base, *parts)


def s3_filesystem(boto3_session: "boto3.Session | None" = None) -> pafs.S3FileSystem:
    """A pyarrow S3 filesystem configured from boto3's own settings.

    pyarrow does not read ``AWS_ENDPOINT_URL``; boto3 does. Taking endpoint, region and
    credentials from a boto3 client keeps one source of truth, so tests against a
    local moto server and real AWS take the same path.
    """
    import boto3

    session = boto3_session or boto3.Session()
    client = session.client("s3")
    endpoint = client.meta.endpoint_url
    kwargs: dict = {"region": client.meta.region_name or "us-east-1"}
    if endpoint and not endpoint.startswith("https://s3.") and "amazonaws.com" not in endpoint:
        scheme, _, rest = endpoint.partition("://")
        kwargs.update(endpoint_override=rest, scheme=scheme)
    creds = session.get_credentials()
    if creds is not None:
        frozen = creds.get_frozen_credentials()
        kwargs.update(access_key=frozen.access_key, secret_key=frozen.secret_key, session_token=frozen.token)
    return pafs.S3FileSystem(**kwargs)


class Storage:
    """Files under one root URI (the warehouse), local or on S3.

    >>> import tempfile
    >>> st = Storage(tempfile.mkdtemp())
    >>> st.write_bytes(st.uri("a", "b.txt"), b"hi")
    >>> [e.size for e in st.list_files(st.uri("a"))]
    [2]
    """

    def __init__(self, root: str, boto3_session: "boto3.Session | None" = None):
        if is_s3(root):
            self.fs: pafs.FileSystem = s3_filesystem(boto3_session)
            self.root = root.rstrip("/")
        else:
            if "://" in root:
                raise UsageError(f"warehouse {root!r}: only local paths and s3:// URIs are supported")
            self.fs = pafs.LocalFileSystem()
            self.root = os.path.abspath(root)

    # -- paths -------------------------------------------------------------------------
    def uri(self, *parts: str) -> str:
        return join(self.root, *parts)

    def _path(self, uri: str) -> str:
        """The filesystem path pyarrow wants: ``bucket/key`` for S3, the path locally."""
        return uri[len("s3://"):] if is_s3(uri) else uri

    def _uri(self, path: str) -> str:
        return "s3://" + path if is_s3(self.root) else path

    def is_under(self, uri: str, base: str) -> bool:
        """True when ``uri`` is ``base`` itself or lies inside it (after normalising)."""
        norm = posixpath.normpath if is_s3(base) else os.path.normpath
        u, b = norm(uri), norm(base)
        return u == b or u.startswith(b.rstrip("/") + "/")

    # -- reading -----------------------------------------------------------------------
    def open_input(self, uri: str, *, decompress: bool = False) -> pa.NativeFile:
        """Open for streaming reads; ``decompress`` detects .gz/.bz2/.zst by extension."""
        try:
            return self.fs.open_input_stream(self._path(uri), compression="detect" if decompress else None)
        except (OSError, pa.ArrowException) as ex:
            raise StorageError(f"cannot read {uri}: {ex}") from ex

    def open_random_access(self, uri: str) -> pa.NativeFile:
        try:
            return self.fs.open_input_file(self._path(uri))
        except (OSError, pa.ArrowException) as ex:
            raise StorageError(f"cannot read {uri}: {ex}") from ex

    def exists(self, uri: str) -> bool:
        return self.fs.get_file_info(self._path(uri)).type != pafs.FileType.NotFound

    def is_dir(self, uri: str) -> bool:
        return self.fs.get_file_info(self._path(uri)).type == pafs.FileType.Directory

    def size(self, uri: str) -> int:
        info = self.fs.get_file_info(self._path(uri))
        if info.type == pafs.FileType.NotFound:
            raise StorageError(f"{uri} does not exist")
        return info.size

    def list_files(self, prefix: str, recursive: bool = True) -> Iterator[FileEntry]:
        """Files under ``prefix`` (none when it does not exist), in no set order."""
        selector = pafs.FileSelector(self._path(prefix), recursive=recursive, allow_not_found=True)
        try:
            infos = self.fs.get_file_info(selector)
        except (OSError, pa.ArrowException) as ex:
            raise StorageError(f"cannot list {prefix}: {ex}") from ex
        for info in infos:
            if info.type == pafs.FileType.File:
                yield FileEntry(self._uri(info.path), info.size, info.mtime_ns)

    def list_dirs(self, prefix: str) -> list[str]:
        selector = pafs.FileSelector(self._path(prefix), recursive=False, allow_not_found=True)
        return [self._uri(i.path) for i in self.fs.get_file_info(selector) if i.type == pafs.FileType.Directory]

    def read_bytes(self, uri: str) -> bytes:
        with self.open_input(uri) as f:
            return f.read()

    # -- writing -----------------------------------------------------------------------
    def open_output(self, uri: str) -> pa.NativeFile:
        try:
            if not is_s3(uri):
                self.fs.create_dir(os.path.dirname(uri), recursive=True)
            return self.fs.open_output_stream(self._path(uri))
        except (OSError, pa.ArrowException) as ex:
            raise StorageError(f"cannot write {uri}: {ex}") from ex

    def write_bytes(self, uri: str, data: bytes) -> None:
        with self.open_output(uri) as f:
            f.write(data)

    def move(self, src: str, dst: str) -> None:
        """Move a file into place: an atomic rename locally, copy-then-delete on S3."""
        try:
            if not is_s3(dst):
                self.fs.create_dir(os.path.dirname(dst), recursive=True)
            self.fs.move(self._path(src), self._path(dst))
        except (OSError, pa.ArrowException) as ex:
            raise StorageError(f"cannot move {src} to {dst}: {ex}") from ex

    def delete(self, uri: str, missing_ok: bool = True) -> None:
        try:
            self.fs.delete_file(self._path(uri))
        except FileNotFoundError:
            if not missing_ok:
                raise StorageError(f"cannot delete {uri}: it does not exist") from None
        except (OSError, pa.ArrowException) as ex:
            if missing_ok and not self.exists(uri):
                return
            raise StorageError(f"cannot delete {uri}: {ex}") from ex

    def delete_dir(self, uri: str) -> None:
        try:
            self.fs.delete_dir(self._path(uri))
        except FileNotFoundError:
            pass
        except (OSError, pa.ArrowException) as ex:
            if self.exists(uri):
                raise StorageError(f"cannot delete {uri}: {ex}") from ex

    def prune_empty_dirs(self, uri: str, stop: str) -> None:
        """Remove ``uri`` and its parents while empty, never going above ``stop``."""
        if is_s3(uri):
            return  # S3 has no folders to leave behind.
        cur = os.path.normpath(uri)
        stop = os.path.normpath(stop)
        while cur.startswith(stop + os.sep):
            try:
                os.rmdir(cur)
            except OSError:
                return
            cur = os.path.dirname(cur)
