"""The Glue catalog: tables and partitions in the AWS Glue Data Catalog, where Athena
finds them, plus a log for what Glue cannot hold.

Glue keeps databases, tables (Parquet SerDe, ``classification=parquet``, the
compression, columns with Athena types, string partition keys) and partitions. The
load history, per-file Parquet statistics and superseded files live in the table's
log (:mod:`lakekit.catalog.manifest`), under the table's home.

A commit (:meth:`GlueCatalog.commit`), its files already written into a folder no
partition location contains (``<home>/<commit-id>/...``):

1. takes the table's lease and folds the log;
2. checks the sources' hashes against the loads in the log (loaded already: nothing is
   committed); rebases each partition on the files it holds now: the files it keeps
   are copied server-side into its new folder;
3. creates the next log entry conditionally: **the commit point** (losing the race for
   the entry number means folding again and repeating 2);
4. publishes: table created or updated, new partitions created and moved ones updated
   (``BatchCreatePartition`` / ``BatchUpdatePartition``), so Athena reads each
   partition's new folder instead of its old one, at once; then the lease goes.

Readers through Glue see each partition whole: its old folder or its new one. A
writer killed between 3 and the end of 4 leaves a commit Glue does not show yet (every
reader sees those partitions as they were); the next writer publishes it
(:meth:`GlueCatalog.finish`). lakekit reads what Athena reads: Glue's partition
locations, with the log's statistics of the files under them.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from lakekit.aws import aws_client, aws_error_message
from lakekit.catalog.base import (
    APPEND,
    Column,
    Commit,
    CommitResult,
    DataFile,
    Load,
    Partition,
    Table,
    carried_files,
    decode_file,
    encode_file,
    encode_load,
    merge_columns,
    table_not_found,
)
from lakekit.catalog.manifest import Log, LogState, decode_table, encode_table
from lakekit.catalog.projection import is_projected
from lakekit.config import Settings
from lakekit.errors import CatalogError, CommitOutcomeUnknown, LakekitError, UsageError
from lakekit.parquet import read_file_stats
from lakekit.paths import has_hidden_part, join, partition_location, relative_parts
from lakekit.pause import pause_point
from lakekit.storage import Storage

if TYPE_CHECKING:  # pragma: no cover
    import boto3

PARQUET_INPUT_FORMAT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
PARQUET_OUTPUT_FORMAT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"

#: Glue's limits per request.
CREATE_BATCH = 100
UPDATE_BATCH = 100
DELETE_BATCH = 25
#: concurrent Glue requests when registering partitions.
GLUE_CONCURRENCY = 16


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _chunks(items: Sequence, size: int) -> list[Sequence]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def _folder(uri: str) -> str:
    """Glue and Athena expect folder locations to end with '/'."""
    return uri if uri.endswith("/") else uri + "/"


# -- Glue <-> Table -------------------------------------------------------------------------
def storage_descriptor(table: Table, location: str) -> dict[str, Any]:
    """The Parquet storage descriptor shared by a table and its partitions."""
    compression = table.parameters.get("compression", "none")
    return {
        "Columns": [{"Name": c.name, "Type": c.type} for c in table.columns],
        "Location": _folder(location),
        "InputFormat": PARQUET_INPUT_FORMAT,
        "OutputFormat": PARQUET_OUTPUT_FORMAT,
        "Compressed": compression not in ("none", "uncompressed", ""),
        "NumberOfBuckets": -1,
        "SerdeInfo": {"SerializationLibrary": PARQUET_SERDE, "Parameters": {"serialization.format": "1"}},
        "StoredAsSubDirectories": False,
        "Parameters": {"classification": "parquet", "compression": compression},
    }


def table_input(table: Table) -> dict[str, Any]:
    """The Glue ``TableInput`` of a table: an external Parquet table.

    >>> ti = table_input(Table("db", "t", "s3://b/db/t", [Column("x", "bigint")],
    ...                        [Column("year", "string")], {"compression": "zstd"}))
    >>> ti["StorageDescriptor"]["Location"], ti["Parameters"]["classification"]
    ('s3://b/db/t/', 'parquet')
    """
    return {
        "Name": table.name,
        "TableType": "EXTERNAL_TABLE",
        "Parameters": {"EXTERNAL": "TRUE", "classification": "parquet", **table.parameters},
        "PartitionKeys": [{"Name": c.name, "Type": c.type} for c in table.partition_keys],
        "StorageDescriptor": storage_descriptor(table, table.location),
    }


def partition_input(table: Table, partition: Partition, template: dict[str, Any] | None = None,
                    seq: int | None = None) -> dict[str, Any]:
    """The Glue ``PartitionInput``: the table's storage descriptor at the partition's
    location (``template``, the table's descriptor, saves rebuilding it per partition);
    ``seq``, the log entry whose location this is, is kept as a parameter."""
    sd = {**template, "Location": _folder(partition.location)} if template else storage_descriptor(table, partition.location)
    parameters = {"classification": "parquet"}
    if seq is not None:
        parameters["lakekit.seq"] = str(seq)
    return {"Values": list(partition.values), "StorageDescriptor": sd, "Parameters": parameters}


def table_from_glue(database: str, raw: dict[str, Any]) -> Table:
    sd = raw.get("StorageDescriptor", {})
    return Table(
        database=database,
        name=raw["Name"],
        location=sd.get("Location", "").rstrip("/"),
        columns=[Column(c["Name"], c.get("Type", "string")) for c in sd.get("Columns", [])],
        partition_keys=[Column(c["Name"], c.get("Type", "string")) for c in raw.get("PartitionKeys", [])],
        parameters=dict(raw.get("Parameters", {})),
    )


class GlueCatalog:
    """The AWS Glue Data Catalog, with lakekit's log beside each table's data.

    Clients come from boto3's chain (profile, region, ``AWS_ENDPOINT_URL``); nothing is
    contacted until a method is called.

    >>> from lakekit.config import Settings
    >>> GlueCatalog(Settings(warehouse="s3://bucket/lake", catalog="glue")).name
    'glue'
    """

    name = "glue"

    def __init__(self, settings: Settings, boto3_session: boto3.Session | None = None, *, read_only: bool = False):
        self.settings = settings
        self.read_only = read_only
        self._session = boto3_session
        self._glue_client: Any = None
        self._storage: Storage | None = None
        self._log: Log | None = None

    def __repr__(self) -> str:
        return f"GlueCatalog(warehouse={self.settings.warehouse!r})"

    @property
    def location(self) -> str:
        """The region whose Glue Data Catalog this is, for messages."""
        if self._glue_client is not None:
            return self._glue_client.meta.region_name or "glue"
        return self.settings.region or (self._session.region_name if self._session else None) or "default region"

    def close(self) -> None:
        pass

    # -- clients -------------------------------------------------------------------------
    @property
    def glue(self) -> Any:
        if self._glue_client is None:
            session = self._session
            if session is None and self.settings.region:
                import boto3

                session = boto3.Session(region_name=self.settings.region)
                self._session = session
            self._glue_client = aws_client("glue", session)
        return self._glue_client

    @property
    def storage(self) -> Storage:
        if self._storage is None:
            self._storage = Storage(self.settings.warehouse, self._session)
        return self._storage

    @property
    def log(self) -> Log:
        if self._log is None:
            self._log = Log(self.storage)
        return self._log

    def writable(self) -> bool:
        """Opened for writing (Glue says more only when asked to write: a refused write
        raises CatalogError)."""
        return not self.read_only

    def _writable(self) -> None:
        if self.read_only:
            raise CatalogError("the Glue catalog is open read-only here; this command does not change it")

    def _call(self, what: str, fn: Callable, **kwargs) -> Any:
        """One Glue call; AWS failures become a one-line CatalogError naming ``what``."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return fn(**kwargs)
        except (ClientError, BotoCoreError) as ex:
            raise CatalogError(f"{what}: {aws_error_message(ex, 'Glue')}") from ex

    @staticmethod
    def _code(ex: BaseException) -> str:
        cause = ex.__cause__
        response = getattr(cause, "response", None) or {}
        return response.get("Error", {}).get("Code", "")

    def _paginate(self, what: str, operation: str, result_key: str, **kwargs) -> list[dict[str, Any]]:
        """Every item of a paginated Glue listing (errors surface while paging)."""

        def fetch() -> list[dict[str, Any]]:
            pages = self.glue.get_paginator(operation).paginate(**kwargs)
            return [item for page in pages for item in page[result_key]]

        return self._call(what, fetch)

    # -- databases and tables --------------------------------------------------------------
    def list_databases(self) -> list[str]:
        return sorted(d["Name"] for d in self._paginate("cannot list Glue databases", "get_databases", "DatabaseList"))

    def list_tables(self, database: str | None = None) -> list[Table]:
        databases = [database] if database is not None else self.list_databases()
        tables: list[Table] = []
        for db in databases:
            try:
                raw = self._paginate(f"cannot list Glue tables of {db}", "get_tables", "TableList", DatabaseName=db)
            except CatalogError as ex:
                if self._code(ex) == "EntityNotFoundException":
                    continue
                raise
            tables.extend(table_from_glue(db, t) for t in raw)
        return sorted(tables, key=lambda t: (t.database, t.name))

    def get_table(self, database: str, name: str) -> Table | None:
        try:
            raw = self._call(f"cannot read Glue table {database}.{name}", self.glue.get_table,
                             DatabaseName=database, Name=name)
        except CatalogError as ex:
            if self._code(ex) == "EntityNotFoundException":
                return None
            raise
        return table_from_glue(database, raw["Table"])

    def _ensure_database(self, database: str) -> None:
        try:
            self._call(f"cannot create Glue database {database}", self.glue.create_database,
                       DatabaseInput={"Name": database, "Description": "created by lakekit"})
        except CatalogError as ex:
            if self._code(ex) != "AlreadyExistsException":
                raise

    def _put_table(self, table: Table) -> bool:
        """Create or update the table; True when it was created."""
        what = f"cannot register Glue table {table.qualified_name}"
        try:
            self._call(what, self.glue.create_table, DatabaseName=table.database, TableInput=table_input(table))
            return True
        except CatalogError as ex:
            code = self._code(ex)
            if code == "EntityNotFoundException":  # no database yet
                self._ensure_database(table.database)
                return self._put_table(table)
            if code != "AlreadyExistsException":
                raise
        self._call(what, self.glue.update_table, DatabaseName=table.database, TableInput=table_input(table),
                   SkipArchive=True)
        return False

    def create_or_update_table(self, table: Table) -> None:
        self._writable()
        self._put_table(table)
        self.log.append_next(table.home, {"kind": "table", "table": encode_table(table)})

    def drop_table(self, database: str, name: str) -> None:
        self._writable()
        table = self.get_table(database, name)
        if table is None:
            return
        self._call(f"cannot drop Glue table {database}.{name}", self.glue.delete_table,
                   DatabaseName=database, Name=name)
        self.log.delete(table.home)

    # -- partitions ----------------------------------------------------------------------
    def _require(self, database: str, name: str) -> Table:
        table = self.get_table(database, name)
        if table is None:
            raise table_not_found(self, database, name)
        return table

    def list_partitions(self, database: str, name: str) -> list[Partition]:
        table = self._require(database, name)
        if is_projected(table):
            state = self.log.state(table.home)
            return [Partition(v, loc) for v, loc in sorted(state.partitions.items())]
        return list(self._glue_partitions(table))

    def _glue_partitions(self, table: Table) -> list[Partition]:
        """The table's partitions as Athena sees them."""
        raw = self._paginate(f"cannot list partitions of {table.qualified_name}", "get_partitions", "Partitions",
                             DatabaseName=table.database, TableName=table.name, ExcludeColumnSchema=True)
        return sorted((Partition(tuple(p["Values"]), p.get("StorageDescriptor", {}).get("Location", "").rstrip("/"))
                       for p in raw), key=lambda p: p.values)

    def add_partitions(self, database: str, name: str, partitions: Sequence[Partition]) -> None:
        self._writable()
        table = self._require(database, name)
        if not partitions:
            return
        self.log.append_next(table.home, {"kind": "partitions",
                                          "partitions": [[list(p.values), p.location] for p in partitions]})
        if not is_projected(table):
            self._register_partitions(table, partitions)

    def _register_partitions(self, table: Table, partitions: Sequence[Partition], seq: int | None = None,
                             between: Callable[[], None] | None = None) -> list[tuple[str, ...]]:
        """Create partitions, 100 to a request and requests concurrently; update those
        that already exist (to the new location). Returns the values of those created.

        ``between`` is called once between two of the requests, when there are several
        (the crash tests stop there: some partitions moved, others not yet)."""
        if not partitions:
            return []
        template = storage_descriptor(table, table.location)
        inputs = [partition_input(table, p, template, seq) for p in partitions]
        what = f"cannot register partitions of {table.qualified_name}"

        def create(chunk):
            resp = self._call(what, self.glue.batch_create_partition, DatabaseName=table.database,
                              TableName=table.name, PartitionInputList=list(chunk))
            return chunk, resp.get("Errors", [])

        existing: list[dict] = []
        created: list[tuple[str, ...]] = []
        chunks = _chunks(inputs, CREATE_BATCH)
        for chunk, errors in self._parallel(create, chunks, between if len(chunks) > 1 else None):
            failed = {tuple(e["PartitionValues"]): e.get("ErrorDetail", {}) for e in errors}
            for item in chunk:
                detail = failed.get(tuple(item["Values"]))
                if detail is None:
                    created.append(tuple(item["Values"]))
                elif detail.get("ErrorCode") == "AlreadyExistsException":
                    existing.append(item)
                else:
                    raise CatalogError(
                        f"{what}: partition {'/'.join(item['Values'])}: {detail.get('ErrorCode')}: "
                        f"{detail.get('ErrorMessage', '')}"
                    )
        if existing and created and between is not None and len(chunks) == 1:
            between()  # new partitions are in, those that move are not yet

        def update(chunk):
            entries = [{"PartitionValueList": item["Values"], "PartitionInput": item} for item in chunk]
            resp = self._call(what, self.glue.batch_update_partition, DatabaseName=table.database,
                              TableName=table.name, Entries=entries)
            return resp.get("Errors", [])

        for errors in self._parallel(update, _chunks(existing, UPDATE_BATCH)):
            if errors:
                e = errors[0]
                raise CatalogError(
                    f"{what}: partition {'/'.join(e.get('PartitionValueList', []))}: "
                    f"{e.get('ErrorDetail', {}).get('ErrorCode')}: {e.get('ErrorDetail', {}).get('ErrorMessage', '')}"
                )
        return created

    def _parallel(self, fn: Callable, chunks: list, between: Callable[[], None] | None = None) -> list:
        """``fn`` of each chunk, concurrently; one after another when ``between`` must
        run after the first."""
        if between is not None:
            out = [fn(chunks[0])]
            between()
            return out + [fn(c) for c in chunks[1:]]
        if len(chunks) <= 1:
            return [fn(c) for c in chunks]
        with ThreadPoolExecutor(max_workers=min(GLUE_CONCURRENCY, len(chunks))) as pool:
            return list(pool.map(fn, chunks))

    def _delete_glue_partitions(self, table: Table, values: Sequence[tuple[str, ...]]) -> None:
        what = f"cannot remove partitions of {table.qualified_name}"

        def delete(chunk):
            resp = self._call(what, self.glue.batch_delete_partition, DatabaseName=table.database,
                              TableName=table.name, PartitionsToDelete=[{"Values": list(v)} for v in chunk])
            return [e for e in resp.get("Errors", [])
                    if e.get("ErrorDetail", {}).get("ErrorCode") != "EntityNotFoundException"]

        for errors in self._parallel(delete, _chunks(list(values), DELETE_BATCH)):
            if errors:
                e = errors[0]
                raise CatalogError(f"{what}: {e.get('ErrorDetail', {}).get('ErrorMessage', e)}")

    def delete_partitions(self, database: str, name: str, values: Iterable[tuple[str, ...]]) -> None:
        self._writable()
        table = self._require(database, name)
        values = [tuple(v) for v in values]
        if not values:
            return
        if not is_projected(table):
            self._delete_glue_partitions(table, values)
        self.log.append_next(table.home, {"kind": "remove", "removed_partitions": [list(v) for v in values]})

    # -- files and loads (the log) ---------------------------------------------------------
    def list_files(self, database: str, name: str,
                   partitions: Iterable[Sequence[str]] | None = None) -> list[DataFile]:
        """Statistics of the files a reader of the table reads: those under the locations
        Glue holds (only of ``partitions`` when given: value tuples, or the
        :class:`Partition` objects a plan listed, whose locations then need no lookup)."""
        table = self._require(database, name)
        state = self.log.state(table.home)
        wanted = None if partitions is None else list(partitions)
        if not table.partition_keys:
            where = {(): table.location}
        elif is_projected(table):
            where = dict(state.partitions)
            state.files = {u: item for u, item in state.files.items() if u not in state.unpublished}
        elif wanted is not None and all(isinstance(p, Partition) for p in wanted):
            where = {tuple(p.values): p.location for p in wanted}
        else:
            where = {p.values: p.location for p in self._glue_partitions(table)}
        if wanted is not None:
            keep = {tuple(p.values) if isinstance(p, Partition) else tuple(p) for p in wanted}
            where = {v: loc for v, loc in where.items() if v in keep}
        out = [decode_file(item) for uri, item in state.files.items()
               if tuple(item[4]) in where and _under(uri, where[tuple(item[4])])]
        return sorted(out, key=lambda f: f.uri)

    def put_files(self, database: str, name: str, files: Sequence[DataFile]) -> None:
        self._writable()
        # The table is required even with nothing to write: a missing table is
        # TableNotFound on every backend (the catalog contract), not a silent no-op.
        table = self._require(database, name)
        if files:
            self.log.append_next(table.home, {"kind": "files", "files": [encode_file(f) for f in files]})

    def delete_files(self, database: str, name: str, uris: Iterable[str]) -> None:
        self._writable()
        table = self._require(database, name)
        uris = list(uris)
        if uris:
            self.log.append_next(table.home, {"kind": "delete", "deleted_uris": uris})

    def loaded_hashes(self, database: str, name: str) -> set[str]:
        table = self.get_table(database, name)
        if table is None:
            return set()
        return self.log.state(table.home).hashes

    def loads(self, database: str, name: str) -> list[Load]:
        return self.log.state(self._require(database, name).home).loads

    # -- commits ---------------------------------------------------------------------------
    def is_committed(self, commit_id: str, home: str | None = None) -> bool:
        return home is not None and commit_id in self.log.state(home).commit_ids

    def commit(self, commit: Commit, storage: Storage) -> CommitResult:
        self._writable()
        t = commit.table
        with self.log.lease(t.home, t.qualified_name):
            pause_point("commit-locked")
            result = self._log_commit(commit, storage)
            if not result.committed:
                return result
            after = self.log.state(t.home)
            pause_point("logged")
            changed = [tuple(c.values) for c in commit.changes if tuple(c.values) not in set(result.dropped)]
            result.warnings = self._publish(after, changed, after.seq)
            result.unfinished = bool(result.warnings)
        return result

    def _log_commit(self, commit: Commit, storage: Storage) -> CommitResult:
        """Steps 2 and 3: rebase on the log's head and create the next entry, again
        while other writers take it first."""
        t = commit.table
        copied: dict[str, str] = {}
        result = CommitResult(committed=True)
        for _ in range(50):
            state = self.log.state(t.home)
            if commit.commit_id in state.commit_ids:
                return result  # an earlier attempt landed though its reply said otherwise
            if commit.check_hashes:
                duplicates = {ld.source_hash for ld in commit.loads if ld.source_hash} & state.hashes
                if duplicates:
                    storage.delete_many(list(copied))
                    return CommitResult(committed=False, duplicate_hashes=duplicates)
            result = CommitResult(committed=True)
            body = self._rebase(commit, state, storage, copied, result)
            if body is None:
                return CommitResult(committed=False, dropped=result.dropped)
            pause_point("carried")
            if self._append(t, state.seq + 1, body, commit.commit_id):
                return result
        raise CatalogError(f"cannot commit to {t.qualified_name}: other writers kept committing first")

    def _append(self, t: Table, seq: int, body: dict[str, Any], commit_id: str) -> bool:
        """The commit point: create log entry ``seq``. When the reply is lost the log
        says whether it landed; when even that cannot be read, the outcome is unknown
        and the commit's files are kept for the next writer to decide."""
        try:
            return self.log.append(t.home, seq, body)
        except LakekitError as ex:
            try:
                landed = commit_id in self.log.state(t.home).commit_ids
            except LakekitError:
                raise CommitOutcomeUnknown(
                    f"cannot tell whether the commit to {t.qualified_name} landed ({ex}); run the command again: "
                    "it finishes or removes this one, and skips sources already committed") from ex
            if not landed:
                raise
            return True

    def _current(self, t: Table, state: LogState, values: tuple[str, ...], storage: Storage) -> tuple[str | None, list]:
        """The location a partition has now and the files under it."""
        location = state.location_of(values)
        if location is None and state.seq == 0:
            glue = self.get_table(t.database, t.name)  # registered before lakekit kept a log of it
            if glue is not None:
                location = glue.location if not values else next(
                    (p.location for p in self._glue_partitions(glue) if p.values == values), None)
        if location is None:
            return None, []
        files = [decode_file(item) for uri, item in state.files.items()
                 if tuple(item[4]) == values and _under(uri, location)]
        if not files:  # files the log never recorded (a layout registered by another tool)
            files = [read_file_stats(storage, e.uri, values) for e in storage.list_files(location)
                     if not has_hidden_part(relative_parts(location, e.uri))]
        return location, files

    def _rebase(self, commit: Commit, state: LogState, storage: Storage, copied: dict[str, str],
                result: CommitResult) -> dict[str, Any] | None:
        """The log entry of ``commit`` on top of ``state``: each partition's files become
        its kept files (copied into the new folder) plus the added ones."""
        t = commit.table
        if is_projected(t):
            return self._projected_entry(commit, state)
        partitions, files, garbage, wanted = [], [], [], set()
        deadline = time.time() + commit.retain_seconds
        for change in commit.changes:
            location, current = self._current(t, state, change.values, storage)
            kept = carried_files(current, change)
            if kept is None:
                result.dropped.append(change.values)
                continue
            moved = [replace(f, uri=join(change.location, f.uri.rsplit("/", 1)[-1])) for f in kept]
            pairs = [(f.uri, m.uri) for f, m in zip(kept, moved, strict=True) if copied.get(m.uri) != f.uri]
            storage.link_many(pairs)
            copied.update({m: s for s, m in pairs})
            wanted.update(m.uri for m in moved)
            partitions.append([list(change.values), change.location])
            files.extend(encode_file(f) for f in (*moved, *change.added))
            garbage.extend([f.uri, deadline] for f in current)
            result.superseded.extend(f.uri for f in current)
        stale = [dst for dst in copied if dst not in wanted]  # carried by an earlier attempt, not needed now
        storage.delete_many(stale)
        for dst in stale:
            copied.pop(dst)
        if not partitions and not commit.loads:
            return None
        return {"kind": "commit", "commit_id": commit.commit_id, "commit_kind": commit.kind,
                "table": encode_table(self._merged_table(t, state, commit)), "partitions": partitions,
                "files": files, "garbage": garbage, "loads": [encode_load(ld) for ld in commit.loads]}

    def _projected_entry(self, commit: Commit, state: LogState) -> dict[str, Any]:
        """A projected table's commit: Athena lists the fixed template folders, so there
        is no location to switch; the files are copied into them after the commit point,
        each appearing whole (a partition of several files appears file by file)."""
        t = commit.table
        if any(c.mode != APPEND for c in commit.changes):
            raise UsageError(f"{t.qualified_name} uses partition projection: Athena reads its fixed folders directly, "
                             "so lakekit cannot replace files there at once for Athena; only appends are possible")
        keys = [c.name for c in t.partition_keys]
        partitions, files, copies = [], [], []
        for change in commit.changes:
            folder = partition_location(t.home, keys, change.values)
            partitions.append([list(change.values), folder])
            for f in change.added:
                final = join(folder, f.uri.rsplit("/", 1)[-1])
                copies.append([f.uri, final])
                files.append(encode_file(replace(f, uri=final)))
        return {"kind": "commit", "commit_id": commit.commit_id, "commit_kind": commit.kind,
                "table": encode_table(self._merged_table(t, state, commit)), "partitions": partitions,
                "files": files, "copies": copies, "loads": [encode_load(ld) for ld in commit.loads]}

    @staticmethod
    def _merged_table(t: Table, state: LogState, commit: Commit) -> Table:
        current = decode_table(state.table) if state.table else None
        if current is None:
            merged = Table(t.database, t.name, t.location, list(t.columns), list(t.partition_keys), dict(t.parameters))
        else:
            merged = Table(t.database, t.name, current.location, merge_columns(current.columns, t.columns,
                           t.qualified_name), list(t.partition_keys), {**current.parameters, **t.parameters})
        if not t.partition_keys:
            merged.parameters["lakekit.home"] = t.home
            moved = [c.location for c in commit.changes if c.values == ()]
            if moved:
                merged.location = moved[-1]
        return merged

    def _publish(self, state: LogState, changed: list[tuple[str, ...]], seq: int) -> list[str]:
        """Make Glue show ``state``: the table, and the locations of ``changed``.

        Called after the commit point: a failure here does not undo the commit (the
        next writer publishes it again), so it is reported as a warning.
        """
        table = decode_table(state.table)
        try:
            self._put_table(table)
            if state.unpublished:
                self._copy_into_template_folders(table, state)
            if table.partition_keys and not is_projected(table):
                parts = [Partition(v, state.partitions[v]) for v in changed if v in state.partitions]
                self._register_partitions(table, parts, seq, between=lambda: pause_point("published-partly"))
            pause_point("published")
        except LakekitError as ex:
            return [f"committed, but Glue did not take the new locations yet ({ex}); Athena reads "
                    f"{table.qualified_name} as it was until the next lakekit write to it publishes them"]
        return []

    def _copy_into_template_folders(self, table: Table, state: LogState) -> None:
        pairs = sorted((src, dst) for dst, src in state.unpublished.items())
        present = {e.uri for e in self.storage.list_files(table.home)}
        self.storage.link_many([(src, dst) for src, dst in pairs if dst not in present])
        self.log.append_next(table.home, {"kind": "published", "published": [dst for _, dst in pairs],
                                          "garbage": [[src, 0.0] for src, _ in pairs]})

    def finish(self, commit_id: str, table: str, home: str | None) -> list[str]:
        """Publish what the log holds for the table (a writer died after its commit point)."""
        if home is None:
            return []
        with self.log.lease(home, table):
            state = self.log.state(home)
            if state.table is None:
                return []
            t = decode_table(state.table)
            if not t.partition_keys or is_projected(t):
                return self._publish(state, [], state.seq)
            glue = {p.values: p.location for p in self._glue_partitions(t)} if self.get_table(
                t.database, t.name) else {}
            moved = [v for v, loc in state.partitions.items() if glue.get(v, "").rstrip("/") != loc.rstrip("/")]
            return self._publish(state, moved, state.seq)

    # -- superseded files ------------------------------------------------------------------
    def garbage_due(self, table: Table | None = None) -> list[str]:
        if table is None:
            return []  # each table's log holds its own; writers collect the table they commit to
        now = time.time()
        return sorted(u for u, after in self.log.state(table.home).garbage.items() if after <= now)

    def forget_garbage(self, uris: Sequence[str], table: Table | None = None) -> None:
        if uris and table is not None:
            self._writable()
            self.log.append_next(table.home, {"kind": "collected", "collected": list(uris)})


def _under(uri: str, location: str) -> bool:
    return uri.startswith(location.rstrip("/") + "/")
