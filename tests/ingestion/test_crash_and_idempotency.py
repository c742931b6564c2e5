"""Idempotent re-ingest, racing runs of one source, and overwrite-partitions.
(Kills at every step of the commit: test_commit_protocol.py.)"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import lakekit
from tests.helpers import LAKEKIT, catalog_of, write_jsonl
from tests.readers import duckdb_rows, flatten, local_files, local_locations


def _source(tmp_path, name="e.jsonl", days=(1, 2, 3), per_day=50, start_id=0):
    records = []
    i = start_id
    for d in days:
        for _ in range(per_day):
            records.append({"id": i, "ts": f"2024-04-{d:02d}T12:00:00Z", "v": float(i)})
            i += 1
    return write_jsonl(tmp_path / name, records)


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
    assert sum(flatten(duckdb_rows(warehouse, "c", "t")).values()) == 300


def test_overwrite_partitions_replaces_exactly_the_touched_partitions(tmp_path, warehouse):
    lakekit.ingest(_source(tmp_path, "a.jsonl", days=(1, 2, 3)), "c.t", timestamp_column="ts", warehouse=warehouse)
    redo = _source(tmp_path, "b.jsonl", days=(2,), per_day=7, start_id=5000)
    result = lakekit.ingest(redo, "c.t", timestamp_column="ts", warehouse=warehouse, mode="overwrite-partitions")
    assert result.partitions_written == 1
    by_day = {values[2]: sorted(counts.elements()) for values, counts in duckdb_rows(warehouse, "c", "t").items()}
    assert by_day["01"] == list(range(0, 50))
    assert by_day["02"] == list(range(5000, 5007))
    assert by_day["03"] == list(range(100, 150))
    cat = catalog_of(warehouse)
    day2 = [f for f in cat.list_files("c", "t") if f.partition_values == ("2024", "04", "02")]
    assert len(day2) == 1 and day2[0].rows == 7
    locations = local_locations(warehouse, "c", "t")
    assert sorted(f.uri for f in cat.list_files("c", "t")) == sorted(u for loc in locations.values() for u in local_files(loc))


def test_stdin_source_and_its_idempotency(tmp_path, warehouse):
    data = Path(_source(tmp_path)).read_bytes()
    args = [LAKEKIT, "ingest", "-", "--table", "c.t", "--timestamp-column", "ts", "--warehouse", warehouse, "--json"]
    out = json.loads(subprocess.run(args, input=data, capture_output=True, check=True).stdout)
    assert out["records_written"] == 150 and out["skipped_sources"] == []
    again = json.loads(subprocess.run(args, input=data, capture_output=True, check=True).stdout)
    assert again["skipped_sources"] == ["<stdin>"] and again["records_written"] == 0
    assert sum(flatten(duckdb_rows(warehouse, "c", "t")).values()) == 150


def test_gzip_on_stdin(tmp_path, warehouse):
    import gzip

    data = gzip.compress(Path(_source(tmp_path)).read_bytes())
    args = [LAKEKIT, "ingest", "-", "--table", "c.t", "--timestamp-column", "ts", "--warehouse", warehouse, "--json"]
    out = json.loads(subprocess.run(args, input=data, capture_output=True, check=True).stdout)
    assert out["records_written"] == 150
