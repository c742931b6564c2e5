"""The warehouse's storage: local folders or ``s3://`` prefixes behind one small API.

Reads and listings go through pyarrow filesystems, so the same code reads and lists
local paths and S3 objects. Paths handed around inside lakekit are *URIs*: absolute
local paths or ``s3://bucket/key``. A :class:`Storage` rooted anywhere also reads and
writes URIs of the other kind (a local source file into an ``s3://`` warehouse, an
``s3://`` source into a local one): the filesystem is picked per URI.

On S3:

- writes go through :class:`S3Upload`: one PUT for a small file, a multipart upload
  once a file outgrows :data:`UPLOAD_PART_SIZE` (parts go up as they fill, so a big
  Parquet file never sits in memory whole), aborted if the writer fails;
- every request is retried with exponential backoff and jitter on throttling
  (``SlowDown``, ``503``), on the boto3 and the pyarrow side (:data:`S3_RETRY_ATTEMPTS`);
- a finished write is checked: the object's size must equal the bytes written, so
  a truncated object raises :class:`~lakekit.errors.StorageError` instead of being
  committed;
- :meth:`Storage.move` is a server-side copy (a multipart copy, size-checked, for
  objects over CopyObject's 5 GiB limit), then a delete of the source: S3 has no
  rename.
"""

from __future__ import annotations

import os
import posixpath
import threading
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterator

import pyarrow as pa
import pyarrow.fs as pafs

from lakekit.errors import StorageError, UsageError

if TYPE_CHECKING:  # pragma: no cover
    import boto3

#: attempts per S3 request before giving up; throttling backs off exponentially.
S3_RETRY_ATTEMPTS = 10
#: an upload becomes multipart beyond this; each part is held in memory while it goes up.
UPLOAD_PART_SIZE = 8 << 20
#: part size of a multipart copy, used for objects over CopyObject's 5 GiB limit.
MULTIPART_COPY_PART = 256 << 20


@dataclass(frozen=True)
class FileEntry:
    uri: str
    size: int
    mtime_ns: int | None = None


def is_s3(uri: str) -> bool:
    return uri.startswith("s3://")


def split_s3(uri: str) -> tuple[str, str]:
    """``s3://bucket/key/part`` -> ``('bucket', 'key/part')``.

    >>> split_s3("s3://lake/db/t/year=2024/part-0.parquet")
    ('lake', 'db/t/year=2024/part-0.parquet')
    """
    bucket, _, key = uri[len("s3://"):].partition("/")
    return bucket, key


def join(base: str, *parts: str) -> str:
    """Join URI parts with '/', whatever the OS: ``join('s3://b/p', 'db', 't')``."""
    if is_s3(base):
        return posixpath.join(base, *parts)
    return os.path.join(base, *parts)


# Clients are thread-safe and slow to build (each loads its service model), so one is
# kept per service and session; for the default session, per environment that boto3
# reads, so changing AWS_* variables (tests do) gets a fresh client.
_CLIENTS: "weakref.WeakKeyDictionary[Any, dict[str, Any]]" = weakref.WeakKeyDictionary()
_DEFAULT_CLIENTS: dict[tuple, Any] = {}
_CLIENTS_LOCK = threading.Lock()
_ENV_KEYS = ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID",
             "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE",
             "LAKEKIT_REGION")


def _env_key() -> tuple:
    return tuple(os.environ.get(k) for k in _ENV_KEYS)


def aws_client(service: str, boto3_session: "boto3.Session | None" = None) -> Any:
    """The one place lakekit makes AWS clients.

    Endpoint, region and credentials come from boto3's own chain (``AWS_ENDPOINT_URL``
    points everything at a local server); throttled calls are retried with backoff.
    """
    with _CLIENTS_LOCK:
        if boto3_session is None:
            key = (service, *_env_key())
            client = _DEFAULT_CLIENTS.get(key)
            if client is None:
                client = _DEFAULT_CLIENTS[key] = _new_client(service, None)
            return client
        per_session = _CLIENTS.setdefault(boto3_session, {})
        if service not in per_session:
            per_session[service] = _new_client(service, boto3_session)
        return per_session[service]


def _new_client(service: str, boto3_session: "boto3.Session | None") -> Any:
    import boto3
    from botocore.config import Config

    session = boto3_session or boto3.Session()
    config = Config(
        retries={"mode": "standard", "max_attempts": S3_RETRY_ATTEMPTS},
        max_pool_connections=32,
        # Glue partition batches are large nested documents that lakekit builds itself;
        # botocore's client-side validation of them costs more CPU than the request,
        # and Glue validates them again anyway.
        parameter_validation=service != "glue",
    )
    kwargs = {}
    if session.region_name is None:
        kwargs["region_name"] = os.environ.get("LAKEKIT_REGION") or "us-east-1"
    return session.client(service, config=config, **kwargs)


