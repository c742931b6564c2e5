"""The SQLite catalog: Glue-shaped records, one-transaction commits, filtered file reads."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3

import pytest

from lakekit.catalog.base import (
    APPEND,
    OVERWRITE,
    REPLACE_FILES,
    Column,
    ColumnChunk,
    Commit,
    DataFile,
    Load,
    PartitionChange,
    RowGroup,
    Table,
)
from lakekit.catalog.local import LocalCatalog
from lakekit.errors import CatalogError
from lakekit.storage import Storage


def _table(warehouse):
    return Table("db", "t", os.path.join(warehouse, "db", "t"), [Column("x", "bigint")], [Column("year", "string")],
                 {"classification": "parquet"})


def _write(path, rows=10) -> DataFile:
    """A file on disk (the catalog links kept files into new folders) and its statistics."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(b"PAR1" + os.urandom(16) + b"PAR1")
    year = path.split("year=")[1].split("/")[0]
    return DataFile(path, 24, rows, 8, (RowGroup(rows, {"x": ColumnChunk(500, 1, 9, 0)}),), (year,))


def _commit(warehouse, commit_id, years, mode=APPEND, replaced=frozenset(), hash_=None):
    home = os.path.join(warehouse, "db", "t")
    changes = []
    for y in years:
        location = os.path.join(home, commit_id, f"year={y}")
        changes.append(PartitionChange((y,), location, (_write(f"{location}/part-{commit_id}.parquet"),), mode,
                                       frozenset(replaced)))
    loads = [Load("src", hash_ or f"sha256:{commit_id}", commit_id, dt.datetime.now(dt.UTC), 10, 10, 0)]
    return Commit(_table(warehouse), commit_id, changes, loads)


@pytest.fixture
def cat(warehouse):
    c = LocalCatalog(os.path.join(warehouse, "_lakekit", "catalog.db"))
    yield c
    c.close()


def test_commit_records_everything_and_files_filter_by_partition(cat, warehouse):
    result = cat.commit(_commit(warehouse, "c1", ["2023", "2024"]), Storage(warehouse))
    assert result.committed and result.superseded == []
    assert cat.is_committed("c1") and not cat.is_committed("c2")
    assert cat.loaded_hashes("db", "t") == {"sha256:c1"}
    assert [p.values for p in cat.list_partitions("db", "t")] == [("2023",), ("2024",)]
    assert [p.location for p in cat.list_partitions("db", "t")] == [
        os.path.join(warehouse, "db", "t", "c1", "year=2023"), os.path.join(warehouse, "db", "t", "c1", "year=2024")]
    only = cat.list_files("db", "t", partitions=[("2024",)])
    assert [f.uri for f in only] == [os.path.join(warehouse, "db", "t", "c1", "year=2024", "part-c1.parquet")]
    assert only[0].row_groups[0].columns["x"] == ColumnChunk(500, 1, 9, 0)
    assert cat.list_files("db", "t", partitions=[]) == []


def test_an_append_carries_the_partition_files_into_its_new_folder(cat, warehouse):
    storage = Storage(warehouse)
    cat.commit(_commit(warehouse, "c1", ["2023", "2024"]), storage)
    old = os.path.join(warehouse, "db", "t", "c1", "year=2024", "part-c1.parquet")
    result = cat.commit(_commit(warehouse, "c2", ["2024"]), storage)
    new_folder = os.path.join(warehouse, "db", "t", "c2", "year=2024")
    assert sorted(os.listdir(new_folder)) == ["part-c1.parquet", "part-c2.parquet"]
    assert os.path.samefile(old, os.path.join(new_folder, "part-c1.parquet"))  # a link: no bytes copied
    assert sorted(f.uri for f in cat.list_files("db", "t", partitions=[("2024",)])) == [
        os.path.join(new_folder, "part-c1.parquet"), os.path.join(new_folder, "part-c2.parquet")]
    assert result.superseded == [old]
    assert cat.garbage_due() == []  # kept for readers that listed it, an hour by default


