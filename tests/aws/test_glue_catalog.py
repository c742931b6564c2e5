"""The Glue catalog against the moto server: what Athena would see in Glue, and the
manifest that keeps what Glue cannot hold."""

from __future__ import annotations

import datetime as dt
import json

import boto3
import pytest

from lakekit.catalog.base import Column, ColumnChunk, DataFile, IngestCommit, Load, Partition, RowGroup, Table
from lakekit.catalog.glue import GlueCatalog
from lakekit.catalog.projection import projection_parameters
from lakekit.config import Settings
from lakekit.errors import CatalogError, TableNotFound

LOCATION = "s3://lake/warehouse/analytics/events"
KEYS = [Column("year", "string"), Column("month", "string"), Column("day", "string")]


def _table(**params) -> Table:
    return Table("analytics", "events", LOCATION,
                 [Column("event_id", "string"), Column("ts", "timestamp"), Column("amount", "double")],
                 list(KEYS), {"compression": "zstd", "lakekit.timestamp_column": "ts", **params})


def _part(day: int, base: str = LOCATION) -> Partition:
    return Partition(("2024", "03", f"{day:02d}"), f"{base}/year=2024/month=03/day={day:02d}")


def _file(day: int, name: str = "part-0.parquet") -> DataFile:
    return DataFile(f"{LOCATION}/year=2024/month=03/day={day:02d}/{name}", 1000, 10, 200,
                    (RowGroup(10, {"amount": ColumnChunk(300, 1.5, 9.5, 0)}),), ("2024", "03", f"{day:02d}"))


def _commit(ingest_id: str, days, table: Table | None = None, source_hash: str = "h1") -> IngestCommit:
    return IngestCommit(
        table or _table(), ingest_id, [_part(d) for d in days], [_file(d, f"part-{ingest_id}.parquet") for d in days],
        [Load("events.jsonl", source_hash, ingest_id, dt.datetime(2024, 3, 8, tzinfo=dt.UTC), 10, 10, 0)],
    )


@pytest.fixture
def glue_catalog(s3_lake) -> GlueCatalog:
    return GlueCatalog(Settings(warehouse=s3_lake.warehouse, catalog="glue"))


def _glue_partitions() -> dict[tuple, dict]:
    glue = boto3.client("glue")
    pages = glue.get_paginator("get_partitions").paginate(DatabaseName="analytics", TableName="events")
    return {tuple(p["Values"]): p for page in pages for p in page["Partitions"]}


def test_commit_registers_a_parquet_table_athena_can_read(glue_catalog):
    glue_catalog.commit_ingest(_commit("ing-1", [1, 2]))
    raw = boto3.client("glue").get_table(DatabaseName="analytics", Name="events")["Table"]
    sd = raw["StorageDescriptor"]
    assert raw["TableType"] == "EXTERNAL_TABLE"
    assert raw["Parameters"]["classification"] == "parquet" and raw["Parameters"]["compression"] == "zstd"
    assert [(c["Name"], c["Type"]) for c in sd["Columns"]] == [("event_id", "string"), ("ts", "timestamp"), ("amount", "double")]
    assert [(c["Name"], c["Type"]) for c in raw["PartitionKeys"]] == [("year", "string"), ("month", "string"), ("day", "string")]
    assert sd["Location"] == LOCATION + "/"
    assert sd["SerdeInfo"]["SerializationLibrary"] == "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
    assert sd["InputFormat"].endswith("MapredParquetInputFormat")
    parts = _glue_partitions()
    assert sorted(parts) == [("2024", "03", "01"), ("2024", "03", "02")]
    p = parts[("2024", "03", "02")]["StorageDescriptor"]
    assert p["Location"] == f"{LOCATION}/year=2024/month=03/day=02/"
    assert [c["Name"] for c in p["Columns"]] == ["event_id", "ts", "amount"]
    # and the protocol reads back what it wrote
    table = glue_catalog.get_table("analytics", "events")
    assert table.location == LOCATION and table.timestamp_column == "ts"
    assert [p.values for p in glue_catalog.list_partitions("analytics", "events")] == [("2024", "03", "01"), ("2024", "03", "02")]
    files = glue_catalog.list_files("analytics", "events")
    assert [f.uri for f in files] == sorted(f.uri for f in _commit("ing-1", [1, 2]).files)
    assert files[0].row_groups[0].columns["amount"] == ColumnChunk(300, 1.5, 9.5, 0)
    assert glue_catalog.loaded_hashes("analytics", "events") == {"h1"}
    assert glue_catalog.is_committed("ing-1") and not glue_catalog.is_committed("ing-2")
    assert [t.qualified_name for t in glue_catalog.list_tables()] == ["analytics.events"]
    assert glue_catalog.list_databases() == ["analytics"]


