"""The local catalog: one SQLite file shaped like the Glue Data Catalog.

Tables, partitions, per-file Parquet statistics, the load history and the files a
commit superseded live in one file (``<warehouse>/_lakekit/catalog.db``), so one
SQLite transaction makes a commit visible to every reader at once: the hash check,
the partition switches and the loads happen inside it (:meth:`LocalCatalog.commit`).

Locations and file URIs under the warehouse are stored relative to it, so a copied
warehouse (``cp -r lake lake2``) is a lake of its own. Read-only commands open the
file read-only (``mode=ro``; ``immutable=1`` on a read-only filesystem where a WAL
database cannot be opened otherwise) and never create it: a missing catalog reads as
an empty one. A file that exists but is not a lakekit catalog (a 0-byte file left by a
full disk, say) is an error naming it, never a fresh catalog over old data.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sqlite3
import tempfile
import time
from collections.abc import Iterable, Sequence

from lakekit.catalog.base import (
    Column,
    Commit,
    CommitResult,
    DataFile,
    Partition,
    Table,
    carried_files,
    encode_row_groups,
    merge_columns,
    table_not_found,
)
from lakekit.errors import CatalogError
from lakekit.parquet import JsonBatch, RowGroupStats
from lakekit.paths import is_s3, join
from lakekit.pause import pause_point
from lakekit.storage import Storage

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
    ingest_id TEXT PRIMARY KEY,     -- every commit's id (ingest or compaction)
    database TEXT NOT NULL,
    table_name TEXT NOT NULL,
    committed_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS garbage (
    database TEXT NOT NULL,
    table_name TEXT NOT NULL,
    uri TEXT NOT NULL,              -- a file a commit superseded
    delete_after REAL NOT NULL,     -- unix time: readers that listed it before are done
    PRIMARY KEY (database, table_name, uri)
);
"""
#: the tables every lakekit catalog has; a file without them is not one
REQUIRED_TABLES = {"tables", "partitions", "files", "loads", "ingests"}


