"""The lake's layout facts, in one place: URIs, ``key=value`` partition paths, the
files Athena skips, and the ``_lakekit/`` area where lakekit keeps its own state.

>>> partition_path(["year", "month"], ("2024", "03"))
'year=2024/month=03'
>>> hive_values("/lake/db/t/year=2024/month=03/part-0.parquet")
{'year': '2024', 'month': '03'}
>>> is_hidden("s3://b/t/_SUCCESS"), is_hidden("/lake/t/.part.crc"), is_hidden("part-0.parquet")
(True, True, False)
"""

from __future__ import annotations

import datetime as dt
import os
import posixpath
import re
import uuid
from collections.abc import Iterable, Sequence

S3_SCHEME = "s3://"
#: lakekit's own area in a warehouse (and in a Glue table's location); Athena skips it
#: because its name starts with ``_``.
LAKEKIT_DIR = "_lakekit"
#: the log of a Glue table's lakekit state, under the table's home
LOG_DIR = f"{LAKEKIT_DIR}/log"
CATALOG_FILE = "catalog.db"


# -- URIs ------------------------------------------------------------------------------
def is_s3(uri: str) -> bool:
    return uri.startswith(S3_SCHEME)


def split_s3(uri: str) -> tuple[str, str]:
    """``s3://bucket/key/part`` -> ``('bucket', 'key/part')``.

    >>> split_s3("s3://lake/db/t/year=2024/part-0.parquet")
    ('lake', 'db/t/year=2024/part-0.parquet')
    """
    bucket, _, key = uri[len(S3_SCHEME):].partition("/")
    return bucket, key


def join(base: str, *parts: str) -> str:
    """Join URI parts with '/', whatever the OS: ``join('s3://b/p', 'db', 't')``."""
    if is_s3(base):
        return posixpath.join(base, *parts)
    return os.path.join(base, *parts)


def relative_parts(base: str, uri: str) -> list[str]:
    """The path components of ``uri`` below ``base`` (folders, then the file name)."""
    root = base.rstrip("/")
    rel = uri[len(root) + 1:] if uri.startswith(root + "/") or uri.startswith(root + os.sep) else uri
    return rel.replace(os.sep, "/").split("/") if not is_s3(uri) else rel.split("/")


# -- the files Athena reads ---------------------------------------------------------------
def is_hidden_name(name: str) -> bool:
    """Athena skips files and folders whose names start with ``_`` or ``.``."""
    return name.startswith(("_", "."))


def is_hidden(uri: str) -> bool:
    """True for a file Athena ignores: its name starts with ``_`` or ``.``."""
    return is_hidden_name(posixpath.basename(uri.rstrip("/").replace("\\", "/")))


def has_hidden_part(parts: Iterable[str]) -> bool:
    """True when any path component is hidden: Athena skips everything under it."""
    return any(is_hidden_name(p) for p in parts)


# -- partitions -----------------------------------------------------------------------------
def partition_path(keys: Sequence[str], values: Sequence[str]) -> str:
    """``year=2024/month=03``: a partition's folders, and its name in messages."""
    return "/".join(f"{k}={v}" for k, v in zip(keys, values))


def partition_folders(keys: Sequence[str], values: Sequence[str]) -> list[str]:
    """``['year=2024', 'month=03']``: a partition's folders, one a component."""
    return [f"{k}={v}" for k, v in zip(keys, values)]


def partition_location(location: str, keys: Sequence[str], values: Sequence[str]) -> str:
    """The folder of a partition under its table's ``location``."""
    return join(location, *partition_folders(keys, values))


def split_hive_folder(folder: str) -> tuple[str, str] | None:
    """``'year=2024'`` -> ``('year', '2024')``; None when not ``key=value``."""
    key, eq, value = folder.partition("=")
    if not eq or not key:
        return None
    return key, value


def hive_values(uri: str, base: str | None = None) -> dict[str, str]:
    """The ``key=value`` folders of a file's path (below ``base`` when given)."""
    parts = relative_parts(base, uri) if base else uri.replace("\\", "/").split("/")
    found: dict[str, str] = {}
    for part in parts[:-1]:
        pair = split_hive_folder(part)
        if pair is not None:
            found[pair[0]] = pair[1]
    return found


