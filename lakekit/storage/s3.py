"""``s3://`` URIs: reads and listings through pyarrow's S3 filesystem, writes, copies
and deletes through boto3.

- writes go through :class:`~lakekit.storage.s3_upload.S3Upload`: one PUT for a small
  file, a multipart upload once a file outgrows its part size (parts go up as they
  fill, so a big Parquet file never sits in memory whole), aborted if the writer
  fails; a finished write is size-checked, so a truncated object raises
  :class:`~lakekit.errors.StorageError` instead of being committed;
- every request is retried with exponential backoff and jitter on throttling
  (``SlowDown``, ``503``), on the boto3 and the pyarrow side
  (:data:`lakekit.aws.S3_RETRY_ATTEMPTS`);
- :meth:`S3Backend.move` is a server-side copy (a multipart copy, size-checked, for
  objects over CopyObject's 5 GiB limit), then a delete of the source: S3 has no
  rename.
"""

from __future__ import annotations

import posixpath
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.fs as pafs

from lakekit.aws import arrow_s3_error_message, aws_client, aws_error_message, error_code, s3_filesystem
from lakekit.errors import StorageError
from lakekit.paths import S3_SCHEME, split_s3
from lakekit.storage.base import FileEntry
from lakekit.storage.s3_upload import S3Upload

if TYPE_CHECKING:  # pragma: no cover
    import boto3

#: part size of a multipart copy, used for objects over CopyObject's 5 GiB limit.
MULTIPART_COPY_PART = 256 << 20
#: keys per DeleteObjects request (S3's limit)
DELETE_BATCH = 1000