_FILESYSTEMS: dict[tuple, pafs.S3FileSystem] = {}


def s3_filesystem(boto3_session: "boto3.Session | None" = None) -> pafs.S3FileSystem:
    """A pyarrow S3 filesystem configured from boto3's own settings.

    pyarrow does not read ``AWS_ENDPOINT_URL``; boto3 does. Taking endpoint, region and
    credentials from a boto3 client keeps one source of truth, so tests against a
    local moto server and real AWS take the same path.
    """
    if boto3_session is None:
        key = _env_key()
        fs = _FILESYSTEMS.get(key)
        if fs is None:
            fs = _FILESYSTEMS[key] = _new_s3_filesystem(None)
        return fs
    return _new_s3_filesystem(boto3_session)


def _new_s3_filesystem(boto3_session: "boto3.Session | None") -> pafs.S3FileSystem:
    import boto3

    client = aws_client("s3", boto3_session)
    session = boto3_session or boto3.Session()
    endpoint = client.meta.endpoint_url
    kwargs: dict = {
        "region": client.meta.region_name or "us-east-1",
        "retry_strategy": pafs.AwsStandardS3RetryStrategy(max_attempts=S3_RETRY_ATTEMPTS),
    }
    if endpoint and not endpoint.startswith("https://s3.") and "amazonaws.com" not in endpoint:
        scheme, _, rest = endpoint.partition("://")
        kwargs.update(endpoint_override=rest, scheme=scheme)
    creds = session.get_credentials()
    if creds is not None:
        frozen = creds.get_frozen_credentials()
        kwargs.update(access_key=frozen.access_key, secret_key=frozen.secret_key, session_token=frozen.token)
    return pafs.S3FileSystem(**kwargs)


class S3Upload:
    """A writable stream to one S3 object: a single PUT when small, a multipart upload
    when it outgrows :data:`UPLOAD_PART_SIZE`, and a size check when done.

    Parts go up as they fill, so memory holds at most one part per open file. On
    ``close`` the object's size is compared with the bytes handed to ``write``: an
    upload that lost bytes raises :class:`~lakekit.errors.StorageError` instead of
    leaving a shorter object that looks complete. Leaving a ``with`` block on an
    exception aborts the upload: no object, no orphaned parts.
    """

    def __init__(self, client: Any, uri: str, part_size: int | None = None):
        self._client = client
        self._uri = uri
        self._bucket, self._key = split_s3(uri)
        self._part_size = part_size or UPLOAD_PART_SIZE
        self._buffer = bytearray()
        self._parts: list[dict[str, Any]] = []
        self._upload_id: str | None = None
        self._written = 0
        self.closed = False

    # -- the file-like surface pyarrow's writers use ---------------------------------------
    def write(self, data) -> int:
        if self.closed:
            raise StorageError(f"cannot write {self._uri}: the upload is closed")
        view = memoryview(data).cast("B")
        self._buffer += view
        self._written += view.nbytes
        while len(self._buffer) >= self._part_size:
            part = bytes(self._buffer[: self._part_size])
            del self._buffer[: self._part_size]
            self._send_part(part)
        return view.nbytes

    def tell(self) -> int:
        return self._written

    def flush(self) -> None:
        pass  # parts go up when full; the rest on close

    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return False

    def seekable(self) -> bool:
        return False

    # -- S3 ----------------------------------------------------------------------------
    def _call(self, fn, **kwargs) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return fn(Bucket=self._bucket, Key=self._key, **kwargs)
        except ClientError as ex:
            err = ex.response.get("Error", {})
            raise StorageError(f"cannot write {self._uri}: {err.get('Code', 'error')}: {err.get('Message', ex)}") from ex
        except BotoCoreError as ex:
            raise StorageError(f"cannot write {self._uri}: {ex}") from ex

    def _send_part(self, body: bytes) -> None:
        if self._upload_id is None:
            self._upload_id = self._call(self._client.create_multipart_upload)["UploadId"]
        number = len(self._parts) + 1
        resp = self._call(self._client.upload_part, UploadId=self._upload_id, PartNumber=number, Body=body)
        self._parts.append({"PartNumber": number, "ETag": resp["ETag"], "Size": len(body)})

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            if self._upload_id is None:
                self._call(self._client.put_object, Body=bytes(self._buffer))
            else:
                if self._buffer:
                    self._send_part(bytes(self._buffer))
                sent = sum(p["Size"] for p in self._parts)
                if sent != self._written:
                    raise StorageError(f"upload of {self._uri} sent {sent} of {self._written} bytes")
                parts = [{"PartNumber": p["PartNumber"], "ETag": p["ETag"]} for p in self._parts]
                self._call(self._client.complete_multipart_upload, UploadId=self._upload_id,
                           MultipartUpload={"Parts": parts})
            self._buffer = bytearray()
            size = self._call(self._client.head_object)["ContentLength"]
        except BaseException:
            self._abort()
            raise
        if size != self._written:
            raise StorageError(
                f"upload of {self._uri} is incomplete: wrote {self._written} bytes, S3 holds {size} bytes; "
                "the file was not committed, run the command again"
            )

    def _abort(self) -> None:
        self.closed = True
        self._buffer = bytearray()
        if self._upload_id is not None:
            try:
                self._call(self._client.abort_multipart_upload, UploadId=self._upload_id)
            except StorageError:
                pass  # a lifecycle rule for incomplete uploads cleans up what this cannot
            self._upload_id = None

    def abort(self) -> None:
        """Give up: nothing is written and uploaded parts are discarded."""
        self._abort()

    def __enter__(self) -> "S3Upload":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:  # the writer failed: never complete (and so publish) a partial upload
            self._abort()


