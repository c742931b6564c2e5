"""Parquet footers -> the per-file statistics the catalog keeps for cost estimation.

Only the footer is read (pyarrow fetches the file's tail), never the data pages.
"""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import pyarrow.parquet as pq

from lakekit.catalog.base import ColumnChunk, DataFile, RowGroup

# min/max longer than this are dropped (kept as unknown) rather than stored: long
# strings bloat the catalog and a truncated max would be wrong.
_MAX_STAT_CHARS = 256


def encode_stat(value: Any) -> Any:
    """A statistics value as JSON: timestamps and dates as ISO strings."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return value.isoformat(timespec="microseconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes):
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError:
            return None
    if isinstance(value, str) and len(value) > _MAX_STAT_CHARS:
        return None
    if isinstance(value, float) and value != value:  # NaN says nothing about a range
        return None
    return value


def decode_stat(value: Any, athena_type: str) -> Any:
    """The Python value of a stored statistic: ``datetime`` (UTC, naive) for timestamps,
    ``date`` for dates, the JSON value otherwise.

    >>> decode_stat("2024-03-07T12:00:00.000000", "timestamp")
    datetime.datetime(2024, 3, 7, 12, 0)
    """
    if value is None:
        return None
    if athena_type == "timestamp":
        return dt.datetime.fromisoformat(value)
    if athena_type == "date":
        return dt.date.fromisoformat(value)
    if athena_type.startswith("decimal"):
        return decimal.Decimal(value)
    return value


def stats_from_metadata(
    uri: str, size: int, meta: pq.FileMetaData, partition_values: tuple[str, ...] = ()
) -> DataFile:
    """Turn a footer into a :class:`DataFile`. Nested columns add up under their top name."""
    row_groups = []
    for i in range(meta.num_row_groups):
        rg = meta.row_group(i)
        chunks: dict[str, list] = {}
        for j in range(rg.num_columns):
            col = rg.column(j)
            top = col.path_in_schema.split(".")[0]
            nested = "." in col.path_in_schema
            stats = col.statistics
            lo = hi = nulls = None
            if stats is not None and not nested:
                nulls = stats.null_count if stats.has_null_count else None
                if stats.has_min_max:
                    lo, hi = encode_stat(stats.min), encode_stat(stats.max)
            if top in chunks:  # another leaf of a nested column: sizes add, ranges unknown
                chunks[top][0] += col.total_compressed_size
                chunks[top][1] = chunks[top][2] = chunks[top][3] = None
            else:
                chunks[top] = [col.total_compressed_size, lo, hi, nulls]
        row_groups.append(RowGroup(rg.num_rows, {n: ColumnChunk(*c) for n, c in chunks.items()}))
    return DataFile(
        uri=uri,
        size=size,
        rows=meta.num_rows,
        footer_length=meta.serialized_size,
        row_groups=tuple(row_groups),
        partition_values=tuple(partition_values),
    )


def read_file_stats(storage, uri: str, partition_values: tuple[str, ...] = ()) -> DataFile:
    """Read one file's footer through a :class:`lakekit.storage.Storage`."""
    with storage.open_random_access(uri) as f:
        size = f.size()
        meta = pq.read_metadata(f)
    return stats_from_metadata(uri, size, meta, partition_values)
