"""Atomic commit under SIGKILL, idempotent re-ingest, and overwrite-partitions."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

import lakekit
from tests.ingest.conftest import LAKEKIT, catalog_of, read_back_pyarrow, visible_data_files, write_jsonl


def _source(tmp_path, name="e.jsonl", days=(1, 2, 3), per_day=50, start_id=0):
    records = []
    i = start_id
    for d in days:
        for _ in range(per_day):
            records.append({"id": i, "ts": f"2024-04-{d:02d}T12:00:00Z", "v": float(i)})
            i += 1
    return write_jsonl(tmp_path / name, records)


def _table_state(warehouse):
    cat = catalog_of(warehouse)
    table = cat.get_table("c", "t")
    state = (
        None if table is None else [c.name for c in table.columns],
        [p.values for p in cat.list_partitions("c", "t")],
        sorted(f.uri for f in cat.list_files("c", "t")),
        sorted(cat.loaded_hashes("c", "t")),
        visible_data_files(warehouse, "c", "t"),
    )
    cat.close()
    return state


def _killed_ingest(tmp_path, warehouse, src, point):
    marker = tmp_path / f"paused-{point}"
    env = {**os.environ, "LAKEKIT_TEST_PAUSE_AT": point, "LAKEKIT_TEST_PAUSE_FILE": str(marker)}
    proc = subprocess.Popen([LAKEKIT, "ingest", src, "--table", "c.t", "--timestamp-column", "ts",
                             "--warehouse", warehouse], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline, "ingest never reached the pause point"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL


@pytest.mark.parametrize("point", ["parsed", "staged", "journaled"])
def test_kill_before_commit_leaves_table_and_catalog_unchanged(tmp_path, warehouse, point):
    first = _source(tmp_path, "first.jsonl", days=(1,))
    lakekit.ingest(first, "c.t", timestamp_column="ts", warehouse=warehouse)
    before = _table_state(warehouse)

    second = _source(tmp_path, "second.jsonl", days=(2, 3), start_id=1000)
    _killed_ingest(tmp_path, warehouse, second, point)
    assert _table_state(warehouse) == before
    assert sorted(read_back_pyarrow(os.path.join(warehouse, "c", "t"))["id"].to_pylist()) == list(range(50))

    again = lakekit.ingest(second, "c.t", timestamp_column="ts", warehouse=warehouse)
    assert again.records_written == 100
    staging = os.path.join(warehouse, "_lakekit", "staging")
    assert os.listdir(staging) == [], "the killed ingest's staging files were not cleaned up"
    assert os.listdir(os.path.join(warehouse, "_lakekit", "journal")) == []
    ids = sorted(read_back_pyarrow(os.path.join(warehouse, "c", "t"))["id"].to_pylist())
    assert ids == list(range(50)) + list(range(1000, 1100))
    assert lakekit.ingest(second, "c.t", timestamp_column="ts", warehouse=warehouse).skipped_sources == [second]


def test_kill_after_catalog_commit_is_finished_by_the_next_run(tmp_path, warehouse):
    src = _source(tmp_path)
    _killed_ingest(tmp_path, warehouse, src, "committed")
    # The catalog commit happened: the next run completes the moves, then skips the
    # source as already ingested, so the data lands exactly once.
    result = lakekit.ingest(src, "c.t", timestamp_column="ts", warehouse=warehouse)
    assert result.skipped_sources == [src] and result.records_written == 0
    cols, parts, files, hashes, visible = _table_state(warehouse)
    assert files == visible and len(files) == 3 and len(parts) == 3
    assert sorted(read_back_pyarrow(os.path.join(warehouse, "c", "t"))["id"].to_pylist()) == list(range(150))


def test_a_query_after_a_crash_past_the_commit_point_sees_every_row(tmp_path, warehouse):
    src = _source(tmp_path)
    _killed_ingest(tmp_path, warehouse, src, "committed")
    table = lakekit.query("SELECT count(*) AS n FROM c.t", warehouse=warehouse)
    assert table.column("n").to_pylist() == [150]
    cols, parts, files, hashes, visible = _table_state(warehouse)
    assert files == visible and len(files) == 3


def test_reingest_is_skipped_unless_forced(tmp_path, warehouse):
    src = _source(tmp_path)
    first = lakekit.ingest(src, "c.t", timestamp_column="ts", warehouse=warehouse)
    assert first.records_written == 150 and first.skipped_sources == []
    # same content under another name is the same source
    copy = tmp_path / "copy.jsonl"
    copy.write_bytes(Path(src).read_bytes())
    again = lakekit.ingest([src, str(copy)], "c.t", timestamp_column="ts", warehouse=warehouse)
    assert again.skipped_sources == [src, str(copy)] and again.records_read == 0
    forced = lakekit.ingest(src, "c.t", timestamp_column="ts", warehouse=warehouse, force=True)
    assert forced.records_written == 150
    assert len(read_back_pyarrow(os.path.join(warehouse, "c", "t"))) == 300


def test_overwrite_partitions_replaces_exactly_the_touched_partitions(tmp_path, warehouse):
    lakekit.ingest(_source(tmp_path, "a.jsonl", days=(1, 2, 3)), "c.t", timestamp_column="ts", warehouse=warehouse)
    redo = _source(tmp_path, "b.jsonl", days=(2,), per_day=7, start_id=5000)
    result = lakekit.ingest(redo, "c.t", timestamp_column="ts", warehouse=warehouse, mode="overwrite-partitions")
    assert result.partitions_written == 1
    back = read_back_pyarrow(os.path.join(warehouse, "c", "t"))
    by_day = {}
    for row in back.to_pylist():
        by_day.setdefault(row["day"], []).append(row["id"])
    assert sorted(by_day["01"]) == list(range(0, 50))
    assert sorted(by_day["02"]) == list(range(5000, 5007))
    assert sorted(by_day["03"]) == list(range(100, 150))
    cat = catalog_of(warehouse)
    day2 = [f for f in cat.list_files("c", "t") if f.partition_values == ("2024", "04", "02")]
    assert len(day2) == 1 and day2[0].rows == 7
    assert sorted(f.uri for f in cat.list_files("c", "t")) == visible_data_files(warehouse, "c", "t")


def test_stdin_source_and_its_idempotency(tmp_path, warehouse):
    data = Path(_source(tmp_path)).read_bytes()
    args = [LAKEKIT, "ingest", "-", "--table", "c.t", "--timestamp-column", "ts", "--warehouse", warehouse, "--json"]
    out = json.loads(subprocess.run(args, input=data, capture_output=True, check=True).stdout)
    assert out["records_written"] == 150 and out["skipped_sources"] == []
    again = json.loads(subprocess.run(args, input=data, capture_output=True, check=True).stdout)
    assert again["skipped_sources"] == ["<stdin>"] and again["records_written"] == 0
    assert len(read_back_pyarrow(os.path.join(warehouse, "c", "t"))) == 150


def test_gzip_on_stdin(tmp_path, warehouse):
    import gzip

    data = gzip.compress(Path(_source(tmp_path)).read_bytes())
    args = [LAKEKIT, "ingest", "-", "--table", "c.t", "--timestamp-column", "ts", "--warehouse", warehouse, "--json"]
    out = json.loads(subprocess.run(args, input=data, capture_output=True, check=True).stdout)
    assert out["records_written"] == 150
