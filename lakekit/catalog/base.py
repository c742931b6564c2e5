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
from lakekit.storage import Storage

__all__ = [
    "Catalog",
    "Column",
    "ColumnChunk",
    "DataFile",
    "APPEND",
    "OVERWRITE",
    "REPLACE_FILES",
    "Commit",
    "CommitResult",
    "PartitionChange",
    "carried_files",
    "merge_columns",
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
    def home(self) -> str:
        """The table's own folder: where its commits make their folders. For a
        partitioned table its location; an unpartitioned table's location moves with
        each commit, so its home is kept as a parameter."""
        return self.parameters.get("lakekit.home") or self.location

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


#: what a partition change does to the files the partition holds when it commits
APPEND, OVERWRITE, REPLACE_FILES = "append", "overwrite", "replace-files"


@dataclass(frozen=True)
class PartitionChange:
    """One partition's part of a commit: the files written into a new folder, and
    what becomes of the files the partition holds.

    ``location`` is the new folder (``<home>/<commit-id>/k=v/...``), where ``added``
    were written and no reader looks yet. At the commit point the partition's files
    become ``(current - replaced) + added``, carried into ``location`` (hard links or
    server-side copies), and the catalog points the partition at ``location``.

    - ``append``: nothing is replaced;
    - ``overwrite``: every current file is replaced (``--mode overwrite-partitions``);
    - ``replace-files``: exactly ``replaced`` (compaction inputs, matched by file name,
      so files an append carried into another folder meanwhile still match); when one
      of them is gone by the commit point (a racer replaced it), the change is dropped.

    ``values`` is ``()`` for an unpartitioned table, whose location then moves.
    """

    values: tuple[str, ...]
    location: str
    added: tuple[DataFile, ...]
    mode: str = APPEND
    replaced: frozenset[str] = frozenset()


@dataclass
class Commit:
    """Everything one commit changes, applied by :meth:`Catalog.commit` all or nothing
    (per partition on Glue, see ``docs/ingest.md``)."""

    #: the table's definition as the writer knows it; new columns are merged into the
    #: catalog's at the commit point (a racer may have added others)
    table: Table
    commit_id: str
    changes: list[PartitionChange]
    loads: list[Load] = field(default_factory=list)
    #: "ingest" or "compact", for the log and messages
    kind: str = "ingest"
    #: how long superseded files stay readable for queries that already listed them
    retain_seconds: float = 3600.0
    #: refuse the commit when a load's source hash is already loaded (False: ``--force``)
    check_hashes: bool = True


@dataclass
class CommitResult:
    """What :meth:`Catalog.commit` did."""

    committed: bool
    #: source hashes already loaded by a racing commit: nothing was committed then
    duplicate_hashes: set[str] = field(default_factory=set)
    #: partitions left out because a file they replace was replaced first
    dropped: list[tuple[str, ...]] = field(default_factory=list)
    #: files the commit superseded, deleted once their retention has passed
    superseded: list[str] = field(default_factory=list)
    #: said to the user, e.g. Glue did not take the new locations after the commit point
    warnings: list[str] = field(default_factory=list)
    #: committed, but something is left for the next writer to finish (a Glue
    #: publication that failed): the commit stays recorded as pending until then
    unfinished: bool = False


def carried_files(current: Sequence[DataFile], change: PartitionChange) -> list[DataFile] | None:
    """The current files a change keeps (they move to its location with it), or None
    when the change can no longer apply (a file it replaces is gone).

    >>> f = lambda u: DataFile(u, 1, 1, 1, ())
    >>> [x.uri for x in carried_files([f("/a"), f("/b")], PartitionChange((), "/n", ()))]
    ['/a', '/b']
    >>> carried_files([f("/a")], PartitionChange((), "/n", (), REPLACE_FILES, frozenset({"/b"}))) is None
    True
    >>> compaction = PartitionChange((), "/n", (), REPLACE_FILES, frozenset({"/c1/a"}))
    >>> [x.uri for x in carried_files([f("/c2/a"), f("/c2/b")], compaction)]
    ['/c2/b']
    """
    if change.mode == OVERWRITE:
        return []
    if change.mode == REPLACE_FILES:
        # By name: a file's name is unique in its table (it carries the id of the commit
        # that wrote it) and stays when a commit carries it into a new folder, so an
        # append that moved the partition meanwhile does not make the change stale.
        names = {_name(f.uri) for f in current}
        replaced = {_name(u) for u in change.replaced}
        if not replaced <= names:
            return None
        return [f for f in current if _name(f.uri) not in replaced]
    return list(current)


def _name(uri: str) -> str:
    return uri.replace("\\", "/").rsplit("/", 1)[-1]


def merge_columns(catalog_columns: Sequence[Column], writer_columns: Sequence[Column], table: str) -> list[Column]:
    """The catalog's columns plus the ones the writer added, in order; a column both
    added with different types cannot be committed (the files disagree).

    >>> [c.name for c in merge_columns([Column("a", "bigint")], [Column("a", "bigint"), Column("b", "string")], "t")]
    ['a', 'b']
    """
    from lakekit.errors import CatalogError

    known = {c.name: c for c in catalog_columns}
    out = list(catalog_columns)
    for col in writer_columns:
        have = known.get(col.name)
        if have is None:
            out.append(col)
            known[col.name] = col
        elif have.type != col.type:
            raise CatalogError(
                f"column {col.name} of {table} was added as {have.type} by a commit that ran at the same time, "
                f"but this one writes it as {col.type}; nothing was committed, run it again"
            )
    return out


@runtime_checkable
class Catalog(Protocol):
    """What lakekit needs of a catalog. ``local`` (SQLite) and ``glue`` implement it."""

    name: str  # "local" or "glue", for messages
    #: opened for reading only: every method that writes raises CatalogError
    read_only: bool
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
        """Per-file statistics of the files the table's readers read (empty when none are
        known), only those of ``partitions`` when given: tuples of partition values, or
        the :class:`Partition` objects a plan listed (their locations are then used)."""

    def put_files(self, database: str, name: str, files: Sequence[DataFile]) -> None:
        """Record (or replace, by URI) file statistics, e.g. after a crawl or footer read."""

    def writable(self) -> bool:
        """Whether this process may write the catalog (read-only use must write nothing);
        a catalog that says True may still refuse a write with CatalogError."""

    def delete_files(self, database: str, name: str, uris: Iterable[str]) -> None: ...

    def loaded_hashes(self, database: str, name: str) -> set[str]:
        """Content hashes of every source already ingested into the table."""

    def is_committed(self, commit_id: str, home: str | None = None) -> bool:
        """True when the commit with this id has committed (used by crash recovery);
        ``home``, the folder of the table it committed to, is where Glue's log is."""

    def commit(self, commit: Commit, storage: Storage) -> CommitResult:
        """Apply one commit: the hash check, the partition switches, the files, the
        loads, at one commit point. See :mod:`lakekit.ingestion.commit`."""

    def finish(self, commit_id: str, table: str, home: str | None) -> list[str]:
        """Finish what a killed writer left after its commit point (Glue: publish);
        returns warnings."""

    def garbage_due(self, table: Table | None = None) -> list[str]:
        """Superseded files whose retention has passed (of ``table``, or of every table)."""

    def forget_garbage(self, uris: Sequence[str], table: Table | None = None) -> None:
        """Record that these superseded files are deleted."""

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
