"""The Glue catalog: tables and partitions in the AWS Glue Data Catalog, where Athena
finds them, plus a manifest for what Glue cannot hold.

Glue keeps databases, tables (Parquet SerDe, ``classification=parquet``, the
compression, columns with Athena types, string partition keys) and partitions.
It cannot keep lakekit's load history (which sources a table already holds) or the
per-file Parquet statistics that make cost estimates exact. Those live in the table's
manifest (:mod:`lakekit.catalog.manifest`).

An ingest commits in this order (:meth:`GlueCatalog.commit_ingest`):

1. table created or updated, partitions created or updated in Glue (a new partition
   with no files yet adds nothing a query would read);
2. the ingest's manifest object is written, one PUT: **the commit point**;
3. a marker ``<warehouse>/_lakekit/commits/<ingest_id>.json`` so crash recovery can
   ask :meth:`GlueCatalog.is_committed` without knowing the table (if the marker is
   missing, the ingest's journal names the table whose manifest to look in).

If step 2 fails, or its outcome is unknown, the manifest object is deleted and what
step 1 added is rolled back (partitions it created deleted, the table restored or
removed) before the error is raised: the table is as it was. A failure after step 2
(folding the history into a snapshot, writing the marker) does not fail the commit.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from lakekit.aws import aws_client, aws_error_message
from lakekit.catalog.base import (
    Column,
    DataFile,
    IngestCommit,
    Load,
    Partition,
    Table,
    decode_file,
    encode_file,
    encode_load,
    table_not_found,
)
from lakekit.catalog.manifest import Manifest
from lakekit.catalog.projection import is_projected
from lakekit.config import Settings
from lakekit.errors import CatalogError, LakekitError
from lakekit.paths import commit_marker_uri, journal_uri, manifest_uri, partition_location
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


def partition_input(table: Table, partition: Partition, template: dict[str, Any] | None = None) -> dict[str, Any]:
    """The Glue ``PartitionInput``: the table's storage descriptor at the partition's
    location (``template``, the table's descriptor, saves rebuilding it per partition)."""
    sd = {**template, "Location": _folder(partition.location)} if template else storage_descriptor(table, partition.location)
    return {"Values": list(partition.values), "StorageDescriptor": sd, "Parameters": {"classification": "parquet"}}


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
    """The AWS Glue Data Catalog, with lakekit's manifest beside each table's data.

    Clients come from boto3's chain (profile, region, ``AWS_ENDPOINT_URL``); nothing is
    contacted until a method is called.

    >>> from lakekit.config import Settings
    >>> GlueCatalog(Settings(warehouse="s3://bucket/lake", catalog="glue")).name
    'glue'
    """

    name = "glue"

    def __init__(self, settings: Settings, boto3_session: boto3.Session | None = None):
        self.settings = settings
        self._session = boto3_session
        self._glue_client: Any = None
        self._storage: Storage | None = None
        self._manifest: Manifest | None = None

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
    def manifest(self) -> Manifest:
        if self._manifest is None:
            self._manifest = Manifest(self.storage)
        return self._manifest

    def _write_entry(self, table: Table, kind: str, body: dict[str, Any], entry_id: str | None = None,
                     uri: str | None = None) -> str:
        return self.manifest.write_entry(table, kind, body, entry_id=entry_id, uri=uri)

    def _state(self, table: Table):
        return self.manifest.state(table)

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
        self._put_table(table)

    def drop_table(self, database: str, name: str) -> None:
        table = self.get_table(database, name)
        if table is None:
            return
        self._call(f"cannot drop Glue table {database}.{name}", self.glue.delete_table,
                   DatabaseName=database, Name=name)
        self.storage.delete_dir(manifest_uri(table.location))

    # -- partitions ----------------------------------------------------------------------
    def _require(self, database: str, name: str) -> Table:
        table = self.get_table(database, name)
        if table is None:
            raise table_not_found(self, database, name)
        return table

    def list_partitions(self, database: str, name: str) -> list[Partition]:
        table = self._require(database, name)
        if is_projected(table):
            state = self._state(table)
            return [Partition(v, loc) for v, loc in sorted(state.partitions.items())]
        return self._glue_partitions(table)

    def _glue_partitions(self, table: Table) -> list[Partition]:
        raw = self._paginate(f"cannot list partitions of {table.qualified_name}", "get_partitions", "Partitions",
                             DatabaseName=table.database, TableName=table.name, ExcludeColumnSchema=True)
        out = [Partition(tuple(p["Values"]), p.get("StorageDescriptor", {}).get("Location", "").rstrip("/"))
               for p in raw]
        return sorted(out, key=lambda p: p.values)

    def add_partitions(self, database: str, name: str, partitions: Sequence[Partition]) -> None:
        table = self._require(database, name)
        if is_projected(table):
            if partitions:
                self._write_entry(table, "partitions", {"partitions": [[list(p.values), p.location] for p in partitions]})
            return
        self._register_partitions(table, partitions)

    def _register_partitions(self, table: Table, partitions: Sequence[Partition]) -> list[tuple[str, ...]]:
        """Create partitions, 100 to a request and requests concurrently; update those
        that already exist. Returns the values of the partitions created."""
        if not partitions:
            return []
        template = storage_descriptor(table, table.location)
        inputs = [partition_input(table, p, template) for p in partitions]
        what = f"cannot register partitions of {table.qualified_name}"

        def create(chunk):
            resp = self._call(what, self.glue.batch_create_partition, DatabaseName=table.database,
                              TableName=table.name, PartitionInputList=list(chunk))
            return chunk, resp.get("Errors", [])

        existing: list[dict] = []
        created: list[tuple[str, ...]] = []
        for chunk, errors in self._parallel(create, _chunks(inputs, CREATE_BATCH)):
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

    def _parallel(self, fn: Callable, chunks: list) -> list:
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
        table = self._require(database, name)
        values = [tuple(v) for v in values]
        if not values:
            return
        if not is_projected(table):
            self._delete_glue_partitions(table, values)
        self._write_entry(table, "remove", {"removed_partitions": [list(v) for v in values]})

    # -- files and loads (the manifest) -----------------------------------------------------
    def list_files(self, database: str, name: str,
                   partitions: Iterable[Sequence[str]] | None = None) -> list[DataFile]:
        """The table's recorded files, only those of ``partitions`` when given."""
        items = self._state(self._require(database, name)).files
        if partitions is not None:
            keep = {tuple(v) for v in partitions}
            items = {u: item for u, item in items.items() if tuple(item[4]) in keep}
        return [decode_file(items[u]) for u in sorted(items)]

    def writable(self) -> bool:
        """Glue says only when asked to write: a refused write raises CatalogError."""
        return True

    def put_files(self, database: str, name: str, files: Sequence[DataFile]) -> None:
        if files:
            self._write_entry(self._require(database, name), "files", {"files": [encode_file(f) for f in files]})

    def delete_files(self, database: str, name: str, uris: Iterable[str]) -> None:
        uris = list(uris)
        if uris:
            self._write_entry(self._require(database, name), "delete", {"deleted_uris": uris})

    def loaded_hashes(self, database: str, name: str) -> set[str]:
        table = self.get_table(database, name)
        if table is None:
            return set()
        return {ld.source_hash for ld in self._state(table).loads}

    def loads(self, database: str, name: str) -> list[Load]:
        return self._state(self._require(database, name)).loads

    # -- ingest commits ----------------------------------------------------------------------
    def _marker(self, ingest_id: str) -> str:
        return commit_marker_uri(self.storage.root, ingest_id)

    def is_committed(self, ingest_id: str) -> bool:
        if self.storage.exists(self._marker(ingest_id)):
            return True
        # The marker is written just after the commit point. A crash between the two
        # leaves the ingest's journal (removed only once its moves are done), which
        # names the table whose manifest holds the answer.
        journal = journal_uri(self.storage.root, ingest_id)
        try:
            qualified = json.loads(self.storage.read_bytes(journal)).get("table", "")
        except (LakekitError, ValueError, AttributeError):
            return False  # no journal: the ingest never reached its commit
        database, _, name = qualified.partition(".")
        table = self.get_table(database, name) if name else None
        if table is None:
            return False
        suffix = f"-ingest-{ingest_id}.json"
        if any(e.uri.endswith(suffix) for e in self.storage.list_files(self.manifest.prefix(table))):
            return True
        return ingest_id in self._state(table).ingest_ids  # folded into a snapshot

    def commit_ingest(self, commit: IngestCommit) -> None:
        table = commit.table
        previous = self.get_table(table.database, table.name)
        created_table = self._put_table(table)
        created_partitions: list[tuple[str, ...]] = []
        entry: str | None = None
        try:
            if not is_projected(table):
                created_partitions = self._register_partitions(table, commit.partitions)
            partitions = commit.partitions
            if not partitions and table.partition_keys:
                # projected tables register no partitions; the manifest still
                # records which ones hold files, for estimates and sync
                keys = [c.name for c in table.partition_keys]
                partitions = [Partition(v, partition_location(table.location, keys, v))
                              for v in sorted({f.partition_values for f in commit.files})]
            body = {
                "partitions": [[list(p.values), p.location] for p in partitions],
                "replaced_partitions": [list(v) for v in commit.replaced_partitions],
                "files": [encode_file(f) for f in commit.files],
                "loads": [encode_load(ld) for ld in commit.loads],
            }
            entry = self.manifest.entry_uri(table, "ingest", commit.ingest_id)
            self._write_entry(table, "ingest", body, entry_id=commit.ingest_id, uri=entry)  # the commit point
        except BaseException:
            if entry is not None:
                # A PUT reported as failed may still have landed: make the failure real.
                with contextlib.suppress(LakekitError):
                    self.storage.delete(entry)
                self.manifest.forget(entry)
            self._roll_back(table, previous, created_table, created_partitions)
            raise
        try:
            marker = {"ingest_id": commit.ingest_id, "table": table.qualified_name, "committed_at": _now()}
            self.storage.write_bytes(self._marker(commit.ingest_id), json.dumps(marker).encode())
        except LakekitError:
            pass  # committed already; is_committed falls back to the manifest

    def _roll_back(self, table: Table, previous: Table | None, created_table: bool,
                   created_partitions: list[tuple[str, ...]]) -> None:
        """Undo a failed commit's Glue changes, as far as Glue still answers."""
        try:
            if created_table:
                self._call("rollback", self.glue.delete_table, DatabaseName=table.database, Name=table.name)
                return
            if created_partitions:
                self._delete_glue_partitions(table, created_partitions)
            if previous is not None:
                self._put_table(previous)
        except LakekitError:
            pass  # the original error is the one to report