class Storage:
    """Files under one root URI (the warehouse), local or on S3.

    >>> import tempfile
    >>> st = Storage(tempfile.mkdtemp())
    >>> st.write_bytes(st.uri("a", "b.txt"), b"hi")
    >>> [e.size for e in st.list_files(st.uri("a"))]
    [2]
    """

    def __init__(self, root: str, boto3_session: "boto3.Session | None" = None):
        self._session = boto3_session
        self._lock = threading.Lock()
        self._s3fs: pafs.S3FileSystem | None = None
        self._s3client: Any = None
        self._localfs = pafs.LocalFileSystem()
        if is_s3(root):
            bucket, _ = split_s3(root)
            if not bucket:
                raise UsageError(f"warehouse {root!r} names no bucket; write it like s3://bucket/prefix")
            self.root = root.rstrip("/")
            self.fs: pafs.FileSystem = self._s3()
        else:
            if "://" in root:
                raise UsageError(f"warehouse {root!r}: only local paths and s3:// URIs are supported")
            self.fs = self._localfs
            self.root = os.path.abspath(root)

    # -- S3 handles (made once, on first use) ---------------------------------------
    def _s3(self) -> pafs.S3FileSystem:
        with self._lock:
            if self._s3fs is None:
                self._s3fs = s3_filesystem(self._session)
            return self._s3fs

    def s3_client(self) -> Any:
        """The boto3 S3 client this storage uses for copies and checks."""
        with self._lock:
            if self._s3client is None:
                self._s3client = aws_client("s3", self._session)
            return self._s3client

    # -- paths -------------------------------------------------------------------------
    def uri(self, *parts: str) -> str:
        return join(self.root, *parts)

    def _fs_for(self, uri: str) -> pafs.FileSystem:
        return self._s3() if is_s3(uri) else self._localfs

    def _path(self, uri: str) -> str:
        """The filesystem path pyarrow wants: ``bucket/key`` for S3, the path locally."""
        return uri[len("s3://"):] if is_s3(uri) else uri

    def _uri(self, path: str, like: str | None = None) -> str:
        s3 = is_s3(like) if like is not None else is_s3(self.root)
        return "s3://" + path if s3 else path

    def is_under(self, uri: str, base: str) -> bool:
        """True when ``uri`` is ``base`` itself or lies inside it (after normalising)."""
        norm = posixpath.normpath if is_s3(base) else os.path.normpath
        u, b = norm(uri), norm(base)
        return u == b or u.startswith(b.rstrip("/") + "/")

    # -- reading -----------------------------------------------------------------------
    def open_input(self, uri: str, *, decompress: bool = False) -> pa.NativeFile:
        """Open for streaming reads; ``decompress`` detects .gz/.bz2/.zst by extension."""
        try:
            return self._fs_for(uri).open_input_stream(
                self._path(uri), compression="detect" if decompress else None
            )
        except (OSError, pa.ArrowException) as ex:
            raise StorageError(f"cannot read {uri}: {ex}") from ex

    def open_random_access(self, uri: str) -> pa.NativeFile:
        try:
            return self._fs_for(uri).open_input_file(self._path(uri))
        except (OSError, pa.ArrowException) as ex:
            raise StorageError(f"cannot read {uri}: {ex}") from ex

    def _info(self, uri: str) -> pafs.FileInfo:
        try:
            return self._fs_for(uri).get_file_info(self._path(uri))
        except (OSError, pa.ArrowException) as ex:
            raise StorageError(f"cannot look up {uri}: {ex}") from ex

    def exists(self, uri: str) -> bool:
        return self._info(uri).type != pafs.FileType.NotFound

    def is_dir(self, uri: str) -> bool:
        return self._info(uri).type == pafs.FileType.Directory

    def size(self, uri: str) -> int:
        info = self._info(uri)
        if info.type == pafs.FileType.NotFound:
            raise StorageError(f"{uri} does not exist")
        return info.size

    def etag(self, uri: str) -> str | None:
        """An S3 object's ETag (a content fingerprint); ``None`` for local files."""
        if not is_s3(uri):
            return None
        bucket, key = split_s3(uri)
        head = self._call(f"cannot look up {uri}", self.s3_client().head_object, Bucket=bucket, Key=key)
        return head.get("ETag", "").strip('"') or None

    def list_files(self, prefix: str, recursive: bool = True) -> Iterator[FileEntry]:
        """Files under ``prefix`` (none when it does not exist), in no set order."""
        selector = pafs.FileSelector(self._path(prefix).rstrip("/"), recursive=recursive, allow_not_found=True)
        try:
            infos = self._fs_for(prefix).get_file_info(selector)
        except (OSError, pa.ArrowException) as ex:
            raise StorageError(f"cannot list {prefix}: {ex}") from ex
        for info in infos:
            if info.type == pafs.FileType.File:
                yield FileEntry(self._uri(info.path, prefix), info.size, info.mtime_ns)

    def list_dirs(self, prefix: str) -> list[str]:
        selector = pafs.FileSelector(self._path(prefix).rstrip("/"), recursive=False, allow_not_found=True)
        try:
            infos = self._fs_for(prefix).get_file_info(selector)
        except (OSError, pa.ArrowException) as ex:
            raise StorageError(f"cannot list {prefix}: {ex}") from ex
        return [self._uri(i.path, prefix) for i in infos if i.type == pafs.FileType.Directory]

    def read_tail(self, uri: str, nbytes: int) -> tuple[bytes, int]:
        """The last ``nbytes`` of a file (all of it when shorter) and the file's size.

        On S3 one ranged GET (``Range: bytes=-N``) instead of a HEAD and a GET: what a
        Parquet footer read needs.
        """
        if is_s3(uri):
            bucket, key = split_s3(uri)
            resp = self._call(f"cannot read {uri}", self.s3_client().get_object, Bucket=bucket, Key=key,
                              Range=f"bytes=-{nbytes}")
            data = resp["Body"].read()
            content_range = resp.get("ContentRange", "")  # "bytes 100-199/200"
            total = int(content_range.rsplit("/", 1)[1]) if "/" in content_range else len(data)
            return data, total
        try:
            with open(uri, "rb") as f:
                total = f.seek(0, os.SEEK_END)
                f.seek(max(0, total - nbytes))
                return f.read(), total
        except OSError as ex:
            raise StorageError(f"cannot read {uri}: {ex}") from ex

    def read_bytes(self, uri: str) -> bytes:
        with self.open_input(uri) as f:
            return f.read()

    # -- writing -----------------------------------------------------------------------
    def open_output(self, uri: str):
        """A writable stream; on S3 an :class:`S3Upload` (multipart when big, size-checked)."""
        try:
            if not is_s3(uri):
                self._localfs.create_dir(os.path.dirname(uri), recursive=True)
                return self._localfs.open_output_stream(uri)
            return S3Upload(self.s3_client(), uri)
        except (OSError, pa.ArrowException) as ex:
            raise StorageError(f"cannot write {uri}: {ex}") from ex

    def write_bytes(self, uri: str, data: bytes) -> None:
        if is_s3(uri):
            # One PUT is atomic on S3: readers see all of the object or none of it.
            bucket, key = split_s3(uri)
            self._call(f"cannot write {uri}", self.s3_client().put_object, Bucket=bucket, Key=key, Body=data)
            return
        with self.open_output(uri) as f:
            f.write(data)

    def _call(self, what: str, fn, **kwargs) -> Any:
        """Run a boto3 call (retried by botocore); failures become StorageError."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return fn(**kwargs)
        except ClientError as ex:
            err = ex.response.get("Error", {})
            raise StorageError(f"{what}: {err.get('Code', 'error')}: {err.get('Message', ex)}") from ex
        except BotoCoreError as ex:
            raise StorageError(f"{what}: {ex}") from ex

    def copy(self, src: str, dst: str) -> None:
        """Copy a file; on S3 a server-side copy (in parts, then size-checked, over 5 GiB)."""
        if is_s3(src) and is_s3(dst):
            client = self.s3_client()
            sb, sk = split_s3(src)
            db, dk = split_s3(dst)
            what = f"cannot copy {src} to {dst}"
            try:
                # One CopyObject is atomic: S3 answers once the whole object exists
                # (botocore turns S3's "200 with an error inside" into an error).
                self._call(what, client.copy_object, Bucket=db, Key=dk, CopySource={"Bucket": sb, "Key": sk})
                return
            except StorageError as ex:
                error = getattr(ex.__cause__, "response", {}).get("Error", {})
                if error.get("Code") != "InvalidRequest" or "size" not in error.get("Message", ""):
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
            return
        try:
            if not is_s3(dst):
                self._localfs.create_dir(os.path.dirname(dst), recursive=True)
            pafs.copy_files(self._path(src), self._path(dst), self._fs_for(src), self._fs_for(dst))
        except (OSError, pa.ArrowException) as ex:
            raise StorageError(f"cannot copy {src} to {dst}: {ex}") from ex

    def move(self, src: str, dst: str) -> None:
        """Move a file into place: an atomic rename locally, copy-check-delete on S3.

        On S3 the destination appears whole (a completed copy is one object) and the
        source is deleted only after the copy's size has been checked, so a failure at
        any point leaves a complete file in one place or the other, never a fragment.
        """
        if is_s3(src) or is_s3(dst):
            self.copy(src, dst)
            self.delete(src)
            return
        try:
            self._localfs.create_dir(os.path.dirname(dst), recursive=True)
            self._localfs.move(src, dst)
        except (OSError, pa.ArrowException) as ex:
            raise StorageError(f"cannot move {src} to {dst}: {ex}") from ex

    def move_many(self, pairs: list[tuple[str, str]], concurrency: int = 16) -> None:
        """:meth:`move` each ``(src, dst)``; on S3 several at a time (each move is a few
        round trips that would otherwise wait on one another)."""
        if not pairs:
            return
        if not any(is_s3(s) or is_s3(d) for s, d in pairs) or len(pairs) == 1:
            for src, dst in pairs:
                self.move(src, dst)
            return
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=min(concurrency, len(pairs))) as pool:
            for future in [pool.submit(self.move, s, d) for s, d in pairs]:
                future.result()

    def delete(self, uri: str, missing_ok: bool = True) -> None:
        if is_s3(uri):
            if not missing_ok and not self.exists(uri):
                raise StorageError(f"cannot delete {uri}: it does not exist")
            bucket, key = split_s3(uri)
            # DeleteObject succeeds on a missing key, as missing_ok wants.
            self._call(f"cannot delete {uri}", self.s3_client().delete_object, Bucket=bucket, Key=key)
            return
        try:
            self._localfs.delete_file(uri)
        except FileNotFoundError:
            if not missing_ok:
                raise StorageError(f"cannot delete {uri}: it does not exist") from None
        except (OSError, pa.ArrowException) as ex:
            if missing_ok and not self.exists(uri):
                return
            raise StorageError(f"cannot delete {uri}: {ex}") from ex

    def delete_many(self, uris: list[str]) -> None:
        """Delete files; S3 keys go 1,000 to a request."""
        s3_uris = [u for u in uris if is_s3(u)]
        for u in uris:
            if not is_s3(u):
                self.delete(u)
        by_bucket: dict[str, list[str]] = {}
        for u in s3_uris:
            b, k = split_s3(u)
            by_bucket.setdefault(b, []).append(k)
        client = self.s3_client() if by_bucket else None
        for bucket, keys in by_bucket.items():
            for i in range(0, len(keys), 1000):
                chunk = keys[i:i + 1000]
                resp = self._call(
                    f"cannot delete objects in s3://{bucket}",
                    client.delete_objects,
                    Bucket=bucket,
                    Delete={"Objects": [{"Key": k} for k in chunk], "Quiet": True},
                )
                if resp.get("Errors"):
                    first = resp["Errors"][0]
                    raise StorageError(
                        f"cannot delete s3://{bucket}/{first.get('Key')}: {first.get('Code')}: {first.get('Message')}"
                    )

    def delete_dir(self, uri: str) -> None:
        if is_s3(uri):
            self.delete_many([e.uri for e in self.list_files(uri)])
            return
        try:
            self._localfs.delete_dir(uri)
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
