"""The local catalog: one SQLite file shaped like the Glue Data Catalog.

Tables, partitions, per-file Parquet statistics and the load history live in one
file (``<warehouse>/_lakekit/catalog.db``), so one SQLite transaction makes an
ingest's catalog changes visible all at once.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
from collections.abc import Iterable, Sequence

from lakekit.catalog.base import (
    Column,
    DataFile,
    IngestCommit,
    Partition,
    Table,
    encode_row_groups,
    table_not_found,
)
from lakekit.errors import CatalogError
from lakekit.parquet import JsonBatch, RowGroupStats

SCHEMA = """
CREATE TABLE IF NOT EXISTS databases (
    name TEXT PRIMARY KEY,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tables (
    database TEXT NOT NULL REFERENCES databases(name),
    name TEXT NOT NULL,
    location TEXT NOT NULL,
    columns TEXT NOT NULL,          -- JSON [[name, athena type], ...]
    partition_keys TEXT NOT NULL,   -- JSON [[name, athena type], ...]
    parameters TEXT NOT NULL,       -- JSON {key: value}
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (database, name)
);
CREATE TABLE IF NOT EXISTS partitions (
    database TEXT NOT NULL,
    table_name TEXT NOT NULL,
    partition_values TEXT NOT NULL, -- JSON ["2024", "03", "07"]
    location TEXT NOT NULL,
    PRIMARY KEY (database, table_name, partition_values)
);
CREATE TABLE IF NOT EXISTS files (
    database TEXT NOT NULL,
    table_name TEXT NOT NULL,
    uri TEXT NOT NULL,
    partition_values TEXT NOT NULL,
    size INTEGER NOT NULL,
    rows INTEGER NOT NULL,
    footer_length INTEGER NOT NULL,
    row_groups TEXT NOT NULL,       -- JSON [[rows, {column: [compressed, min, max, nulls]}], ...]
    ingest_id TEXT,
    PRIMARY KEY (database, table_name, uri)
);
CREATE TABLE IF NOT EXISTS loads (
    database TEXT NOT NULL,
    table_name TEXT NOT NULL,
    source TEXT NOT NULL,
    source_hash TEXT NOT NULL,
    ingest_id TEXT NOT NULL,
    loaded_at TEXT NOT NULL,
    records_read INTEGER NOT NULL,
    records_written INTEGER NOT NULL,
    records_rejected INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS loads_by_hash ON loads (database, table_name, source_hash);
CREATE TABLE IF NOT EXISTS ingests (
    ingest_id TEXT PRIMARY KEY,
    database TEXT NOT NULL,
    table_name TEXT NOT NULL,
    committed_at TEXT NOT NULL
);
"""


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class LocalCatalog:
    """The SQLite catalog.

    >>> import tempfile, os
    >>> cat = LocalCatalog(os.path.join(tempfile.mkdtemp(), "catalog.db"))
    >>> cat.create_or_update_table(Table("db", "t", "/lake/db/t", [Column("x", "bigint")]))
    >>> [t.qualified_name for t in cat.list_tables()]
    ['db.t']
    """

    name = "local"

    def __init__(self, path: str, location: str | None = None):
        self.path = path
        #: what messages call this catalog: the warehouse it belongs to, else its file
        self.location = location or path
        try:
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            # isolation_level=None: transactions are explicit (BEGIN IMMEDIATE ... COMMIT).
            self._db = sqlite3.connect(path, isolation_level=None, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(SCHEMA)
        except sqlite3.DatabaseError as ex:
            raise CatalogError(f"cannot open local catalog {path}: {ex}; is it a lakekit catalog?") from ex

    def __repr__(self) -> str:
        return f"LocalCatalog({self.path!r})"

    def close(self) -> None:
        self._db.close()

    # -- helpers ---------------------------------------------------------------------------
    def _tx(self):
        return _Transaction(self._db)

    @staticmethod
    def _table_from_row(row) -> Table:
        db, name, location, columns, keys, params = row
        return Table(
            db,
            name,
            location,
            [Column(n, t) for n, t in json.loads(columns)],
            [Column(n, t) for n, t in json.loads(keys)],
            json.loads(params),
        )

    def _ensure_database(self, name: str) -> None:
        self._db.execute("INSERT OR IGNORE INTO databases VALUES (?, ?)", (name, _now()))

    def _upsert_table(self, table: Table) -> None:
        self._ensure_database(table.database)
        now = _now()
        self._db.execute(
            """INSERT INTO tables VALUES (?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (database, name) DO UPDATE SET location=excluded.location,
               columns=excluded.columns, partition_keys=excluded.partition_keys,
               parameters=excluded.parameters, updated_at=excluded.updated_at""",
            (
                table.database,
                table.name,
                table.location,
                json.dumps([[c.name, c.type] for c in table.columns]),
                json.dumps([[c.name, c.type] for c in table.partition_keys]),
                json.dumps(table.parameters, sort_keys=True),
                now,
                now,
            ),
        )

    def _put_partitions(self, db: str, name: str, partitions: Sequence[Partition]) -> None:
        self._db.executemany(
            "INSERT OR REPLACE INTO partitions VALUES (?, ?, ?, ?)",
            [(db, name, json.dumps(list(p.values)), p.location) for p in partitions],
        )

    def _put_files(self, db: str, name: str, files: Sequence[DataFile], ingest_id: str | None) -> None:
        self._db.executemany(
            "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    db,
                    name,
                    f.uri,
                    json.dumps(list(f.partition_values)),
                    f.size,
                    f.rows,
                    f.footer_length,
                    encode_row_groups(f.row_groups),
                    ingest_id,
                )
                for f in files
            ],
        )

    def _require(self, database: str, name: str) -> None:
        row = self._db.execute("SELECT 1 FROM tables WHERE database = ? AND name = ?", (database, name)).fetchone()
        if row is None:
            raise table_not_found(self, database, name)

    # -- Catalog protocol ----------------------------------------------------------------
    def list_databases(self) -> list[str]:
        return [r[0] for r in self._db.execute("SELECT name FROM databases ORDER BY name")]

    def list_tables(self, database: str | None = None) -> list[Table]:
        sql = "SELECT database, name, location, columns, partition_keys, parameters FROM tables"
        args: tuple = ()
        if database is not None:
            sql += " WHERE database = ?"
            args = (database,)
        return [self._table_from_row(r) for r in self._db.execute(sql + " ORDER BY database, name", args)]

    def get_table(self, database: str, name: str) -> Table | None:
        row = self._db.execute(
            "SELECT database, name, location, columns, partition_keys, parameters FROM tables"
            " WHERE database = ? AND name = ?",
            (database, name),
        ).fetchone()
        return self._table_from_row(row) if row else None

    def create_or_update_table(self, table: Table) -> None:
        with self._tx():
            self._upsert_table(table)

    def drop_table(self, database: str, name: str) -> None:
        with self._tx():
            for tbl in ("tables", "partitions", "files", "loads"):
                column = "name" if tbl == "tables" else "table_name"
                self._db.execute(f"DELETE FROM {tbl} WHERE database = ? AND {column} = ?", (database, name))

    def list_partitions(self, database: str, name: str) -> list[Partition]:
        self._require(database, name)
        rows = self._db.execute(
            "SELECT partition_values, location FROM partitions WHERE database = ? AND table_name = ?"
            " ORDER BY partition_values",
            (database, name),
        )
        return [Partition(tuple(json.loads(v)), loc) for v, loc in rows]

    def add_partitions(self, database: str, name: str, partitions: Sequence[Partition]) -> None:
        self._require(database, name)
        with self._tx():
            self._put_partitions(database, name, partitions)

    def delete_partitions(self, database: str, name: str, values: Iterable[tuple[str, ...]]) -> None:
        self._require(database, name)
        with self._tx():
            for v in values:
                key = json.dumps(list(v))
                self._db.execute(
                    "DELETE FROM partitions WHERE database = ? AND table_name = ? AND partition_values = ?",
                    (database, name, key),
                )
                self._db.execute(
                    "DELETE FROM files WHERE database = ? AND table_name = ? AND partition_values = ?",
                    (database, name, key),
                )

    def list_files(self, database: str, name: str,
                   partitions: Iterable[Sequence[str]] | None = None) -> list[DataFile]:
        self._require(database, name)
        sql = ("SELECT uri, size, rows, footer_length, row_groups, partition_values FROM files"
               " WHERE database = ? AND table_name = ?")
        if partitions is None:
            rows = list(self._db.execute(sql + " ORDER BY uri", (database, name)))
        else:
            # Only the wanted partitions' statistics are decoded: on a table of thousands
            # of files, decoding them all would dominate an estimate.
            keys = [json.dumps(list(v)) for v in partitions]
            rows = []
            for i in range(0, len(keys), 500):
                chunk = keys[i : i + 500]
                marks = ",".join("?" * len(chunk))
                rows.extend(self._db.execute(f"{sql} AND partition_values IN ({marks})", (database, name, *chunk)))
            rows.sort(key=lambda r: r[0])
        # the row groups of all the files are decoded together, and only when asked for
        batch = JsonBatch([r[4] for r in rows])
        values: dict[str, tuple[str, ...]] = {}  # a partition's files share its values: decode each once
        for r in rows:
            if r[5] not in values:
                values[r[5]] = tuple(json.loads(r[5]))
        return [
            DataFile(uri, size, nrows, footer, RowGroupStats(batch=batch, index=i), values[pv])
            for i, (uri, size, nrows, footer, _, pv) in enumerate(rows)
        ]

    def writable(self) -> bool:
        """The file and its folder (SQLite writes its journal beside it) can be written."""
        folder = os.path.dirname(os.path.abspath(self.path))
        return os.access(self.path, os.W_OK) and os.access(folder, os.W_OK)

    def put_files(self, database: str, name: str, files: Sequence[DataFile]) -> None:
        self._require(database, name)
        with self._tx():
            self._put_files(database, name, files, None)

    def delete_files(self, database: str, name: str, uris: Iterable[str]) -> None:
        self._require(database, name)
        with self._tx():
            self._db.executemany(
                "DELETE FROM files WHERE database = ? AND table_name = ? AND uri = ?",
                [(database, name, u) for u in uris],
            )

    def loaded_hashes(self, database: str, name: str) -> set[str]:
        rows = self._db.execute(
            "SELECT source_hash FROM loads WHERE database = ? AND table_name = ?", (database, name)
        )
        return {r[0] for r in rows}

    def is_committed(self, ingest_id: str) -> bool:
        row = self._db.execute("SELECT 1 FROM ingests WHERE ingest_id = ?", (ingest_id,)).fetchone()
        return row is not None

    def commit_ingest(self, commit: IngestCommit) -> None:
        t = commit.table
        with self._tx():
            self._upsert_table(t)
            for values in commit.replaced_partitions:
                self._db.execute(
                    "DELETE FROM files WHERE database = ? AND table_name = ? AND partition_values = ?",
                    (t.database, t.name, json.dumps(list(values))),
                )
            self._put_partitions(t.database, t.name, commit.partitions)
            self._put_files(t.database, t.name, commit.files, commit.ingest_id)
            self._db.executemany(
                "INSERT INTO loads VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        t.database,
                        t.name,
                        ld.source,
                        ld.source_hash,
                        ld.ingest_id,
                        ld.loaded_at.isoformat(),
                        ld.records_read,
                        ld.records_written,
                        ld.records_rejected,
                    )
                    for ld in commit.loads
                ],
            )
            self._db.execute(
                "INSERT INTO ingests VALUES (?, ?, ?, ?)", (commit.ingest_id, t.database, t.name, _now())
            )


class _Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled back on any exception."""

    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self):
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as ex:
            raise CatalogError(f"cannot lock the local catalog: {ex}") from ex
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            try:
                self.db.execute("COMMIT")
            except sqlite3.Error as ex:
                self.db.execute("ROLLBACK")
                raise CatalogError(f"local catalog commit failed: {ex}") from ex
        else:
            self.db.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise CatalogError(f"local catalog update failed: {exc}") from exc
        return False