def test_second_commit_updates_rather_than_duplicates(glue_catalog):
    glue_catalog.commit_ingest(_commit("ing-1", [1, 2]))
    wider = _table()
    wider.columns.append(Column("country", "string"))
    glue_catalog.commit_ingest(_commit("ing-2", [2, 3], wider, source_hash="h2"))
    parts = _glue_partitions()
    assert sorted(parts) == [("2024", "03", f"{d:02d}") for d in (1, 2, 3)]
    # the existing partition was updated to the new schema, not skipped
    assert [c["Name"] for c in parts[("2024", "03", "02")]["StorageDescriptor"]["Columns"]][-1] == "country"
    assert [t.qualified_name for t in glue_catalog.list_tables()] == ["analytics.events"]
    assert glue_catalog.get_table("analytics", "events").column("country") is not None
    assert len(glue_catalog.list_files("analytics", "events")) == 4
    assert glue_catalog.loaded_hashes("analytics", "events") == {"h1", "h2"}


def test_many_partitions_register_in_concurrent_batches_and_existing_ones_move(glue_catalog):
    glue_catalog.create_or_update_table(_table())
    parts = [Partition(("2024", f"{m:02d}", f"{d:02d}"), f"{LOCATION}/year=2024/month={m:02d}/day={d:02d}")
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


def test_failed_commit_point_rolls_glue_back(glue_catalog, monkeypatch):
    glue_catalog.commit_ingest(_commit("ing-1", [1]))
    before = _glue_partitions()

    def broken(*args, **kwargs):
        raise CatalogError("injected: manifest write failed")

    monkeypatch.setattr(glue_catalog, "_write_entry", broken)
    with pytest.raises(CatalogError, match="injected"):
        glue_catalog.commit_ingest(_commit("ing-2", [1, 5, 6]))
    assert sorted(_glue_partitions()) == sorted(before)
    monkeypatch.undo()
    assert not glue_catalog.is_committed("ing-2")
    assert glue_catalog.loaded_hashes("analytics", "events") == {"h1"}


def test_is_committed_finds_the_manifest_when_the_marker_is_lost(glue_catalog, s3_lake):
    st = glue_catalog.storage
    for ingest_id in ("ing-1", "ing-9"):  # journals, as the ingest writes them before committing
        st.write_bytes(st.uri("_lakekit", "journal", f"{ingest_id}.json"),
                       json.dumps({"ingest_id": ingest_id, "table": "analytics.events", "moves": [], "deletes": []}).encode())
    glue_catalog.commit_ingest(_commit("ing-1", [1]))
    st.delete(glue_catalog._marker("ing-1"))
    fresh = GlueCatalog(Settings(warehouse=s3_lake.warehouse, catalog="glue"))
    assert fresh.is_committed("ing-1") and not fresh.is_committed("ing-9") and not fresh.is_committed("ing-5")


def test_manifest_history_is_folded_into_snapshots(glue_catalog, s3_lake, monkeypatch):
    import lakekit.catalog.manifest as glue_module

    monkeypatch.setattr(glue_module, "SNAPSHOT_EVERY", 5)
    for i in range(1, 12):
        glue_catalog.commit_ingest(_commit(f"ing-{i}", [i], source_hash=f"h{i}"))
    glue_catalog.delete_files("analytics", "events", [_file(3, "part-ing-3.parquet").uri])
    objects = list(glue_catalog.storage.list_files(f"{LOCATION}/_lakekit/manifest"))
    assert len(objects) < 6
    fresh = GlueCatalog(Settings(warehouse=s3_lake.warehouse, catalog="glue"))
    assert fresh.loaded_hashes("analytics", "events") == {f"h{i}" for i in range(1, 12)}
    assert len(fresh.list_files("analytics", "events")) == 10
    assert all(fresh.is_committed(f"ing-{i}") for i in range(1, 12))


def test_projected_table_registers_parameters_not_partitions(glue_catalog):
    table = _table()
    table.parameters.update(projection_parameters(table, ("year", "month", "day"),
                                                  dt.datetime(2023, 12, 30), dt.datetime(2024, 3, 2)))
    commit = _commit("ing-1", [1, 2], table)
    commit.partitions = []  # the ingest registers none for projected tables
    glue_catalog.commit_ingest(commit)
    params = boto3.client("glue").get_table(DatabaseName="analytics", Name="events")["Table"]["Parameters"]
    assert params["projection.enabled"] == "true"
    assert params["projection.year.type"] == "integer" and params["projection.year.range"] == "2023,2024"
    assert params["projection.year.digits"] == "4"
    assert params["projection.month.range"] == "1,12" and params["projection.month.digits"] == "2"
    assert params["projection.day.range"] == "1,31" and params["projection.day.digits"] == "2"
    assert params["storage.location.template"] == LOCATION + "/year=${year}/month=${month}/day=${day}"
    assert _glue_partitions() == {}
    # lakekit still knows which partitions hold files, for estimates and sync
    assert [p.values for p in glue_catalog.list_partitions("analytics", "events")] == [("2024", "03", "01"), ("2024", "03", "02")]


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
    for call in (lambda: glue_catalog.list_files("analytics", "nope"),
                 lambda: glue_catalog.add_partitions("analytics", "nope", [_part(1)])):
        with pytest.raises(TableNotFound, match="table analytics.nope not found in catalog glue"):
            call()


def test_commit_whose_put_landed_but_reported_failure_is_undone(s3_lake):
    session = boto3.Session()

    def lost_reply(http_response, **_):
        # the object is stored, but the reply never reaches the client
        if "_lakekit/manifest" in http_response.url:
            raise ConnectionResetError("reply lost after the manifest object was stored")

    session.events.register("after-call.s3.PutObject", lost_reply)
    catalog = GlueCatalog(Settings(warehouse=s3_lake.warehouse, catalog="glue"), boto3_session=session)
    with pytest.raises(ConnectionResetError):
        catalog.commit_ingest(_commit("ing-1", [1, 2]))
    fresh = GlueCatalog(Settings(warehouse=s3_lake.warehouse, catalog="glue"))
    assert fresh.get_table("analytics", "events") is None
    assert not fresh.is_committed("ing-1")
    assert list(fresh.storage.list_files(f"{LOCATION}/_lakekit")) == []


def test_a_reader_whose_listing_went_stale_lists_again(glue_catalog, s3_lake, monkeypatch):
    import lakekit.catalog.manifest as glue_module

    for i in range(1, 4):
        glue_catalog.commit_ingest(_commit(f"ing-{i}", [i], source_hash=f"h{i}"))
    reader = GlueCatalog(Settings(warehouse=s3_lake.warehouse, catalog="glue"))
    stale = reader.manifest.entry_uris(reader.get_table("analytics", "events"))
    # another writer folds the history into a snapshot right after our listing
    monkeypatch.setattr(glue_module, "SNAPSHOT_EVERY", 2)
    glue_catalog.commit_ingest(_commit("ing-4", [4], source_hash="h4"))
    assert not any(glue_catalog.storage.exists(u) for u in stale)
    listings = iter([stale])
    real = reader.manifest.entry_uris
    monkeypatch.setattr(reader.manifest, "entry_uris", lambda table: next(listings, None) or real(table))
    assert reader.loaded_hashes("analytics", "events") == {"h1", "h2", "h3", "h4"}


def test_file_statistics_can_be_asked_for_some_partitions_only(glue_catalog):
    glue_catalog.commit_ingest(_commit("ing-1", [1, 2, 3]))
    some = glue_catalog.list_files("analytics", "events", partitions=[("2024", "03", "02")])
    assert [f.partition_values for f in some] == [("2024", "03", "02")]
    assert glue_catalog.list_files("analytics", "events", partitions=[]) == []
    assert len(glue_catalog.list_files("analytics", "events")) == 3
