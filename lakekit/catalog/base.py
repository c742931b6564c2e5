"""The catalog's data model, the protocol every backend implements, and its codec.

The protocol is a contract, not a list of names: ``tests/catalog/test_contract.py``
runs the same cases on every backend. In each one a missing table raises
:class:`~lakekit.errors.TableNotFound` from the methods that need the table
(``get_table`` answers ``None`` and ``loaded_hashes`` an empty set instead: asking
whether a table exists, or what it holds before its first ingest, is not an error),
and an ingest commit is seen whole or not at all by every reader.

The model follows the AWS Glue Data Catalog (databases, tables with columns,
partition keys and parameters, partitions with values and locations) and adds what
Glue cannot hold: the load history that makes ingest idempotent, and per-file Parquet
statistics that make cost estimates exact without reading data.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from lakekit.errors import TableNotFound
from lakekit.parquet import ColumnChunk, DataFile, RowGroup, RowGroupStats, raw_row_groups

__all__ = [
    "Catalog",
    "Column",
    "ColumnChunk",
    "DataFile",
    "IngestCommit",
    "Load",
    "Partition",
    "RowGroup",
    "Table",
    "decode_file",
    "decode_load",
    "decode_row_groups",
    "encode_file",
    "encode_load",
    "encode_row_groups",
    "require_table",
    "table_not_found",
]


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # Athena type name: bigint, double, string, timestamp, boolean, date, ...


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
    #: where the catalog is, for messages: the warehouse (or SQLite file) of a local
    #: catalog, the region of Glue
    location: str

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

    def writable(self) -> bool:
        """Whether this process may write the catalog (read-only use must write nothing);
        a catalog that says True may still refuse a write with CatalogError."""

    def delete_files(self, database: str, name: str, uris: Iterable[str]) -> None: ...

    def loaded_hashes(self, database: str, name: str) -> set[str]:
        """Content hashes of every source already ingested into the table."""

    def is_committed(self, ingest_id: str) -> bool:
        """True when the ingest with this id has committed (used by crash recovery)."""

    def commit_ingest(self, commit: IngestCommit) -> None:
        """Apply one ingest's table, partition, file and load changes all or nothing."""

    def close(self) -> None: ...


def table_not_found(catalog: Catalog, database: str, name: str) -> TableNotFound:
    """The error for a missing table, naming the catalog and the closest existing table.

    ``table analytics.evnts not found in catalog local (./lake); did you mean analytics.events?``
    """
    try:
        names = [t.qualified_name for t in catalog.list_tables()]
    except Exception:  # noqa: BLE001 - the hint is optional; the missing table is the error
        names = []
    close = difflib.get_close_matches(f"{database}.{name}", names, n=1)
    hint = f"; did you mean {close[0]}?" if close else "; `lakekit tables` lists the tables"
    where = getattr(catalog, "location", "")
    place = f" ({where})" if where else ""
    return TableNotFound(f"table {database}.{name} not found in catalog {catalog.name}{place}{hint}")


def require_table(catalog: Catalog, database: str, name: str) -> Table:
    """The table, or :class:`TableNotFound` naming the closest existing table."""
    table = catalog.get_table(database, name)
    if table is None:
        raise table_not_found(catalog, database, name)
    return table


# -- the codec: how every backend stores file statistics and loads as JSON ------------------
def encode_row_groups(row_groups: Sequence[RowGroup]) -> str:
    return json.dumps(raw_row_groups(row_groups), separators=(",", ":"))


def decode_row_groups(text: str | list) -> RowGroupStats:
    """Row groups from their stored form (JSON text or decoded lists), decoded lazily."""
    return RowGroupStats(json.loads(text) if isinstance(text, str) else text)


def encode_file(f: DataFile) -> list:
    """A file's statistics as one JSON array (the Glue manifest's form)."""
    return [f.uri, f.size, f.rows, f.footer_length, list(f.partition_values), raw_row_groups(f.row_groups)]


def decode_file(item: list) -> DataFile:
    uri, size, rows, footer, values, rgs = item
    return DataFile(uri, size, rows, footer, decode_row_groups(rgs), tuple(values))


def encode_load(ld: Load) -> dict[str, Any]:
    return {
        "source": ld.source,
        "source_hash": ld.source_hash,
        "ingest_id": ld.ingest_id,
        "loaded_at": ld.loaded_at.isoformat(),
        "records_read": ld.records_read,
        "records_written": ld.records_written,
        "records_rejected": ld.records_rejected,
    }


def decode_load(ld: dict[str, Any]) -> Load:
    return Load(ld["source"], ld["source_hash"], ld["ingest_id"], dt.datetime.fromisoformat(ld["loaded_at"]),
                ld["records_read"], ld["records_written"], ld["records_rejected"])
