"""A partition's files are what its location holds when the query runs, as Athena lists
a partition's prefix: files lakekit did not write are estimated and read (their footers
read once, then cached), and a catalogued file that is gone is an error naming sync."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import lakekit
from lakekit.errors import CatalogOutOfDate
from tests.clicks_lake import build_lake
from tests.helpers import cli


def _extra_file(rows: int) -> pa.Table:
    """What another tool might drop into a partition: the table's columns, its own values."""
    start = dt.datetime(2024, 3, 1, tzinfo=dt.UTC)
    return pa.table({
        "event_id": [f"x-{i}" for i in range(rows)],
        "ts": pa.array([start + dt.timedelta(seconds=i) for i in range(rows)], pa.timestamp("us", tz="UTC")),
        "user_id": pa.array(range(rows), pa.int64()),
        "event_type": ["purchase"] * rows,
        "country": ["US"] * rows,
        "amount": pa.array([1.5] * rows),
        "quantity": pa.array([1] * rows, pa.int64()),
    })


def _footer_and_chunks(path_or_file, columns: list[str]) -> int:
    meta = pq.read_metadata(path_or_file)
    total = meta.serialized_size + 8
    for i in range(meta.num_row_groups):
        rg = meta.row_group(i)
        total += sum(rg.column(j).total_compressed_size for j in range(rg.num_columns)
                     if rg.column(j).path_in_schema in columns)
    return total


@pytest.fixture
def fresh_lake(tmp_path):
    return build_lake(str(tmp_path / "wh"))


def test_a_file_written_outside_lakekit_is_estimated_read_and_its_statistics_cached(fresh_lake, monkeypatch):
    sql = "SELECT amount FROM lake.clicks WHERE day = '01'"
    before = lakekit.estimate(sql, settings=fresh_lake.settings)
    folder = fresh_lake.partition_dir(dt.date(2024, 3, 1))
    extra = os.path.join(folder, "from-spark.parquet")
    pq.write_table(_extra_file(250), extra, row_group_size=100)

    after = lakekit.estimate(sql, settings=fresh_lake.settings)
    assert after.tables[0].files_scanned == before.tables[0].files_scanned + 1
    assert after.bytes_scanned == before.bytes_scanned + _footer_and_chunks(extra, ["amount"])
    rows = lakekit.query("SELECT count(*) AS n FROM lake.clicks WHERE day = '01'", settings=fresh_lake.settings)
    assert rows.to_pylist() == [{"n": 2 * 1200 + 250}]  # the local engine reads the plan's files

    with lakekit.open_lake(settings=fresh_lake.settings) as opened:
        recorded = {f.uri for f in opened.catalog.list_files("lake", "clicks")}
    # an estimate opens the catalog read-only and writes nothing into it (a writer such
    # as `lakekit catalog sync` records footers); this process keeps them in memory
    assert extra not in recorded
    import lakekit.plan.file_stats as file_stats

    monkeypatch.setattr(file_stats, "read_file_stats", lambda *a, **k: pytest.fail("a footer was read again"))
    assert lakekit.estimate(sql, settings=fresh_lake.settings) == after


def test_statistics_stay_in_memory_where_the_catalog_cannot_be_written(fresh_lake, monkeypatch):
    path = fresh_lake.settings.local_catalog_path()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if (mode & os.W_OK and os.path.abspath(p) in
                        (path, os.path.dirname(path))) else real_access(p, mode))
    extra = os.path.join(fresh_lake.partition_dir(dt.date(2024, 3, 2)), "other.parquet")
    pq.write_table(_extra_file(10), extra)
    catalog_bytes = Path(path).read_bytes()
    sql = "SELECT amount FROM lake.clicks WHERE day = '02'"
    first = lakekit.estimate(sql, settings=fresh_lake.settings)
    assert Path(path).read_bytes() == catalog_bytes
    import lakekit.plan.file_stats as file_stats

    monkeypatch.setattr(file_stats, "read_file_stats", lambda *a, **k: pytest.fail("read again: not cached"))
    assert lakekit.estimate(sql, settings=fresh_lake.settings) == first


