"""The Glue catalog against the moto server: what Athena would see in Glue, and the
log that keeps what Glue cannot hold."""

from __future__ import annotations

import datetime as dt

import boto3
import pytest
from botocore.exceptions import ConnectionClosedError

from lakekit.catalog.base import (
    APPEND,
    OVERWRITE,
    Column,
    ColumnChunk,
    Commit,
    DataFile,
    Load,
    Partition,
    PartitionChange,
    RowGroup,
    Table,
)
from lakekit.catalog.glue import GlueCatalog
from lakekit.catalog.projection import projection_parameters
from lakekit.config import Settings
from lakekit.errors import CatalogError, TableNotFound
from lakekit.storage import Storage

HOME = "s3://lake/warehouse/analytics/events"
KEYS = [Column("year", "string"), Column("month", "string"), Column("day", "string")]


def _table(**params) -> Table:
    return Table("analytics", "events", HOME,
                 [Column("event_id", "string"), Column("ts", "timestamp"), Column("amount", "double")],
                 list(KEYS), {"compression": "zstd", "lakekit.timestamp_column": "ts", **params})


def _values(day: int) -> tuple[str, ...]:
    return ("2024", "03", f"{day:02d}")


def _location(commit_id: str, day: int) -> str:
    return f"{HOME}/{commit_id}/year=2024/month=03/day={day:02d}"


def _file(commit_id: str, day: int) -> DataFile:
    """A (tiny) object in the commit's folder and its statistics: commits copy the files
    a partition keeps, so they must exist."""
    uri = f"{_location(commit_id, day)}/part-{commit_id}.parquet"
    Storage(HOME).write_bytes(uri, b"PAR1-fake-" + commit_id.encode())
    return DataFile(uri, 1000, 10, 200, (RowGroup(10, {"amount": ColumnChunk(300, 1.5, 9.5, 0)}),), _values(day))


def _commit(commit_id: str, days, table: Table | None = None, source_hash: str = "h1", mode=APPEND) -> Commit:
    changes = [PartitionChange(_values(d), _location(commit_id, d), (_file(commit_id, d),), mode) for d in days]
    loads = [Load("events.jsonl", source_hash, commit_id, dt.datetime(2024, 3, 8, tzinfo=dt.UTC), 10, 10, 0)]
    return Commit(table or _table(), commit_id, changes, loads)


@pytest.fixture
def glue_catalog(s3_lake) -> GlueCatalog:
    return GlueCatalog(Settings(warehouse=s3_lake.warehouse, catalog="glue"))


def _glue_partitions() -> dict[tuple, dict]:
    glue = boto3.client("glue")
    pages = glue.get_paginator("get_partitions").paginate(DatabaseName="analytics", TableName="events")
    return {tuple(p["Values"]): p for page in pages for p in page["Partitions"]}


def _commit_to(catalog, request):
    return catalog.commit(request, catalog.storage)


def test_commit_registers_a_parquet_table_athena_can_read(glue_catalog):
    assert _commit_to(glue_catalog, _commit("c1", [1, 2])).committed
    raw = boto3.client("glue").get_table(DatabaseName="analytics", Name="events")["Table"]
    sd = raw["StorageDescriptor"]
    assert raw["TableType"] == "EXTERNAL_TABLE"
    assert raw["Parameters"]["classification"] == "parquet" and raw["Parameters"]["compression"] == "zstd"
    assert [(c["Name"], c["Type"]) for c in sd["Columns"]] == [("event_id", "string"), ("ts", "timestamp"), ("amount", "double")]
    assert [(c["Name"], c["Type"]) for c in raw["PartitionKeys"]] == [("year", "string"), ("month", "string"), ("day", "string")]
    assert sd["Location"] == HOME + "/"
    assert sd["SerdeInfo"]["SerializationLibrary"] == "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
    assert sd["InputFormat"].endswith("MapredParquetInputFormat")
    parts = _glue_partitions()
    assert sorted(parts) == [_values(1), _values(2)]
    p = parts[_values(2)]["StorageDescriptor"]
    assert p["Location"] == _location("c1", 2) + "/"  # the commit's own folder
    assert [c["Name"] for c in p["Columns"]] == ["event_id", "ts", "amount"]
    # and the protocol reads back what it wrote
    table = glue_catalog.get_table("analytics", "events")
    assert table.location == HOME and table.timestamp_column == "ts"
    assert [p.values for p in glue_catalog.list_partitions("analytics", "events")] == [_values(1), _values(2)]
    files = glue_catalog.list_files("analytics", "events")
    assert [f.uri for f in files] == [f"{_location('c1', d)}/part-c1.parquet" for d in (1, 2)]
    assert files[0].row_groups[0].columns["amount"] == ColumnChunk(300, 1.5, 9.5, 0)
    assert glue_catalog.loaded_hashes("analytics", "events") == {"h1"}
    assert glue_catalog.is_committed("c1", HOME) and not glue_catalog.is_committed("c2", HOME)
    assert [t.qualified_name for t in glue_catalog.list_tables()] == ["analytics.events"]
    assert glue_catalog.list_databases() == ["analytics"]


