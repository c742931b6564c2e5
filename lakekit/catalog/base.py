"""The catalog's data model and the protocol every backend implements.

The model follows the AWS Glue Data Catalog (databases, tables with columns,
partition keys and parameters, partitions with values and locations) and adds what
Glue cannot hold: the load history that makes ingest idempotent, and per-file Parquet
statistics that make cost estimates exact without reading data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Iterable, Protocol, Sequence, runtime_checkable


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # Athena type name: bigint, double, string, timestamp, boolean, date, ...


@dataclass(frozen=True)
class ColumnChunk:
    """One column of one row group: what a columnar reader fetches for that column."""

    compressed_size: int
    min: Any = None  # JSON-friendly; decode with lakekit.parquet_stats.decode_stat
    max: Any = None
    null_count: int | None = None


@dataclass(frozen=True)
class RowGroup:
    rows: int
    columns: dict[str, ColumnChunk]


@dataclass(frozen=True)
class DataFile:
    """A Parquet file of a table, with the footer facts cost estimation needs."""

    uri: str
    size: int
    rows: int
    footer_length: int  # serialized Thrift footer; a reader fetches footer_length + 8 bytes
    row_groups: tuple[RowGroup, ...]
    partition_values: tuple[str, ...] = ()


@dataclass(frozen=True)
class Partition:
    values: tuple[str, ...]
    location: str


@dataclass
class Table:
    database: str
    name: str
    location: str
    columns: list[Column]
    partition_keys: list[Column] = field(default_factory=list)
    #: Glue-style table parameters: classification, compression, lakekit.timestamp_column,
    #: projection.* settings ...
    parameters: dict[str, str] = field(default_factory=dict)

    @property
    def qualified_name(self) -> str:
        return f"{self.database}.{self.name}"

    @property
    def timestamp_column(self) -> str | None:
        return self.parameters.get("lakekit.timestamp_column")

    def column(self, name: str) -> Column | None:
        for col in (*self.columns, *self.partition_keys):
            if col.name == name:
                return col
        return None


@dataclass(frozen=True)
class Load:
    """One source ingested into a table: the record that makes re-ingest a no-op."""

    source: str
    source_hash: str
    ingest_id: str
    loaded_at: dt.datetime
    records_read: int
    records_written: int
    records_rejected: int


@dataclass
class IngestCommit:
    """Everything one ingest changes, applied by :meth:`Catalog.commit_ingest` at once."""

    table: Table
    ingest_id: str
    partitions: list[Partition]
    files: list[DataFile]
    loads: list[Load]
    #: partitions whose existing files this commit replaces (overwrite-partitions)
    replaced_partitions: list[tuple[str, ...]] = field(default_factory=list)


@runtime_checkable
class Catalog(Protocol):
    """What lakekit needs of a catalog. ``local`` (SQLite) and ``glue`` implement it."""

    name: str  # "local" or "glue", for messages

    def list_databases(self) -> list[str]: ...

    def list_tables(self, database: str | None = None) -> list[Table]: ...

    def get_table(self, database: str, name: str) -> Table | None: ...

    def create_or_update_table(self, table: Table) -> None: ...

    def drop_table(self, database: str, name: str) -> None: ...

    def list_partitions(self, database: str, name: str) -> list[Partition]: ...

    def add_partitions(self, database: str, name: str, partitions: Sequence[Partition]) -> None:
        """Register partitions, updating the location of those already there."""

    def delete_partitions(self, database: str, name: str, values: Iterable[tuple[str, ...]]) -> None: ...

    def list_files(self, database: str, name: str,
                   partitions: Iterable[Sequence[str]] | None = None) -> list[DataFile]:
        """Per-file statistics recorded for the table (empty when none are known),
        only those of ``partitions`` (tuples of partition values) when given."""

    def put_files(self, database: str, name: str, files: Sequence[DataFile]) -> None:
        """Record (or replace, by URI) file statistics, e.g. after a crawl or footer read."""

    def delete_files(self, database: str, name: str, uris: Iterable[str]) -> None: ...

    def loaded_hashes(self, database: str, name: str) -> set[str]:
        """Content hashes of every source already ingested into the table."""

    def is_committed(self, ingest_id: str) -> bool:
        """True when the ingest with this id has committed (used by crash recovery)."""

    def commit_ingest(self, commit: IngestCommit) -> None:
        """Apply one ingest's table, partition, file and load changes all or nothing."""

    def close(self) -> None: ...
