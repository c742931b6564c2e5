"""Parquet footers: the one reader, and the one model of what a footer says.

Only the footer is read (the file's tail: one ranged GET on S3), never the data
pages. A :class:`Footer` is the parsed footer; :class:`DataFile` (with its
:class:`RowGroup` and :class:`ColumnChunk`) is what the catalog keeps of it for cost
estimates: sizes per column chunk, min/max and null counts.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from lakekit.errors import InputError
from lakekit.types import athena_type

if TYPE_CHECKING:  # pragma: no cover - only for the annotation; storage does not import this module
    from lakekit.storage import Storage

#: bytes fetched from a file's end in the hope they hold its whole footer
FOOTER_GUESS = 64 << 10
#: a footer's serialized length is followed by 4 length bytes and the ``PAR1`` magic
FOOTER_TRAILER = 8


@dataclass(frozen=True)
class ColumnChunk:
    """One column of one row group: what a columnar reader fetches for that column."""

    compressed_size: int
    min: Any = None  # JSON-friendly; decode with decode_stat
    max: Any = None
    null_count: int | None = None


@dataclass(frozen=True)
class RowGroup:
    rows: int
    columns: dict[str, ColumnChunk]


#: one row group as stored: ``[rows, {column: [compressed_size, min, max, null_count]}]``
RawRowGroup = list


class JsonBatch:
    """The row-group statistics of many files as JSON texts, decoded together on first use.

    One ``json.loads`` of the texts joined into an array is several times faster than
    one call a file, and an estimate that needs no file's statistics decodes none.
    """

    __slots__ = ("_texts", "_decoded")

    def __init__(self, texts: list[str]) -> None:
        self._texts = texts
        self._decoded: list | None = None

    def get(self, index: int) -> list[RawRowGroup]:
        if self._decoded is None:
            self._decoded = json.loads("[" + ",".join(self._texts) + "]") if self._texts else []
            self._texts = []
        return self._decoded[index]


class RowGroupStats(Sequence):
    """A file's row groups: kept in their stored form (:data:`RawRowGroup` lists), read
    as :class:`RowGroup` objects only when asked. The estimate works on :attr:`raw`;
    building 100,000 ``ColumnChunk`` objects for a table of 10,000 files costs more
    than the rest of the estimate.

    >>> stats = RowGroupStats([[10, {"x": [123, 1, 9, 0]}]])
    >>> len(stats), stats[0].columns["x"].compressed_size, stats.raw[0][1]["x"][0]
    (1, 123, 123)
    """

    __slots__ = ("_raw", "_batch", "_index", "_objects")

    def __init__(self, raw: list[RawRowGroup] | None = None, batch: JsonBatch | None = None, index: int = 0) -> None:
        self._raw = raw
        self._batch = batch
        self._index = index
        self._objects: tuple[RowGroup, ...] | None = None

    @classmethod
    def of(cls, row_groups: Sequence[RowGroup]) -> RowGroupStats:
        if isinstance(row_groups, RowGroupStats):
            return row_groups
        return cls([[rg.rows, {n: [c.compressed_size, c.min, c.max, c.null_count] for n, c in rg.columns.items()}]
                    for rg in row_groups])

    @property
    def raw(self) -> list[RawRowGroup]:
        if self._raw is None:
            assert self._batch is not None
            self._raw = self._batch.get(self._index)
            self._batch = None
        return self._raw

    def _decoded(self) -> tuple[RowGroup, ...]:
        if self._objects is None:
            self._objects = tuple(RowGroup(rows, {n: ColumnChunk(*c) for n, c in cols.items()})
                                  for rows, cols in self.raw)
        return self._objects

    def __len__(self) -> int:
        return len(self.raw)

    def __getitem__(self, index):  # type: ignore[override]
        return self._decoded()[index]

    def __iter__(self):
        return iter(self._decoded())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, RowGroupStats):
            return self.raw == other.raw
        if isinstance(other, (tuple, list)):
            return self._decoded() == tuple(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(json.dumps(self.raw, sort_keys=True, default=str))

    def __repr__(self) -> str:
        return f"RowGroupStats({self.raw!r})"


def raw_row_groups(row_groups: Sequence[RowGroup]) -> list[RawRowGroup]:
    """Row groups in their stored form, however they are held."""
    return RowGroupStats.of(row_groups).raw


@dataclass(frozen=True)
class DataFile:
    """A Parquet file of a table, with the footer facts cost estimation needs."""

    uri: str
    size: int
    rows: int
    footer_length: int  # serialized Thrift footer; a reader fetches footer_length + 8 bytes
    #: a :class:`RowGroupStats` (lazy) or a tuple of :class:`RowGroup`
    row_groups: Sequence[RowGroup]
    partition_values: tuple[str, ...] = ()

# min/max longer than this are dropped (kept as unknown) rather than stored: long
# strings bloat the catalog and a truncated max would be wrong.
_MAX_STAT_CHARS = 256


def encode_stat(value: Any) -> Any:
    """A statistics value as JSON: timestamps and dates as ISO strings."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
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


