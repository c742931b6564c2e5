"""Ingest, then read the table back with readers lakekit does not control."""

from __future__ import annotations

import bz2
import datetime as dt
import gzip
import json
import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

import lakekit
from lakekit.paths import is_commit_id
from tests.helpers import catalog_of, read_back_duckdb, read_back_pyarrow, visible_data_files, write_events, write_jsonl


def _expected(path):
    return [json.loads(line) for line in open(path)]


def test_round_trip_matches_pyarrow_and_duckdb(events_file, warehouse):
    result = lakekit.ingest(events_file, "analytics.events", timestamp_column="ts", warehouse=warehouse)
    source = sorted(_expected(events_file), key=lambda r: r["event_id"])
    assert (result.records_read, result.records_written, result.records_rejected) == (3000, 3000, 0)
    assert result.partitions_written == 10

    table_dir = os.path.join(warehouse, "analytics", "events")
    back = read_back_pyarrow(table_dir).sort_by("event_id").to_pylist()
    assert len(back) == len(source)
    for got, want in zip(back, source):
        ts = dt.datetime.fromisoformat(want["ts"].replace("Z", "+00:00"))
        assert got["ts"] == ts
        assert (got["year"], got["month"], got["day"]) == (f"{ts.year:04d}", f"{ts.month:02d}", f"{ts.day:02d}")
        for key in ("event_id", "user_id", "event_type", "country", "amount", "quantity", "session_ms"):
            assert got[key] == want[key]

    rows, names = read_back_duckdb(table_dir, "event_id")
    assert len(rows) == 3000
    by_name = dict(zip(names, rows[0]))
    assert by_name["event_id"] == source[0]["event_id"]
    assert by_name["amount"] == source[0]["amount"]


def test_layout_codec_and_types_follow_spec(events_file, warehouse):
    lakekit.ingest(events_file, "analytics.events", timestamp_column="ts", warehouse=warehouse)
    files = visible_data_files(warehouse, "analytics", "events")
    for path in files:
        commit, *rel = os.path.relpath(path, os.path.join(warehouse, "analytics", "events")).split(os.sep)
        assert is_commit_id(commit)  # each commit writes its own folder (docs/ingest.md)
        assert rel[0].startswith("year=") and len(rel[0]) == len("year=2024")
        assert rel[1].startswith("month=") and len(rel[1]) == len("month=03")
        assert rel[2].startswith("day=") and len(rel[2]) == len("day=07")
        assert rel[3].startswith("part-") and rel[3].endswith(".parquet")
        meta = pq.read_metadata(path)
        col = meta.row_group(0).column(0)
        assert col.compression == "ZSTD"
        assert col.statistics is not None and col.statistics.has_min_max
        schema = pq.read_schema(path)
        assert schema.field("ts").type == pa.timestamp("us", tz="UTC")
        assert schema.field("user_id").type == pa.int64()
        assert "year" not in schema.names  # partition keys live in folder names only


def test_catalog_records_table_partitions_and_file_statistics(events_file, warehouse):
    lakekit.ingest(events_file, "analytics.events", timestamp_column="ts", warehouse=warehouse)
    cat = catalog_of(warehouse)
    table = cat.get_table("analytics", "events")
    assert [c.name for c in table.partition_keys] == ["year", "month", "day"]
    assert {c.name: c.type for c in table.columns}["ts"] == "timestamp"
    assert table.parameters["classification"] == "parquet"
    assert table.parameters["compression"] == "zstd"
    assert len(cat.list_partitions("analytics", "events")) == 10
    files = cat.list_files("analytics", "events")
    assert sorted(f.uri for f in files) == visible_data_files(warehouse, "analytics", "events")
    for f in files:
        meta = pq.read_metadata(f.uri)
        assert f.size == os.path.getsize(f.uri)
        assert f.rows == meta.num_rows
        assert f.footer_length == meta.serialized_size
        rg = meta.row_group(0)
        chunk = f.row_groups[0].columns["user_id"]
        col = next(rg.column(i) for i in range(rg.num_columns) if rg.column(i).path_in_schema == "user_id")
        assert chunk.compressed_size == col.total_compressed_size
        assert (chunk.min, chunk.max) == (col.statistics.min, col.statistics.max)
    assert sum(f.rows for f in files) == 3000


def test_files_are_sized_to_the_target(tmp_path, warehouse):
    src = tmp_path / "one_day.jsonl"
    write_events(src, 60000, days=1, seed=3)
    result = lakekit.ingest(str(src), "a.t", timestamp_column="ts", warehouse=warehouse, target_file_size="256KiB")
    sizes = [os.path.getsize(p) for p in visible_data_files(warehouse, "a", "t")]
    assert result.files_written == len(sizes) > 3
    # every file but the last of a partition reaches at least most of the target
    assert sum(s >= 0.5 * 256 * 1024 for s in sizes) >= len(sizes) - 1
    assert max(sizes) < 2 * 256 * 1024
    assert sum(pq.read_metadata(p).num_rows for p in visible_data_files(warehouse, "a", "t")) == 60000


@pytest.mark.parametrize("opener,suffix", [(gzip.open, ".gz"), (bz2.open, ".bz2"),
                                           (lambda p, m: zstandard.open(p, m), ".zst"), (open, "")])