def test_overwrite_commit_replaces_the_partition_files(cat, warehouse):
    storage = Storage(warehouse)
    cat.commit(_commit(warehouse, "c1", ["2023", "2024"]), storage)
    cat.commit(_commit(warehouse, "c2", ["2024"], mode=OVERWRITE), storage)
    uris = [f.uri for f in cat.list_files("db", "t")]
    assert uris == [os.path.join(warehouse, "db", "t", "c1", "year=2023", "part-c1.parquet"),
                    os.path.join(warehouse, "db", "t", "c2", "year=2024", "part-c2.parquet")]


def test_a_compaction_whose_inputs_are_gone_is_dropped(cat, warehouse):
    storage = Storage(warehouse)
    cat.commit(_commit(warehouse, "c1", ["2023"]), storage)
    gone = frozenset({os.path.join(warehouse, "db", "t", "c0", "year=2023", "part-c0.parquet")})
    request = _commit(warehouse, "c2", ["2023"], mode=REPLACE_FILES, replaced=gone)
    request.loads = []
    result = cat.commit(request, storage)
    assert not result.committed and result.dropped == [("2023",)]
    assert [f.uri for f in cat.list_files("db", "t")] == [
        os.path.join(warehouse, "db", "t", "c1", "year=2023", "part-c1.parquet")]


def test_a_source_already_loaded_commits_nothing(cat, warehouse):
    storage = Storage(warehouse)
    cat.commit(_commit(warehouse, "c1", ["2023"], hash_="sha256:same"), storage)
    result = cat.commit(_commit(warehouse, "c2", ["2024"], hash_="sha256:same"), storage)
    assert not result.committed and result.duplicate_hashes == {"sha256:same"}
    assert [p.values for p in cat.list_partitions("db", "t")] == [("2023",)]
    assert not cat.is_committed("c2")


def test_a_failed_commit_changes_nothing(cat, warehouse):
    storage = Storage(warehouse)
    cat.commit(_commit(warehouse, "c1", ["2023"]), storage)
    again = _commit(warehouse, "c1", ["2024"], hash_="sha256:other")  # the same commit id twice
    with pytest.raises(CatalogError):
        cat.commit(again, storage)
    assert [p.values for p in cat.list_partitions("db", "t")] == [("2023",)]
    assert len(cat.list_files("db", "t")) == 1


def test_locations_are_stored_relative_to_the_warehouse(cat, warehouse):
    cat.commit(_commit(warehouse, "c1", ["2023"]), Storage(warehouse))
    db = sqlite3.connect(os.path.join(warehouse, "_lakekit", "catalog.db"))
    stored = [r[0] for r in db.execute("SELECT location FROM partitions UNION ALL SELECT uri FROM files "
                                       "UNION ALL SELECT location FROM tables")]
    db.close()
    assert stored and all(not os.path.isabs(s) for s in stored), stored
    assert "db/t/c1/year=2023" in stored


def test_not_a_catalog_is_a_clear_error(tmp_path):
    bad = tmp_path / "c.db"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(CatalogError, match="is it a lakekit catalog"):
        LocalCatalog(str(bad))


def test_an_empty_catalog_file_is_an_error_naming_it_not_a_new_catalog(tmp_path):
    lost = tmp_path / "_lakekit" / "catalog.db"
    lost.parent.mkdir()
    lost.write_bytes(b"")
    for read_only in (False, True):
        with pytest.raises(CatalogError, match=r"catalog\.db is empty \(0 bytes\)"):
            LocalCatalog(str(lost), read_only=read_only)
    assert lost.stat().st_size == 0  # nothing was written into it


def test_a_read_only_catalog_that_does_not_exist_is_empty_and_is_not_created(tmp_path):
    path = tmp_path / "_lakekit" / "catalog.db"
    cat = LocalCatalog(str(path), read_only=True)
    assert cat.list_tables() == [] and cat.get_table("db", "t") is None and cat.loaded_hashes("db", "t") == set()
    with pytest.raises(CatalogError, match="read-only"):
        cat.create_or_update_table(_table(str(tmp_path)))
    assert not path.parent.exists()