def test_a_catalogued_file_gone_from_storage_is_an_error_naming_sync(fresh_lake):
    os.remove(os.path.join(fresh_lake.partition_dir(dt.date(2024, 3, 3)), "part-1.parquet"))
    with pytest.raises(CatalogOutOfDate, match=r"lakekit catalog sync lake\.clicks"):
        lakekit.estimate("SELECT amount FROM lake.clicks WHERE day = '03'", settings=fresh_lake.settings)
    result = cli("query", "SELECT amount FROM lake.clicks WHERE day = '03'", "--dry-run",
                 "--warehouse", fresh_lake.warehouse)
    assert result.exit_code == 4  # the catalog and storage disagree: a catalog error, not bad input
    assert result.stderr.count("\n") == 1 and "gone from storage" in result.stderr
    # other partitions are not affected, and a sync brings the catalog up to date
    assert lakekit.estimate("SELECT amount FROM lake.clicks WHERE day = '04'", settings=fresh_lake.settings)
    lakekit.sync("lake.clicks", settings=fresh_lake.settings)
    synced = lakekit.estimate("SELECT amount FROM lake.clicks WHERE day = '03'", settings=fresh_lake.settings)
    assert synced.tables[0].files_scanned == 1


def test_whole_table_listing_and_per_partition_listing_agree(fresh_lake, monkeypatch):
    import lakekit.plan.file_stats as file_stats

    sql = "SELECT user_id FROM lake.clicks WHERE day <> '05'"
    pq.write_table(_extra_file(5), os.path.join(fresh_lake.partition_dir(dt.date(2024, 2, 28)), "late.parquet"))
    monkeypatch.setattr(file_stats, "LIST_WHOLE_TABLE_ABOVE", {"remote": 0, "local": 0})
    whole = lakekit.estimate(sql, settings=fresh_lake.settings)
    monkeypatch.setattr(file_stats, "LIST_WHOLE_TABLE_ABOVE", {"remote": 10_000, "local": 10_000})
    one_by_one = lakekit.estimate(sql, settings=fresh_lake.settings)
    assert whole == one_by_one and whole.tables[0].files_scanned == 11 * 2 + 1


def test_files_added_to_a_table_on_s3_and_local_alike(backend_lake, tmp_path, monkeypatch):
    """The same through Glue + S3 (moto server) and SQLite + a folder, listing each
    partition's prefix or the table's whole location."""
    source = tmp_path / "events.jsonl"
    source.write_text("".join(json.dumps({"ts": f"2024-03-0{d}T10:00:00Z", "amount": float(d)}) + "\n"
                              for d in (1, 2, 2)))
    lakekit.ingest([str(source)], "web.events", timestamp_column="ts",
                   warehouse=backend_lake.warehouse, catalog=backend_lake.catalog)
    sql = "SELECT sum(amount) AS total FROM web.events WHERE day = '02'"
    before = lakekit.estimate(sql, warehouse=backend_lake.warehouse, catalog=backend_lake.catalog)
    storage = backend_lake.storage()
    with lakekit.open_lake(warehouse=backend_lake.warehouse, catalog=backend_lake.catalog) as opened:
        [day2] = [p for p in opened.catalog.list_partitions("web", "events") if p.values[2] == "02"]
    uri = day2.location.rstrip("/") + "/added.parquet"  # another tool writes into the partition's folder
    table = pa.table({"ts": pa.array([dt.datetime(2024, 3, 2, 11, tzinfo=dt.UTC)], pa.timestamp("us", tz="UTC")),
                      "amount": [40.0]})
    with storage.open_output(uri) as f:
        pq.write_table(table, f)
    hidden = uri.replace("added.parquet", "_temporary.parquet")
    with storage.open_output(hidden) as f:  # Athena skips it, and so does lakekit
        pq.write_table(table, f)
    after = lakekit.estimate(sql, warehouse=backend_lake.warehouse, catalog=backend_lake.catalog)
    assert after.tables[0].files_scanned == before.tables[0].files_scanned + 1
    with storage.open_random_access(uri) as f:
        assert after.bytes_scanned == before.bytes_scanned + _footer_and_chunks(f, ["amount"])
    import lakekit.plan.file_stats as file_stats

    monkeypatch.setattr(file_stats, "LIST_WHOLE_TABLE_ABOVE", {"remote": 0, "local": 0})
    assert lakekit.estimate(sql, warehouse=backend_lake.warehouse, catalog=backend_lake.catalog) == after
