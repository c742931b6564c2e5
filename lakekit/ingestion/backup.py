"""``--backup URI``: the raw input, gzip-compressed, kept beside the table.

A delivery stream's source record backup: every record read is also kept as it came
(before any ``--transform``), so it can be processed again after a bug downstream.
The copy is written before the ingest commits, so every committed record has its
backup; names are derived from the input's identity, so an ingest that is retried
after a crash overwrites its own backup rather than adding a second one.

Layout, under ``URI``:

- ``<db>/<table>/sources/<hash>-<file name>.gz`` for files (a file already compressed
  is copied as it is, keeping its suffix);
- ``<db>/<table>/<YYYY>/<MM>/<DD>/<HH>/<stream-id>-<seq>.jsonl.gz`` for stdin batches,
  by the UTC hour the batch's first record arrived (a delivery stream's layout).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable

import pyarrow as pa

from lakekit.errors import LakekitError, StorageError
from lakekit.ingestion.sources import COMPRESSED_SUFFIXES, Source
from lakekit.paths import join
from lakekit.storage import Storage

_COPY_CHUNK = 4 << 20


def source_backup_uri(root: str, database: str, table: str, source: Source, digest: str) -> str:
    """Where a file source's backup goes.

    >>> source_backup_uri("s3://b/backup", "db", "t", Source("/x/e.jsonl", 3), "sha256:abcdef0123456789ff")
    's3://b/backup/db/t/sources/abcdef0123456789-e.jsonl.gz'
    """
    base = os.path.basename(source.uri.rstrip("/"))
    name = base if os.path.splitext(base)[1].lower() in COMPRESSED_SUFFIXES else base + ".gz"
    short = digest.split(":", 1)[-1][:16]
    return join(root, database, table, "sources", f"{short}-{name}")


def batch_backup_uri(root: str, database: str, table: str, arrived: float, stream_id: str, seq: int) -> str:
    """Where a stream batch's backup goes.

    >>> batch_backup_uri("/bk", "db", "t", 0.0, "s1", 3)
    '/bk/db/t/1970/01/01/00/s1-00000003.jsonl.gz'
    """
    at = dt.datetime.fromtimestamp(arrived, dt.UTC)
    return join(root, database, table, f"{at:%Y}", f"{at:%m}", f"{at:%d}", f"{at:%H}", f"{stream_id}-{seq:08d}.jsonl.gz")


def write_backup(storage: Storage, uri: str, chunks: Iterable[bytes], *, compress: bool = True) -> int:
    """Write ``chunks`` to ``uri`` (gzip unless ``compress`` is false). Returns bytes in."""
    total = 0
    try:
        with storage.open_output(uri) as raw:
            out = pa.CompressedOutputStream(raw, "gzip") if compress else raw
            try:
                for chunk in chunks:
                    out.write(chunk)
                    total += len(chunk)
            finally:
                if out is not raw:
                    out.close()
    except LakekitError:
        raise
    except (OSError, pa.ArrowException) as ex:
        raise StorageError(f"cannot write the backup {uri}: {ex}; nothing was committed") from ex
    return total


def backup_source(storage: Storage, root: str, database: str, table: str, source: Source, digest: str) -> str:
    """Copy one file source to the backup, compressed. Returns the backup's URI."""
    uri = source_backup_uri(root, database, table, source, digest)

    def chunks():
        with storage.open_input(source.uri) as f:
            while (chunk := f.read(_COPY_CHUNK)):
                yield chunk

    write_backup(storage, uri, chunks(), compress=source.compression is None)
    return uri