class LocalCatalog:
    """The SQLite catalog.

    >>> import tempfile, os
    >>> cat = LocalCatalog(os.path.join(tempfile.mkdtemp(), "catalog.db"))
    >>> cat.create_or_update_table(Table("db", "t", "/lake/db/t", [Column("x", "bigint")]))
    >>> [t.qualified_name for t in cat.list_tables()]
    ['db.t']
    """

    name = "local"

    def __init__(self, path: str, location: str | None = None, *, warehouse: str | None = None,
                 read_only: bool = False):
        self.path = path
        #: what messages call this catalog: the warehouse it belongs to, else its file
        self.location = location or path
        self.read_only = read_only
        #: paths under this folder are stored relative to it (None: all absolute)
        self.root = _warehouse_root(path, warehouse)
        self._db: sqlite3.Connection | None = None
        if read_only:
            self._open_read_only()
        else:
            self._open_writable()

    # -- opening ---------------------------------------------------------------------------
    def _open_writable(self) -> None:
        path = self.path
        try:
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            if not os.path.exists(path):
                _create(path)
            _check_not_empty(path)
            # isolation_level=None: transactions are explicit (BEGIN IMMEDIATE ... COMMIT).
            self._db = sqlite3.connect(path, isolation_level=None, timeout=60)
            _check_is_catalog(self._db, path)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(SCHEMA)  # tables added since the catalog was made
        except sqlite3.DatabaseError as ex:
            raise CatalogError(f"cannot open local catalog {path}: {ex}; is it a lakekit catalog?") from ex
        except OSError as ex:
            raise CatalogError(f"cannot create local catalog {path}: {ex}") from ex

    def _open_read_only(self) -> None:
        path = self.path
        if not os.path.exists(path):
            return  # nothing ingested here yet: an empty catalog, and none is created
        _check_not_empty(path)
        uri = f"file:{os.path.abspath(path)}?mode=ro"
        try:
            self._db = _connect_ro(uri)
        except sqlite3.OperationalError:
            if _writable_folder(os.path.dirname(os.path.abspath(path))):
                raise CatalogError(f"cannot open local catalog {path} for reading") from None
            # A WAL database on a read-only filesystem: SQLite cannot make its shared-memory
            # file, but nothing can write there either, so reading it as immutable is exact.
            try:
                self._db = _connect_ro(uri + "&immutable=1")
            except sqlite3.DatabaseError as ex:
                raise CatalogError(f"cannot open local catalog {path} for reading: {ex}") from ex
        except sqlite3.DatabaseError as ex:
            raise CatalogError(f"cannot open local catalog {path}: {ex}; is it a lakekit catalog?") from ex
        _check_is_catalog(self._db, path)

    def __repr__(self) -> str:
        return f"LocalCatalog({self.path!r})"

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    # -- helpers ---------------------------------------------------------------------------
    def _rows(self, sql: str, args: Sequence = ()) -> list[tuple]:
        if self._db is None:
            return []
        try:
            return self._db.execute(sql, args).fetchall()
        except sqlite3.DatabaseError as ex:
            raise CatalogError(f"cannot read local catalog {self.path}: {ex}") from ex

    def _tx(self):
        if self.read_only or self._db is None:
            raise CatalogError(f"local catalog {self.path} is open read-only; this command does not change it")
        return _Transaction(self._db)

    def _store(self, uri: str) -> str:
        """A location or file URI as stored: relative when under the warehouse."""
        if self.root and not is_s3(uri):
            absolute = os.path.abspath(uri)
            if absolute.startswith(self.root + os.sep):
                return os.path.relpath(absolute, self.root).replace(os.sep, "/")
        return uri

    def _load(self, stored: str) -> str:
        if self.root and not is_s3(stored) and not os.path.isabs(stored):
            return join(self.root, *stored.split("/"))
        return stored

    def _table_from_row(self, row) -> Table:
        db, name, location, columns, keys, params = row
        parameters = json.loads(params)
        if "lakekit.home" in parameters:
            parameters["lakekit.home"] = self._load(parameters["lakekit.home"])
        return Table(
            db,
            name,
            self._load(location),
            [Column(n, t) for n, t in json.loads(columns)],
            [Column(n, t) for n, t in json.loads(keys)],
            parameters,
        )

    def _ensure_database(self, name: str) -> None:
        self._db.execute("INSERT OR IGNORE INTO databases VALUES (?, ?)", (name, _now()))

    def _upsert_table(self, table: Table) -> None:
        self._ensure_database(table.database)
        now = _now()
        parameters = dict(table.parameters)
        if "lakekit.home" in parameters:
            parameters["lakekit.home"] = self._store(parameters["lakekit.home"])
        self._db.execute(
            """INSERT INTO tables VALUES (?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (database, name) DO UPDATE SET location=excluded.location,
               columns=excluded.columns, partition_keys=excluded.partition_keys,
               parameters=excluded.parameters, updated_at=excluded.updated_at""",
            (
                table.database,
                table.name,
                self._store(table.location),
                json.dumps([[c.name, c.type] for c in table.columns]),
                json.dumps([[c.name, c.type] for c in table.partition_keys]),
                json.dumps(parameters, sort_keys=True),
                now,
                now,
            ),
        )

    def _put_partitions(self, db: str, name: str, partitions: Sequence[Partition]) -> None:
        self._db.executemany(
            "INSERT OR REPLACE INTO partitions VALUES (?, ?, ?, ?)",
            [(db, name, json.dumps(list(p.values)), self._store(p.location)) for p in partitions],
        )

    def _put_files(self, db: str, name: str, files: Sequence[DataFile], ingest_id: str | None) -> None:
        self._db.executemany(
            "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    db,
                    name,
                    self._store(f.uri),
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

    def _file(self, row) -> DataFile:
        uri, size, nrows, footer, rgs, pv = row
        stats = RowGroupStats(batch=JsonBatch([rgs]), index=0)
        return DataFile(self._load(uri), size, nrows, footer, stats, tuple(json.loads(pv)))

    def _require(self, database: str, name: str) -> None:
        if not self._rows("SELECT 1 FROM tables WHERE database = ? AND name = ?", (database, name)):
            raise table_not_found(self, database, name)

    # -- Catalog protocol ----------------------------------------------------------------
    def list_databases(self) -> list[str]:
        return [r[0] for r in self._rows("SELECT name FROM databases ORDER BY name")]

    def list_tables(self, database: str | None = None) -> list[Table]:
        sql = "SELECT database, name, location, columns, partition_keys, parameters FROM tables"
        args: tuple = ()
        if database is not None:
            sql += " WHERE database = ?"
            args = (database,)
        return [self._table_from_row(r) for r in self._rows(sql + " ORDER BY database, name", args)]

    def get_table(self, database: str, name: str) -> Table | None:
        rows = self._rows(
            "SELECT database, name, location, columns, partition_keys, parameters FROM tables"
            " WHERE database = ? AND name = ?",
            (database, name),
        )
        return self._table_from_row(rows[0]) if rows else None

    def create_or_update_table(self, table: Table) -> None:
        with self._tx():
            self._upsert_table(table)

    def drop_table(self, database: str, name: str) -> None:
        with self._tx():
            for tbl in ("tables", "partitions", "files", "loads", "garbage"):
                column = "name" if tbl == "tables" else "table_name"
                self._db.execute(f"DELETE FROM {tbl} WHERE database = ? AND {column} = ?", (database, name))

    def list_partitions(self, database: str, name: str) -> list[Partition]:
        self._require(database, name)
        rows = self._rows(
            "SELECT partition_values, location FROM partitions WHERE database = ? AND table_name = ?"
            " ORDER BY partition_values",
            (database, name),
        )
        return [Partition(tuple(json.loads(v)), self._load(loc)) for v, loc in rows]

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
            rows = self._rows(sql + " ORDER BY uri", (database, name))
        else:
            # Only the wanted partitions' statistics are decoded: on a table of thousands
            # of files, decoding them all would dominate an estimate.
            keys = [json.dumps(list(getattr(v, "values", v))) for v in partitions]
            rows = []
            for i in range(0, len(keys), 500):
                chunk = keys[i : i + 500]
                marks = ",".join("?" * len(chunk))
                rows.extend(self._rows(f"{sql} AND partition_values IN ({marks})", (database, name, *chunk)))
            rows.sort(key=lambda r: r[0])
        # the row groups of all the files are decoded together, and only when asked for
        batch = JsonBatch([r[4] for r in rows])
        values: dict[str, tuple[str, ...]] = {}  # a partition's files share its values: decode each once
        for r in rows:
            if r[5] not in values:
                values[r[5]] = tuple(json.loads(r[5]))
        return [
            DataFile(self._load(uri), size, nrows, footer, RowGroupStats(batch=batch, index=i), values[pv])
            for i, (uri, size, nrows, footer, _, pv) in enumerate(rows)
        ]

    def writable(self) -> bool:
        """Whether this catalog may be written: opened for writing, and the file and its
        folder (SQLite writes its journal beside it) can be written."""
        folder = os.path.dirname(os.path.abspath(self.path))
        return not self.read_only and os.access(self.path, os.W_OK) and os.access(folder, os.W_OK)

    def put_files(self, database: str, name: str, files: Sequence[DataFile]) -> None:
        self._require(database, name)
        with self._tx():
            self._put_files(database, name, files, None)

    def delete_files(self, database: str, name: str, uris: Iterable[str]) -> None:
        self._require(database, name)
        with self._tx():
            self._db.executemany(
                "DELETE FROM files WHERE database = ? AND table_name = ? AND uri = ?",
                [(database, name, self._store(u)) for u in uris],
            )

    def loaded_hashes(self, database: str, name: str) -> set[str]:
        rows = self._rows("SELECT source_hash FROM loads WHERE database = ? AND table_name = ?", (database, name))
        return {r[0] for r in rows}

    def is_committed(self, commit_id: str, home: str | None = None) -> bool:
        return bool(self._rows("SELECT 1 FROM ingests WHERE ingest_id = ?", (commit_id,)))

    def finish(self, commit_id: str, table: str, home: str | None) -> list[str]:
        return []  # the transaction did everything; nothing is left after it

    # -- commits ---------------------------------------------------------------------------
    def commit(self, commit: Commit, storage: Storage) -> CommitResult:
        """One transaction: the hash check, the partitions rebased on what they hold now,
        the switch to the new locations, files, loads and garbage, all or nothing.

        ``BEGIN IMMEDIATE`` takes the write lock first, so racing commits run one after
        another and each sees what the one before it committed.
        """
        t = commit.table
        try:
            with self._tx():
                pause_point("commit-locked")
                duplicates = self._loaded_among(t, commit)
                if duplicates:
                    raise _Duplicate(duplicates)
                result = CommitResult(committed=True)
                current = self.get_table(t.database, t.name)
                applied = self._apply_changes(commit, current, storage, result)
                if not applied and not commit.loads:
                    raise _NothingLeft(result)
                self._upsert_table(self._merged_table(t, current, commit))
                self._insert_loads(t, commit)
                self._db.execute("INSERT INTO ingests VALUES (?, ?, ?, ?)",
                                 (commit.commit_id, t.database, t.name, _now()))
                pause_point("commit-applied")
        except _Duplicate as dup:
            return CommitResult(committed=False, duplicate_hashes=dup.hashes)
        except _NothingLeft as nothing:
            return CommitResult(committed=False, dropped=nothing.result.dropped)
        return result

    def _loaded_among(self, t: Table, commit: Commit) -> set[str]:
        wanted = {ld.source_hash for ld in commit.loads if ld.source_hash}
        if not wanted or not commit.check_hashes:
            return set()
        return wanted & self.loaded_hashes(t.database, t.name)

    def _merged_table(self, t: Table, current: Table | None, commit: Commit) -> Table:
        if current is None:
            merged = Table(t.database, t.name, t.location, list(t.columns), list(t.partition_keys), dict(t.parameters))
        else:
            columns = merge_columns(current.columns, t.columns, t.qualified_name)
            merged = Table(t.database, t.name, current.location, columns, list(t.partition_keys),
                           {**current.parameters, **t.parameters})
        if not t.partition_keys and commit.changes:
            # an unpartitioned table's data moves with each commit; its home stays
            merged.parameters["lakekit.home"] = t.home
            applied = [c for c in commit.changes if c.values == ()]
            if applied:
                merged.location = applied[-1].location
        return merged

    def _apply_changes(self, commit: Commit, current: Table | None, storage: Storage, result: CommitResult) -> int:
        t = commit.table
        applied = 0
        for change in commit.changes:
            held = self._partition_files(t, change.values) if current is not None else []
            kept = carried_files(held, change)
            if kept is None:
                result.dropped.append(change.values)
                continue
            moved = self._carry(kept, change.location, storage)
            pause_point("carried")
            key = json.dumps(list(change.values))
            self._db.execute("DELETE FROM files WHERE database = ? AND table_name = ? AND partition_values = ?",
                             (t.database, t.name, key))
            self._put_files(t.database, t.name, moved, None)
            self._put_files(t.database, t.name, change.added, commit.commit_id)
            if t.partition_keys:
                self._put_partitions(t.database, t.name, [Partition(change.values, change.location)])
            superseded = [f.uri for f in held]
            self._db.executemany(
                "INSERT OR REPLACE INTO garbage VALUES (?, ?, ?, ?)",
                [(t.database, t.name, self._store(u), time.time() + commit.retain_seconds) for u in superseded],
            )
            result.superseded.extend(superseded)
            applied += 1
        return applied

    def _partition_files(self, t: Table, values: tuple[str, ...]) -> list[DataFile]:
        rows = self._rows(
            "SELECT uri, size, rows, footer_length, row_groups, partition_values FROM files"
            " WHERE database = ? AND table_name = ? AND partition_values = ?",
            (t.database, t.name, json.dumps(list(values))),
        )
        return [self._file(r) for r in rows]

    @staticmethod
    def _carry(kept: list[DataFile], location: str, storage: Storage) -> list[DataFile]:
        """The kept files, linked into the new location under their own names (a name is
        unique in a table: it carries the id of the commit that wrote it)."""
        from dataclasses import replace

        moved = [replace(f, uri=join(location, os.path.basename(f.uri))) for f in kept]
        storage.link_many([(f.uri, m.uri) for f, m in zip(kept, moved, strict=True) if f.uri != m.uri])
        return moved

    def _insert_loads(self, t: Table, commit: Commit) -> None:
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

    # -- superseded files ------------------------------------------------------------------
    def garbage_due(self, table: Table | None = None) -> list[str]:
        sql = "SELECT uri FROM garbage WHERE delete_after <= ?"
        args: tuple = (time.time(),)
        if table is not None:
            sql += " AND database = ? AND table_name = ?"
            args += (table.database, table.name)
        return [self._load(r[0]) for r in self._rows(sql + " ORDER BY uri", args)]

    def forget_garbage(self, uris: Sequence[str], table: Table | None = None) -> None:
        if not uris:
            return
        with self._tx():
            self._db.executemany("DELETE FROM garbage WHERE uri = ?", [(self._store(u),) for u in uris])


class _Duplicate(Exception):
    """A racing commit loaded one of this commit's sources first: roll back."""

    def __init__(self, hashes: set[str]):
        super().__init__("duplicate sources")
        self.hashes = hashes


class _NothingLeft(Exception):
    """Every change of the commit was dropped: roll back (there is nothing to commit)."""

    def __init__(self, result: CommitResult):
        super().__init__("nothing to commit")
        self.result = result


def _warehouse_root(path: str, warehouse: str | None) -> str | None:
    """The folder paths are stored relative to: the warehouse, when local."""
    if warehouse is not None:
        return None if is_s3(warehouse) else os.path.abspath(warehouse)
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.basename(folder) == "_lakekit":
        return os.path.dirname(folder)
    return None


def _create(path: str) -> None:
    """Make an empty catalog at ``path`` unless one appears there first.

    The schema is built in a temporary file, then linked into place: two processes
    making the first catalog of a warehouse at once never see a half-made one (which
    would look like a damaged catalog), and one of the two files wins.
    """
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".catalog-", suffix=".db")
    os.close(fd)
    try:
        db = sqlite3.connect(tmp)
        db.execute("PRAGMA journal_mode=WAL")
        db.executescript(SCHEMA)
        db.close()  # the last connection: SQLite folds the WAL back into the file
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        for leftover in (tmp, tmp + "-wal", tmp + "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(leftover)


_WAY_OUT = "restore it from a backup, or move it away and register the tables again with `lakekit catalog crawl`"


def _check_not_empty(path: str) -> None:
    """A 0-byte catalog lost its tables (SQLite would take it for a new, empty one)."""
    try:
        size = os.path.getsize(path)
    except OSError as ex:
        raise CatalogError(f"cannot read local catalog {path}: {ex}") from ex
    if size == 0:
        raise CatalogError(f"local catalog {path} is empty (0 bytes): its tables are lost; {_WAY_OUT}")


def _check_is_catalog(db: sqlite3.Connection, path: str) -> None:
    """Refuse a database that is not a lakekit catalog, naming it and the way out."""
    try:
        names = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as ex:
        db.close()
        raise CatalogError(f"cannot open local catalog {path}: {ex}; is it a lakekit catalog?") from ex
    if not names >= REQUIRED_TABLES:
        db.close()
        missing = ", ".join(sorted(REQUIRED_TABLES - names))
        raise CatalogError(f"{path} is not a lakekit catalog (no {missing} table); {_WAY_OUT}")


def _connect_ro(uri: str) -> sqlite3.Connection:
    db = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=60)
    db.execute("SELECT count(*) FROM sqlite_master").fetchone()  # opening is lazy: fail here
    return db


def _writable_folder(folder: str) -> bool:
    """Whether files can be made in ``folder`` (a read-only mount says no even to root)."""
    try:
        if os.statvfs(folder).f_flag & os.ST_RDONLY:
            return False
    except OSError:
        return False
    return os.access(folder, os.W_OK)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


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
