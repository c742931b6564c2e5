"""The SQLite catalog: Glue-shaped records, one-transaction commits, filtered file reads."""

from __future__ import annotations

import datetime as dt

import pytest

from lakekit.catalog.base import Column, ColumnChunk, DataFile, IngestCommit, Load, Partition, RowGroup, Table
from lakekit.catalog.local import LocalCatalog
from lakekit.errors import CatalogError


def _file(uri, values, rows=10):
    return DataFile(uri, 1000, rows, 200, (RowGroup(rows, {"x": ColumnChunk(500, 1, 9, 0)}),), values)


def _commit(ingest_id, values_list, replaced=()):
    table = Table("db", "t", "/lake/db/t", [Column("x", "bigint")], [Column("year", "string")], {"classification": "parquet"})
    return IngestCommit(
        table=table, ingest_id=ingest_id,
        partitions=[Partition(v, f"/lake/db/t/year={v[0]}") for v in values_list],
        files=[_file(f"/lake/db/t/year={v[0]}/part-{ingest_id}.parquet", v) for v in values_list],
        loads=[Load("src", f"sha256:{ingest_id}", ingest_id, dt.datetime.now(dt.UTC), 10, 10, 0)],
        replaced_partitions=list(replaced),
    )


def test_commit_records_everything_and_files_filter_by_partition(tmp_path):
    cat = LocalCatalog(str(tmp_path / "c.db"))
    cat.commit_ingest(_commit("i1", [("2023",), ("2024",)]))
    assert cat.is_committed("i1") and not cat.is_committed("i2")
    assert cat.loaded_hashes("db", "t") == {"sha256:i1"}
    assert [p.values for p in cat.list_partitions("db", "t")] == [("2023",), ("2024",)]
    assert len(cat.list_files("db", "t")) == 2
    only = cat.list_files("db", "t", partitions=[("2024",)])
    assert [f.uri for f in only] == ["/lake/db/t/year=2024/part-i1.parquet"]
    assert only[0].row_groups[0].columns["x"] == ColumnChunk(500, 1, 9, 0)
    assert cat.list_files("db", "t", partitions=[]) == []


def test_overwrite_commit_replaces_the_partition_files(tmp_path):
    cat = LocalCatalog(str(tmp_path / "c.db"))
    cat.commit_ingest(_commit("i1", [("2023",), ("2024",)]))
    cat.commit_ingest(_commit("i2", [("2024",)], replaced=[("2024",)]))
    uris = [f.uri for f in cat.list_files("db", "t")]
    assert uris == ["/lake/db/t/year=2023/part-i1.parquet", "/lake/db/t/year=2024/part-i2.parquet"]


def test_a_failed_commit_changes_nothing(tmp_path):
    cat = LocalCatalog(str(tmp_path / "c.db"))
    cat.commit_ingest(_commit("i1", [("2023",)]))
    with pytest.raises(CatalogError):
        cat.commit_ingest(_commit("i1", [("2024",)]))  # the same ingest id twice
    assert [p.values for p in cat.list_partitions("db", "t")] == [("2023",)]
    assert len(cat.list_files("db", "t")) == 1


def test_not_a_catalog_is_a_clear_error(tmp_path):
    bad = tmp_path / "c.db"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(CatalogError, match="is it a lakekit catalog"):
        LocalCatalog(str(bad))
