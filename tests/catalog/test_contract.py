"""The catalog contract: the same cases on every backend (local SQLite, and Glue on the
moto server). What one backend does here, every backend does."""

from __future__ import annotations

import datetime as dt

import pytest

from lakekit.catalog.base import Column, ColumnChunk, Commit, DataFile, Load, Partition, PartitionChange, RowGroup, Table
from lakekit.errors import TableNotFound

KEYS = [Column("year", "string"), Column("month", "string")]


@pytest.fixture
def catalog(backend_lake):
    cat = backend_lake.open_catalog()
    yield cat
    cat.close()


def _table(backend_lake, name: str = "events") -> Table:
    return Table("analytics", name, f"{backend_lake.warehouse}/analytics/{name}",
                 [Column("id", "bigint"), Column("amount", "double")], list(KEYS),
                 {"classification": "parquet", "compression": "zstd"})


def _partition(table: Table, month: int) -> Partition:
    return Partition(("2024", f"{month:02d}"), f"{table.location}/year=2024/month={month:02d}")


def _file(folder: str, month: int, amount_max: float = 9.5) -> DataFile:
    chunk = {"id": ColumnChunk(100, 1, 50, 0), "amount": ColumnChunk(80, 0.5, amount_max, 2)}
    return DataFile(f"{folder}/part-0.parquet", 500, 50, 120, (RowGroup(50, chunk),), ("2024", f"{month:02d}"))


def _commit(backend_lake, table: Table, commit_id: str, months: list[int], source_hash: str) -> Commit:
    """An append of one file a month, each in the commit's own folder. The files exist
    (tiny stand-ins): a commit carries the files a partition keeps into its new folder."""
    storage = backend_lake.storage()
    changes = []
    for month in months:
        location = f"{table.location}/{commit_id}/year=2024/month={month:02d}"
        added = _file(location, month)
        storage.write_bytes(added.uri, b"PAR1-stand-in-" + commit_id.encode())
        changes.append(PartitionChange(("2024", f"{month:02d}"), location, (added,)))
    load = Load(f"/data/{commit_id}.jsonl", source_hash, commit_id, dt.datetime(2024, 4, 1, tzinfo=dt.UTC), 50, 50, 0)
    return Commit(table, commit_id, changes, [load])


def test_a_missing_table_is_none_or_table_not_found(catalog, backend_lake):
    catalog.create_or_update_table(_table(backend_lake, "events"))
    assert catalog.get_table("analytics", "evnts") is None
    assert catalog.loaded_hashes("analytics", "evnts") == set()  # nothing ingested yet is not an error
    calls = [
        lambda: catalog.list_partitions("analytics", "evnts"),
        lambda: catalog.add_partitions("analytics", "evnts", [Partition(("2024", "01"), "/x")]),
        lambda: catalog.delete_partitions("analytics", "evnts", [("2024", "01")]),
        lambda: catalog.list_files("analytics", "evnts"),
        lambda: catalog.put_files("analytics", "evnts", []),
        lambda: catalog.delete_files("analytics", "evnts", ["/x"]),
    ]
    for call in calls:
        with pytest.raises(TableNotFound) as info:
            call()
        message = str(info.value)
        assert message.startswith(f"table analytics.evnts not found in catalog {catalog.name} (")
        assert message.endswith("did you mean analytics.events?")
        assert info.value.exit_code == 2


def test_a_table_reads_back_as_written(catalog, backend_lake):
    table = _table(backend_lake)
    catalog.create_or_update_table(table)
    back = catalog.get_table("analytics", "events")
    assert (back.database, back.name, back.location.rstrip("/")) == ("analytics", "events", table.location)
    assert back.columns == table.columns and back.partition_keys == table.partition_keys
    assert back.parameters.items() >= table.parameters.items()
    assert [t.qualified_name for t in catalog.list_tables("analytics")] == ["analytics.events"]
    assert "analytics" in catalog.list_databases()


def test_partitions_are_added_updated_listed_and_removed(catalog, backend_lake):
    table = _table(backend_lake)
    catalog.create_or_update_table(table)
    catalog.add_partitions("analytics", "events", [_partition(table, m) for m in (3, 1, 2)])
    listed = catalog.list_partitions("analytics", "events")
    assert [p.values for p in listed] == [("2024", "01"), ("2024", "02"), ("2024", "03")]
    assert [p.location.rstrip("/") for p in listed] == [_partition(table, m).location for m in (1, 2, 3)]
    moved = Partition(("2024", "02"), f"{backend_lake.warehouse}/elsewhere/m2")
    catalog.add_partitions("analytics", "events", [moved])  # an existing partition gets the new location
    by_values = {p.values: p.location.rstrip("/") for p in catalog.list_partitions("analytics", "events")}
    assert by_values[("2024", "02")] == moved.location and len(by_values) == 3
    catalog.delete_partitions("analytics", "events", [("2024", "01")])
    assert [p.values for p in catalog.list_partitions("analytics", "events")] == [("2024", "02"), ("2024", "03")]