def test_an_append_moves_the_partition_to_a_folder_with_old_and_new_files(glue_catalog):
    _commit_to(glue_catalog, _commit("c1", [1, 2]))
    wider = _table()
    wider.columns.append(Column("country", "string"))
    result = _commit_to(glue_catalog, _commit("c2", [2, 3], wider, source_hash="h2"))
    assert result.superseded == [f"{_location('c1', 2)}/part-c1.parquet"]
    parts = _glue_partitions()
    assert sorted(parts) == [_values(d) for d in (1, 2, 3)]
    assert parts[_values(2)]["StorageDescriptor"]["Location"] == _location("c2", 2) + "/"
    assert parts[_values(2)]["Parameters"]["lakekit.seq"] == "2"
    # the existing partition was updated to the new schema, not skipped
    assert [c["Name"] for c in parts[_values(2)]["StorageDescriptor"]["Columns"]][-1] == "country"
    # its new folder holds the file it kept (copied server-side) and the new one
    in_folder = sorted(e.uri for e in glue_catalog.storage.list_files(_location("c2", 2)))
    assert in_folder == [f"{_location('c2', 2)}/part-c1.parquet", f"{_location('c2', 2)}/part-c2.parquet"]
    assert [f.uri for f in glue_catalog.list_files("analytics", "events", partitions=[_values(2)])] == in_folder
    assert glue_catalog.get_table("analytics", "events").column("country") is not None
    assert glue_catalog.loaded_hashes("analytics", "events") == {"h1", "h2"}
    assert glue_catalog.garbage_due(glue_catalog.get_table("analytics", "events")) == []  # retained an hour


def test_overwrite_keeps_nothing_of_the_old_partition(glue_catalog):
    _commit_to(glue_catalog, _commit("c1", [1]))
    _commit_to(glue_catalog, _commit("c2", [1], source_hash="h2", mode=OVERWRITE))
    assert [f.uri for f in glue_catalog.list_files("analytics", "events")] == [f"{_location('c2', 1)}/part-c2.parquet"]


def test_a_source_already_in_the_log_commits_nothing(glue_catalog):
    _commit_to(glue_catalog, _commit("c1", [1]))
    again = _commit_to(glue_catalog, _commit("c2", [2], source_hash="h1"))
    assert not again.committed and again.duplicate_hashes == {"h1"}
    assert sorted(_glue_partitions()) == [_values(1)]


def test_many_partitions_register_in_concurrent_batches_and_existing_ones_move(glue_catalog):
    glue_catalog.create_or_update_table(_table())
    parts = [Partition(("2024", f"{m:02d}", f"{d:02d}"), f"{HOME}/year=2024/month={m:02d}/day={d:02d}")
             for m in range(1, 13) for d in range(1, 29)]
    glue_catalog.add_partitions("analytics", "events", parts)  # 336: four BatchCreatePartition calls
    assert len(_glue_partitions()) == 336
    moved = [Partition(p.values, p.location.replace("/warehouse/", "/moved/")) for p in parts[:150]]
    glue_catalog.add_partitions("analytics", "events", moved)
    now = {p.values: p.location for p in glue_catalog.list_partitions("analytics", "events")}
    assert len(now) == 336
    assert sum("/moved/" in loc for loc in now.values()) == 150
    glue_catalog.delete_partitions("analytics", "events", [p.values for p in parts[:60]])
    assert len(_glue_partitions()) == 276