_EPOCH = dt.datetime(1970, 1, 1)
_MICROS_PER_UNIT = {"milliseconds": 1000, "microseconds": 1}


def _min_max(stats: pq.Statistics) -> tuple[Any, Any]:
    """A chunk's min and max as JSON values (see :func:`encode_stat`).

    Timestamps in micro- or milliseconds are converted from their raw int64 here:
    pyarrow's ``Statistics.min`` looks for pandas to box a timestamp, and importing
    pandas costs an ingest 0.3 s. The value is the one ``encode_stat(stats.min)`` gives.
    """
    logical = stats.logical_type
    if logical is not None and logical.type == "TIMESTAMP":
        unit = json.loads(logical.to_json()).get("timeUnit")
        factor = _MICROS_PER_UNIT.get(unit)
        if factor is not None:
            return tuple(encode_stat(_EPOCH + dt.timedelta(microseconds=raw * factor))
                         for raw in (stats.min_raw, stats.max_raw))
    return encode_stat(stats.min), encode_stat(stats.max)


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
                    lo, hi = _min_max(stats)
            if top in chunks:  # another leaf of a nested column: sizes add, ranges unknown
                chunks[top][0] += col.total_compressed_size
                chunks[top][1] = chunks[top][2] = chunks[top][3] = None
            else:
                chunks[top] = [col.total_compressed_size, lo, hi, nulls]
        row_groups.append([rg.num_rows, chunks])
    return DataFile(
        uri=uri,
        size=size,
        rows=meta.num_rows,
        footer_length=meta.serialized_size,
        row_groups=RowGroupStats(row_groups),
        partition_values=tuple(partition_values),
    )


@dataclass(frozen=True)
class Footer:
    """One file's parsed footer."""

    uri: str
    size: int
    metadata: pq.FileMetaData

    def data_file(self, partition_values: tuple[str, ...] = ()) -> DataFile:
        """The statistics the catalog keeps for this file."""
        return stats_from_metadata(self.uri, self.size, self.metadata, partition_values)

    def athena_columns(self) -> list[tuple[str, str]]:
        """(column, Athena type) of each top-level column, in file order, names lowercased."""
        return [(fld.name.lower(), athena_type(fld.type)) for fld in self.metadata.schema.to_arrow_schema()]

    def nanosecond_columns(self) -> tuple[str, ...]:
        """Leaf columns stored as INT64 nanosecond timestamps.

        Athena, Hive and Spark read INT64 timestamps in milli- or microseconds (and
        legacy INT96) but not nanoseconds; pyarrow writes nanoseconds when asked to.
        """
        found = []
        schema = self.metadata.schema
        for i in range(self.metadata.num_columns):
            logical = schema.column(i).logical_type
            if logical.type == "TIMESTAMP" and '"timeUnit": "nanoseconds"' in logical.to_json():
                found.append(schema.column(i).path)
        return tuple(found)

    def codec(self) -> str:
        """The compression codec of the first column chunk (``none`` when uncompressed)."""
        meta = self.metadata
        if not (meta.num_row_groups and meta.num_columns):
            return "none"
        codec = meta.row_group(0).column(0).compression.lower()
        return "none" if codec == "uncompressed" else codec


def read_footer(storage: Storage, uri: str) -> Footer:
    """Read a file's footer: its last :data:`FOOTER_GUESS` bytes usually hold all of it
    (one ranged GET on S3); a bigger footer takes a second read of exactly its length.

    Raises:
        InputError: the file is not Parquet (no ``PAR1`` magic, or a footer longer than
            the file). pyarrow's own errors (``ArrowInvalid``) pass through.
    """
    tail, size = storage.read_tail(uri, FOOTER_GUESS)
    if len(tail) < 12 or tail[-4:] != b"PAR1":
        raise InputError(f"{uri} is not a Parquet file (no PAR1 footer)")
    needed = int.from_bytes(tail[-8:-4], "little") + FOOTER_TRAILER
    if needed > len(tail):
        if needed > size:
            raise InputError(f"{uri}: Parquet footer length {needed} exceeds the file size {size}")
        tail, size = storage.read_tail(uri, needed)
    return Footer(uri, size, pq.read_metadata(pa.BufferReader(tail)))


def read_file_stats(storage: Storage, uri: str, partition_values: tuple[str, ...] = ()) -> DataFile:
    """Read one file's footer and return its statistics."""
    return read_footer(storage, uri).data_file(partition_values)