# -- the _lakekit/ area ------------------------------------------------------------------
def lakekit_uri(root: str, *parts: str) -> str:
    """A path in a warehouse's ``_lakekit/`` area."""
    return join(root, LAKEKIT_DIR, *parts)


def pending_uri(root: str, commit_id: str | None = None) -> str:
    """The record of a commit in flight (whose files are being written), or their folder."""
    return lakekit_uri(root, "pending", f"{commit_id}.json") if commit_id else lakekit_uri(root, "pending")


def rejects_uri(root: str, database: str, table: str, ingest_id: str) -> str:
    """The rejects file of one ingest: one JSON object per rejected record."""
    return lakekit_uri(root, "rejects", database, table, f"{ingest_id}.jsonl")


def stream_spool_uri(root: str, database: str, table: str, *parts: str) -> str:
    """The stream spool of a table: records read from stdin, not yet committed."""
    return lakekit_uri(root, "spool", database, table, *parts)


def log_uri(home: str, *parts: str) -> str:
    """A Glue table's log folder (or an object in it), under the table's home."""
    return join(home, LOG_DIR, *parts)


def dropped_marker_uri(home: str) -> str:
    """Left in a table's folder by ``lakekit drop`` without ``--purge``: its files were
    kept on purpose, so a new table of that name may start over them."""
    return join(home, "_lakekit-dropped.json")  # "_": no reader takes it for data


def lock_uri(home: str) -> str:
    """The lease a writer holds on a Glue table while it commits."""
    return join(home, LAKEKIT_DIR, "lock.json")


# -- commit folders --------------------------------------------------------------------------
_COMMIT_ID = re.compile(r"\d{8}T\d{6}Z-[0-9a-f]{8}")


def new_commit_id() -> str:
    """Sortable by time, unique by its random tail: ``20240307T101500Z-1f2e3d4c``.

    It names a commit's folder, so it is never ``key=value`` (no reader takes it for a
    partition) and never starts with ``_`` or ``.`` (Athena would skip it).
    """
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:8]


def is_commit_id(name: str) -> bool:
    """True for a folder name :func:`new_commit_id` made.

    >>> is_commit_id("20240307T101500Z-1f2e3d4c"), is_commit_id("year=2024")
    (True, False)
    """
    return _COMMIT_ID.fullmatch(name) is not None


def commit_location(home: str, commit_id: str, keys: Sequence[str] = (), values: Sequence[str] = ()) -> str:
    """Where one commit writes a partition's files: ``<home>/<commit-id>/year=2024/...``.

    A folder no catalog location contains: partition locations are ``<home>/k=v/...``
    (a crawled layout) or ``<home>/<other-commit-id>/k=v/...``, so nothing written
    here is read by anyone until the catalog points at it.

    >>> commit_location("/lake/db/t", "20240307T101500Z-1f2e3d4c", ["year"], ["2024"])
    '/lake/db/t/20240307T101500Z-1f2e3d4c/year=2024'
    """
    return join(home, commit_id, *partition_folders(keys, values))


def commit_of(home: str, uri: str) -> str | None:
    """The commit id of the folder ``uri`` lies in under ``home``, if it lies in one.

    >>> commit_of("s3://b/t", "s3://b/t/20240307T101500Z-1f2e3d4c/year=2024/part-0.parquet")
    '20240307T101500Z-1f2e3d4c'
    """
    parts = relative_parts(home, uri)
    return parts[0] if len(parts) > 1 and is_commit_id(parts[0]) else None


def local_catalog_path(warehouse: str) -> str:
    """The SQLite catalog's default file: in the warehouse, or ``./.lakekit/`` for S3."""
    if is_s3(warehouse):
        return os.path.join(".lakekit", CATALOG_FILE)
    return os.path.join(warehouse, LAKEKIT_DIR, CATALOG_FILE)


SPOOL_PREFIX = "lakekit-spool-"
#: the folder, in a commit's staging folder, where the writer spills small partitions'
#: rows while an ingest runs (hidden: its name starts with ``_``; removed before the commit)
SPILL_FOLDER = "_spill"