def test_a_failed_commit_point_changes_nothing_in_glue(glue_catalog, monkeypatch):
    _commit_to(glue_catalog, _commit("c1", [1]))
    before = _glue_partitions()

    def broken(*args, **kwargs):
        raise CatalogError("injected: the log write failed")

    with monkeypatch.context() as patched, pytest.raises(CatalogError, match="injected"):
        patched.setattr(glue_catalog.log, "append", broken)
        _commit_to(glue_catalog, _commit("c2", [1, 5, 6], source_hash="h2"))
    assert _glue_partitions() == before
    assert not glue_catalog.is_committed("c2", HOME)
    assert glue_catalog.loaded_hashes("analytics", "events") == {"h1"}


def test_a_commit_whose_reply_was_lost_is_known_committed_and_published(s3_lake):
    """The log entry is stored but the client never hears so: the log says it landed,
    so the commit is published, not reported as failed (a retry would double it)."""
    session = boto3.Session()

    def lost_reply(http_response, **_):
        if "/_lakekit/log/" in http_response.url and not getattr(lost_reply, "done", False):
            lost_reply.done = True
            raise ConnectionClosedError(endpoint_url=http_response.url)  # stored, but the reply is lost

    session.events.register("after-call.s3.PutObject", lost_reply)
    catalog = GlueCatalog(Settings(warehouse=s3_lake.warehouse, catalog="glue"), boto3_session=session)
    request = _commit("c1", [1, 2])
    result = catalog.commit(request, Storage(s3_lake.warehouse, session))
    assert result.committed
    assert sorted(_glue_partitions()) == [_values(1), _values(2)]
    fresh = GlueCatalog(Settings(warehouse=s3_lake.warehouse, catalog="glue"))
    assert fresh.is_committed("c1", HOME) and fresh.loaded_hashes("analytics", "events") == {"h1"}


def test_the_log_is_folded_into_checkpoints(glue_catalog, s3_lake, monkeypatch):
    import lakekit.catalog.manifest as manifest

    monkeypatch.setattr(manifest, "CHECKPOINT_EVERY", 5)
    for i in range(1, 13):
        _commit_to(glue_catalog, _commit(f"c{i}", [i], source_hash=f"h{i}"))
    glue_catalog.delete_files("analytics", "events", [f"{_location('c3', 3)}/part-c3.parquet"])
    names = sorted(e.uri.rsplit("/", 1)[1] for e in glue_catalog.storage.list_files(f"{HOME}/_lakekit/log"))
    # 13 entries, checkpoints at 5 and 10: what checkpoint 5 folded is gone, checkpoint 5
    # and the entries after it stay for readers that listed before checkpoint 10
    assert names == sorted([f"{5:020d}.checkpoint.json", f"{10:020d}.checkpoint.json"]
                           + [f"{n:020d}.json" for n in range(6, 14)])
    fresh = GlueCatalog(Settings(warehouse=s3_lake.warehouse, catalog="glue"))
    assert fresh.loaded_hashes("analytics", "events") == {f"h{i}" for i in range(1, 13)}
    assert len(fresh.list_files("analytics", "events")) == 11
    assert all(fresh.is_committed(f"c{i}", HOME) for i in range(1, 13))