class S3Backend:
    parallel_moves = True
    #: whether big files are better written to a local spool and uploaded whole
    spools_writes = True

    def __init__(self, boto3_session: boto3.Session | None = None) -> None:
        self._session = boto3_session
        self._lock = threading.Lock()
        self._fs: pafs.S3FileSystem | None = None
        self._client: Any = None

    # -- handles (made once, on first use) ---------------------------------------------
    def filesystem(self) -> pafs.FileSystem:
        with self._lock:
            if self._fs is None:
                self._fs = s3_filesystem(self._session)
            return self._fs

    def client(self) -> Any:
        """The boto3 S3 client used for copies, checks and deletes."""
        with self._lock:
            if self._client is None:
                self._client = aws_client("s3", self._session)
            return self._client

    def path(self, uri: str) -> str:
        return uri[len(S3_SCHEME):]

    def uri(self, path: str) -> str:
        return S3_SCHEME + path

    def normalize(self, uri: str) -> str:
        return posixpath.normpath(uri)

    def _call(self, what: str, fn, **kwargs) -> Any:
        """Run a boto3 call (retried by botocore); failures become StorageError."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return fn(**kwargs)
        except (ClientError, BotoCoreError) as ex:
            raise StorageError(f"{what}: {aws_error_message(ex, 'S3')}") from ex

    # -- reading -----------------------------------------------------------------------
    def open_input(self, uri: str, *, decompress: bool = False) -> pa.NativeFile:
        try:
            return self.filesystem().open_input_stream(self.path(uri), compression="detect" if decompress else None)
        except (OSError, pa.ArrowException) as ex:
            raise StorageError(f"cannot read {uri}: {arrow_s3_error_message(ex)}") from ex

    def open_random_access(self, uri: str) -> pa.NativeFile:
        try:
            return self.filesystem().open_input_file(self.path(uri))
        except (OSError, pa.ArrowException) as ex:
            raise StorageError(f"cannot read {uri}: {arrow_s3_error_message(ex)}") from ex

    def info(self, uri: str) -> pafs.FileInfo:
        try:
            return self.filesystem().get_file_info(self.path(uri))
        except (OSError, pa.ArrowException) as ex:
            raise StorageError(f"cannot look up {uri}: {arrow_s3_error_message(ex)}") from ex

    def etag(self, uri: str) -> str | None:
        """The object's ETag: a content fingerprint S3 keeps for free."""
        bucket, key = split_s3(uri)
        head = self._call(f"cannot look up {uri}", self.client().head_object, Bucket=bucket, Key=key)
        return head.get("ETag", "").strip('"') or None

    def list_files(self, prefix: str, recursive: bool = True) -> Iterator[FileEntry]:
        selector = pafs.FileSelector(self.path(prefix).rstrip("/"), recursive=recursive, allow_not_found=True)
        try:
            infos = self.filesystem().get_file_info(selector)
        except (OSError, pa.ArrowException) as ex:
            raise StorageError(f"cannot list {prefix}: {arrow_s3_error_message(ex)}") from ex
        for info in infos:
            if info.type == pafs.FileType.File:
                yield FileEntry(self.uri(info.path), info.size, info.mtime_ns)

    def list_dirs(self, prefix: str) -> list[str]:
        selector = pafs.FileSelector(self.path(prefix).rstrip("/"), recursive=False, allow_not_found=True)
        try:
            infos = self.filesystem().get_file_info(selector)
        except (OSError, pa.ArrowException) as ex:
            raise StorageError(f"cannot list {prefix}: {arrow_s3_error_message(ex)}") from ex
        return [self.uri(i.path) for i in infos if i.type == pafs.FileType.Directory]

    def read_tail(self, uri: str, nbytes: int) -> tuple[bytes, int]:
        """One ranged GET (``Range: bytes=-N``) instead of a HEAD and a GET."""
        bucket, key = split_s3(uri)
        resp = self._call(f"cannot read {uri}", self.client().get_object, Bucket=bucket, Key=key,
                          Range=f"bytes=-{nbytes}")
        data = resp["Body"].read()
        content_range = resp.get("ContentRange", "")  # "bytes 100-199/200"
        total = int(content_range.rsplit("/", 1)[1]) if "/" in content_range else len(data)
        return data, total

    # -- writing -----------------------------------------------------------------------
    def open_output(self, uri: str) -> S3Upload:
        return S3Upload(self.client(), uri)

    def write_bytes(self, uri: str, data: bytes) -> None:
        # One PUT is atomic on S3: readers see all of the object or none of it.
        bucket, key = split_s3(uri)
        self._call(f"cannot write {uri}", self.client().put_object, Bucket=bucket, Key=key, Body=data)

    def copy(self, src: str, dst: str) -> None:
        """A server-side copy (in parts, then size-checked, over 5 GiB)."""
        client = self.client()
        sb, sk = split_s3(src)
        db, dk = split_s3(dst)
        what = f"cannot copy {src} to {dst}"
        try:
            # One CopyObject is atomic: S3 answers once the whole object exists
            # (botocore turns S3's "200 with an error inside" into an error).
            self._call(what, client.copy_object, Bucket=db, Key=dk, CopySource={"Bucket": sb, "Key": sk})
            return
        except StorageError as ex:
            message = getattr(ex.__cause__, "response", {}).get("Error", {}).get("Message", "")
            if error_code(ex) != "InvalidRequest" or "size" not in message:
                raise
        # Over CopyObject's 5 GiB limit: copy in parts, then check the size.
        from boto3.s3.transfer import TransferConfig

        size = self._call(what, client.head_object, Bucket=sb, Key=sk)["ContentLength"]
        config = TransferConfig(multipart_threshold=MULTIPART_COPY_PART, multipart_chunksize=MULTIPART_COPY_PART,
                                max_concurrency=8)
        self._call(what, client.copy, CopySource={"Bucket": sb, "Key": sk}, Bucket=db, Key=dk, Config=config)
        copied = self._call(what, client.head_object, Bucket=db, Key=dk)["ContentLength"]
        if copied != size:
            raise StorageError(f"{what}: the copy holds {copied} of {size} bytes; run the command again")

    def link(self, src: str, dst: str) -> None:
        """S3 has no links: a server-side copy (no bytes through this process)."""
        self.copy(src, dst)

    def create_exclusive(self, uri: str, data: bytes) -> bool:
        """Create ``uri`` only if no object has that key (``If-None-Match: *``): False
        when one does. S3 decides atomically, so of racing writers exactly one wins."""
        bucket, key = split_s3(uri)
        try:
            self._call(f"cannot write {uri}", self.client().put_object, Bucket=bucket, Key=key, Body=data,
                       IfNoneMatch="*")
        except StorageError as ex:
            # 409 ConditionalRequestConflict: a racing conditional write on the same key
            if error_code(ex) in ("PreconditionFailed", "ConditionalRequestConflict"):
                return False
            raise
        return True

    def read_tagged(self, uri: str) -> tuple[bytes, str] | None:
        """The object's bytes and ETag, or None when there is no such object."""
        bucket, key = split_s3(uri)
        try:
            resp = self._call(f"cannot read {uri}", self.client().get_object, Bucket=bucket, Key=key)
        except StorageError as ex:
            if error_code(ex) in ("NoSuchKey", "404"):
                return None
            raise
        return resp["Body"].read(), resp.get("ETag", "")

    def delete_if_unchanged(self, uri: str, tag: str) -> bool:
        """Delete ``uri`` only while it still has ETag ``tag`` (``If-Match``); False
        when it changed or is gone."""
        bucket, key = split_s3(uri)
        try:
            self._call(f"cannot delete {uri}", self.client().delete_object, Bucket=bucket, Key=key, IfMatch=tag)
        except StorageError as ex:
            if error_code(ex) in ("PreconditionFailed", "NoSuchKey", "404", "ConditionalRequestConflict"):
                return False
            raise
        return True

    def move(self, src: str, dst: str) -> None:
        """Copy, then delete: the destination appears whole (a completed copy is one
        object) and the source goes only after the copy was checked."""
        self.copy(src, dst)
        self.delete(src)

    def delete(self, uri: str, missing_ok: bool = True) -> None:
        if not missing_ok and self.info(uri).type == pafs.FileType.NotFound:
            raise StorageError(f"cannot delete {uri}: it does not exist")
        bucket, key = split_s3(uri)
        # DeleteObject succeeds on a missing key, as missing_ok wants.
        self._call(f"cannot delete {uri}", self.client().delete_object, Bucket=bucket, Key=key)

    def delete_many(self, uris: list[str]) -> None:
        """Delete objects, 1,000 keys to a request."""
        by_bucket: dict[str, list[str]] = {}
        for u in uris:
            b, k = split_s3(u)
            by_bucket.setdefault(b, []).append(k)
        for bucket, keys in by_bucket.items():
            for i in range(0, len(keys), DELETE_BATCH):
                chunk = keys[i:i + DELETE_BATCH]
                resp = self._call(
                    f"cannot delete objects in s3://{bucket}",
                    self.client().delete_objects,
                    Bucket=bucket,
                    Delete={"Objects": [{"Key": k} for k in chunk], "Quiet": True},
                )
                if resp.get("Errors"):
                    first = resp["Errors"][0]
                    raise StorageError(
                        f"cannot delete s3://{bucket}/{first.get('Key')}: {first.get('Code')}: {first.get('Message')}"
                    )

    def delete_dir(self, uri: str) -> None:
        self.delete_many([e.uri for e in self.list_files(uri)])

    def prune_empty_dirs(self, uri: str, stop: str) -> None:
        pass  # S3 has no folders to leave behind
