"""A writable stream to one S3 object: multipart when big, size-checked when done."""

from __future__ import annotations

from typing import Any

from lakekit.aws import aws_error_message
from lakekit.errors import StorageError
from lakekit.paths import split_s3

#: an upload becomes multipart beyond this; each part is held in memory while it goes up.
UPLOAD_PART_SIZE = 8 << 20


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
        except (ClientError, BotoCoreError) as ex:
            raise StorageError(f"cannot write {self._uri}: {aws_error_message(ex, 'S3')}") from ex

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

    def __enter__(self) -> S3Upload:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:  # the writer failed: never complete (and so publish) a partial upload
            self._abort()