def test_compressed_sources_are_read_transparently(tmp_path, warehouse, opener, suffix):
    path = tmp_path / f"e.jsonl{suffix}"
    with opener(path, "wt") as f:
        for i in range(500):
            f.write(json.dumps({"id": i, "ts": f"2024-05-{i % 28 + 1:02d}T00:00:00Z"}) + "\n")
    r = lakekit.ingest(str(path), "a.t", timestamp_column="ts", warehouse=warehouse)
    assert (r.records_read, r.records_written) == (500, 500)
    assert sorted(read_back_pyarrow(os.path.join(warehouse, "a", "t"))["id"].to_pylist()) == list(range(500))


def test_csv_folders_and_globs(tmp_path, warehouse):
    folder = tmp_path / "in"
    folder.mkdir()
    for n in range(3):
        with open(folder / f"part{n}.csv", "w") as f:
            f.write("id,ts,name,score\n")
            for i in range(100):
                f.write(f"{n * 100 + i},2024-01-{i % 5 + 1:02d} 10:00:00,\"name, {i}\",{i / 2}\n")
    (folder / ".hidden.csv").write_text("not,a,table\n")
    r = lakekit.ingest(str(folder), "a.csvt", timestamp_column="ts", warehouse=warehouse)
    assert (r.records_read, r.records_written, r.records_rejected) == (300, 300, 0)
    back = read_back_pyarrow(os.path.join(warehouse, "a", "csvt")).sort_by("id")
    assert back["name"][1].as_py() == "name, 1"
    assert back.schema.field("score").type == pa.float64()
    r2 = lakekit.ingest(str(tmp_path / "in" / "part*.csv"), "a.globbed", timestamp_column="ts", warehouse=warehouse)
    assert r2.records_written == 300


def test_csv_quoted_newlines_survive_block_boundaries(tmp_path, warehouse):
    path = tmp_path / "q.csv"
    with open(path, "w") as f:
        f.write("id,ts,note\n")
        for i in range(2000):
            f.write(f'{i},2024-02-01T00:00:00Z,"line one\nline two of {i}"\n')
    r = lakekit.ingest(str(path), "a.q", timestamp_column="ts", warehouse=warehouse, block_size=4096)
    assert (r.records_read, r.records_written, r.records_rejected) == (2000, 2000, 0)
    notes = read_back_pyarrow(os.path.join(warehouse, "a", "q")).sort_by("id")["note"].to_pylist()
    assert notes[1999] == "line one\nline two of 1999"


def test_timestamps_in_any_offset_partition_by_utc(tmp_path, warehouse):
    src = write_jsonl(tmp_path / "tz.jsonl", [
        {"id": 1, "ts": "2024-03-07T23:30:00-02:00"},  # 2024-03-08 01:30 UTC
        {"id": 2, "ts": "2024-03-08T00:30:00+02:00"},  # 2024-03-07 22:30 UTC
        {"id": 3, "ts": "2024-03-07 12:00:00"},        # no offset: taken as UTC
        {"id": 4, "ts": 1709769600},                   # epoch seconds: 2024-03-07 00:00 UTC
    ])
    lakekit.ingest(src, "a.tz", timestamp_column="ts", warehouse=warehouse)
    back = {r["id"]: r for r in read_back_pyarrow(os.path.join(warehouse, "a", "tz")).to_pylist()}
    assert back[1]["day"] == "08" and back[2]["day"] == "07" and back[3]["day"] == "07"
    assert back[1]["ts"] == dt.datetime(2024, 3, 8, 1, 30, tzinfo=dt.UTC)
    # epoch numbers in a text timestamp column are a type mismatch, not a guess
    assert 4 not in back


def test_coarser_partitioning(events_file, warehouse):
    r = lakekit.ingest(events_file, "a.monthly", timestamp_column="ts", partition_by="year,month", warehouse=warehouse)
    dirs = {os.path.relpath(os.path.dirname(p), os.path.join(warehouse, "a", "monthly")).split(os.sep, 1)[1]
            for p in visible_data_files(warehouse, "a", "monthly")}
    assert dirs == {"year=2024/month=03"}
    assert r.partitions_written == 1


def test_without_timestamp_the_table_is_unpartitioned(tmp_path, warehouse):
    src = write_jsonl(tmp_path / "d.jsonl", [{"k": i} for i in range(10)])
    r = lakekit.ingest(src, "a.dim", warehouse=warehouse)
    assert r.partitions_written == 0 and r.records_written == 10
    table = catalog_of(warehouse).get_table("a", "dim")
    assert table.location == os.path.join(warehouse, "a", "dim", r.ingest_id)  # the table moves with each commit
    assert [os.path.dirname(p) for p in visible_data_files(warehouse, "a", "dim")] == [table.location]


def test_layout_file_supplies_table_and_columns(events_file, warehouse, tmp_path):
    r = lakekit.ingest(events_file, layout="layouts/events.yaml", warehouse=warehouse, target_file_size="1MiB")
    assert r.table == "analytics.events"
    table = catalog_of(warehouse).get_table("analytics", "events")
    assert [c.name for c in table.columns][:3] == ["event_id", "ts", "user_id"]