def test_projected_table_registers_parameters_not_partitions(glue_catalog):
    table = _table()
    table.parameters.update(projection_parameters(table, ("year", "month", "day"),
                                                  dt.datetime(2023, 12, 30), dt.datetime(2024, 3, 2)))
    _commit_to(glue_catalog, _commit("c1", [1, 2], table))
    params = boto3.client("glue").get_table(DatabaseName="analytics", Name="events")["Table"]["Parameters"]
    assert params["projection.enabled"] == "true"
    assert params["projection.year.type"] == "integer" and params["projection.year.range"] == "2023,2024"
    assert params["projection.year.digits"] == "4"
    assert params["projection.month.range"] == "1,12" and params["projection.month.digits"] == "2"
    assert params["projection.day.range"] == "1,31" and params["projection.day.digits"] == "2"
    assert params["storage.location.template"] == HOME + "/year=${year}/month=${month}/day=${day}"
    assert _glue_partitions() == {}
    # lakekit knows which partitions hold files, and the files are where Athena projects them
    assert [p.values for p in glue_catalog.list_partitions("analytics", "events")] == [_values(1), _values(2)]
    uris = [f.uri for f in glue_catalog.list_files("analytics", "events")]
    assert uris == [f"{HOME}/year=2024/month=03/day={d:02d}/part-c1.parquet" for d in (1, 2)]
    assert all(glue_catalog.storage.exists(u) for u in uris)


def test_projection_range_only_widens():
    table = Table("a", "t", "s3://b/a/t", [], list(KEYS), {"projection.year.range": "2019,2021"})
    params = projection_parameters(table, ("year", "month"), [("2020", "05")])
    assert params["projection.year.range"] == "2019,2021"
    assert "projection.day.type" not in params
    assert params["storage.location.template"] == "s3://b/a/t/year=${year}/month=${month}"


def test_missing_things_are_none_or_clear_errors(glue_catalog):
    assert glue_catalog.get_table("analytics", "nope") is None
    assert glue_catalog.list_tables("no_such_db") == []
    assert glue_catalog.loaded_hashes("analytics", "nope") == set()
    part = Partition(_values(1), f"{HOME}/year=2024/month=03/day=01")
    for call in (lambda: glue_catalog.list_files("analytics", "nope"),
                 lambda: glue_catalog.add_partitions("analytics", "nope", [part])):
        with pytest.raises(TableNotFound, match="table analytics.nope not found in catalog glue"):
            call()


def test_a_read_only_glue_catalog_writes_nothing(s3_lake):
    reader = GlueCatalog(Settings(warehouse=s3_lake.warehouse, catalog="glue"), read_only=True)
    with pytest.raises(CatalogError, match="read-only"):
        reader.create_or_update_table(_table())
    assert boto3.client("glue").get_databases()["DatabaseList"] == []


def test_a_reader_whose_listing_went_stale_lists_again(glue_catalog, s3_lake, monkeypatch):
    import lakekit.catalog.manifest as manifest

    for i in range(1, 4):
        _commit_to(glue_catalog, _commit(f"c{i}", [i], source_hash=f"h{i}"))
    reader = GlueCatalog(Settings(warehouse=s3_lake.warehouse, catalog="glue"))
    stale = reader.log._listing(HOME)
    # another writer folds the log into a checkpoint right after our listing
    monkeypatch.setattr(manifest, "CHECKPOINT_EVERY", 2)
    for i in (4, 5, 6):
        _commit_to(glue_catalog, _commit(f"c{i}", [i], source_hash=f"h{i}"))
    assert not all(glue_catalog.storage.exists(u) for _, _, u in stale)
    listings = iter([stale])
    real = reader.log._listing
    monkeypatch.setattr(reader.log, "_listing", lambda home: next(listings, None) or real(home))
    assert reader.loaded_hashes("analytics", "events") == {f"h{i}" for i in range(1, 7)}


def test_file_statistics_can_be_asked_for_some_partitions_only(glue_catalog):
    _commit_to(glue_catalog, _commit("c1", [1, 2, 3]))
    some = glue_catalog.list_files("analytics", "events", partitions=[_values(2)])
    assert [f.partition_values for f in some] == [_values(2)]
    assert glue_catalog.list_files("analytics", "events", partitions=[]) == []
    assert len(glue_catalog.list_files("analytics", "events")) == 3