def test_file_statistics_round_trip_and_filter_by_partition(catalog, backend_lake):
    table = _table(backend_lake)
    catalog.create_or_update_table(table)
    # a reader reads the files under the locations the catalog lists: register those first
    catalog.add_partitions("analytics", "events", [_partition(table, m) for m in (1, 2)])
    files = [_file(_partition(table, m).location, m) for m in (1, 2)]
    catalog.put_files("analytics", "events", files)
    assert catalog.list_files("analytics", "events") == sorted(files, key=lambda f: f.uri)
    assert catalog.list_files("analytics", "events", partitions=[("2024", "02")]) == [files[1]]
    catalog.put_files("analytics", "events", [_file(_partition(table, 2).location, 2, amount_max=99.0)])  # by URI
    [replaced] = catalog.list_files("analytics", "events", partitions=[("2024", "02")])
    assert replaced.row_groups[0].columns["amount"].max == 99.0
    catalog.delete_files("analytics", "events", [files[0].uri])
    assert [f.uri for f in catalog.list_files("analytics", "events")] == [files[1].uri]


def _commit_uris(table: Table, commit_id: str, months: list[int]) -> list[str]:
    return [f"{table.location}/{commit_id}/year=2024/month={m:02d}/part-0.parquet" for m in months]


def test_a_commit_seen_by_one_reader_is_seen_whole_by_another(catalog, backend_lake):
    table = _table(backend_lake)
    storage = backend_lake.storage()
    other = backend_lake.open_catalog()  # a second process's view, opened before the commit
    try:
        assert other.get_table("analytics", "events") is None
        assert catalog.commit(_commit(backend_lake, table, "ing-1", [1, 2], "h1"), storage).committed
        for reader in (catalog, other, backend_lake.open_catalog()):
            assert reader.is_committed("ing-1", table.home)
            assert [p.values for p in reader.list_partitions("analytics", "events")] == [("2024", "01"), ("2024", "02")]
            assert [f.uri for f in reader.list_files("analytics", "events")] == _commit_uris(table, "ing-1", [1, 2])
            assert reader.loaded_hashes("analytics", "events") == {"h1"}
        assert catalog.commit(_commit(backend_lake, table, "ing-2", [3], "h2"), storage).committed
        assert other.loaded_hashes("analytics", "events") == {"h1", "h2"}
        assert len(other.list_files("analytics", "events")) == 3
    finally:
        other.close()


def test_a_source_already_loaded_commits_nothing(catalog, backend_lake):
    table = _table(backend_lake)
    storage = backend_lake.storage()
    catalog.commit(_commit(backend_lake, table, "ing-1", [1], "h1"), storage)
    again = catalog.commit(_commit(backend_lake, table, "ing-2", [2], "h1"), storage)
    assert not again.committed and again.duplicate_hashes == {"h1"}
    assert not catalog.is_committed("ing-2", table.home)
    assert [p.values for p in catalog.list_partitions("analytics", "events")] == [("2024", "01")]


def test_a_failed_commit_leaves_nothing_behind(catalog, backend_lake):
    table = _table(backend_lake)
    storage = backend_lake.storage()
    catalog.commit(_commit(backend_lake, table, "ing-1", [1], "h1"), storage)
    broken = _commit(backend_lake, table, "ing-2", [2, 3], "h2")
    # a statistic that cannot be stored: the commit fails before its commit point
    change = broken.changes[0]
    bad = DataFile(change.added[0].uri, 1, 1, 1, (RowGroup(1, {"id": ColumnChunk(1, object(), 2)}),), ("2024", "02"))
    broken.changes[0] = PartitionChange(change.values, change.location, (bad,))
    with pytest.raises(TypeError):
        catalog.commit(broken, storage)
    reader = backend_lake.open_catalog()
    try:
        for view in (catalog, reader):
            assert not view.is_committed("ing-2", table.home)
            assert [p.values for p in view.list_partitions("analytics", "events")] == [("2024", "01")]
            assert view.loaded_hashes("analytics", "events") == {"h1"}
            assert [f.uri for f in view.list_files("analytics", "events")] == _commit_uris(table, "ing-1", [1])
    finally:
        reader.close()
