"""Many partitions under a memory budget: rows of small partitions are spilled to a
local file and read back, so each partition still ends in one file, every row is kept,
and nothing of the spill outlives the ingest (not even a SIGKILLed one).

Expected rows and partitions are computed from the source records (json), and the
output is read back with pyarrow and DuckDB, not through lakekit."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections import Counter

import pyarrow.parquet as pq
import pytest

import lakekit
from tests.helpers import read_back_duckdb, read_back_pyarrow, visible_data_files, write_jsonl

BASE = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
DAYS = 2000


def _records(n: int, days: int = DAYS, extra_from: int | None = None) -> list[dict]:
    out = []
    for i in range(n):
        rec = {"id": i, "ts": (BASE + dt.timedelta(days=i % days, seconds=i)).isoformat(), "pad": f"p{i:08d}" * 4}
        if extra_from is not None and i >= extra_from:
            rec["extra"] = i * 2
        out.append(rec)
    return out


def _partition(rec: dict) -> tuple[str, str, str]:
    day = dt.datetime.fromisoformat(rec["ts"])
    return f"{day.year:04d}", f"{day.month:02d}", f"{day.day:02d}"


def _files_by_partition(warehouse: str) -> Counter:
    out: Counter = Counter()
    for f in visible_data_files(warehouse, "s", "t"):
        parts = dict(p.split("=", 1) for p in f.split(os.sep) if "=" in p)
        out[(parts["year"], parts["month"], parts["day"])] += 1
    return out


def _spill_files(root: str) -> list[str]:
    return [os.path.join(d, f) for d, _, files in os.walk(root) for f in files if f.endswith(".arrows")]


def test_two_thousand_partitions_under_a_small_budget_make_one_file_each(tmp_path, warehouse):
    records = _records(12_000)
    src = write_jsonl(tmp_path / "a.jsonl", records)
    r = lakekit.ingest(src, "s.t", timestamp_column="ts", warehouse=warehouse, memory_budget=512 << 10,
                       block_size=64 << 10)
    expected = Counter(_partition(rec) for rec in records)
    assert r.partitions_written == len(expected) == DAYS and r.records_written == len(records)
    # one file per partition, of one row group holding all of that partition's rows
    assert _files_by_partition(warehouse) == Counter(dict.fromkeys(expected, 1))
    for f in visible_data_files(warehouse, "s", "t"):
        meta = pq.read_metadata(f)
        parts = dict(p.split("=", 1) for p in f.split(os.sep) if "=" in p)
        assert meta.num_row_groups == 1 and meta.num_rows == expected[(parts["year"], parts["month"], parts["day"])]
    table = read_back_pyarrow(os.path.join(warehouse, "s", "t"))
    got = sorted(zip(table["id"].to_pylist(), table["pad"].to_pylist()))
    assert got == [(rec["id"], rec["pad"]) for rec in records]
    assert _spill_files(warehouse) == []


def test_spilled_rows_keep_their_values_when_a_column_appears_later(tmp_path, warehouse):
    records = _records(6_000, days=600, extra_from=3_000)
    src = write_jsonl(tmp_path / "a.jsonl", records)
    lakekit.ingest(src, "s.t", timestamp_column="ts", warehouse=warehouse, memory_budget=256 << 10, block_size=32 << 10)
    rows, names = read_back_duckdb(os.path.join(warehouse, "s", "t"), "id")
    got = [dict(zip(names, row)) for row in rows]
    assert [(g["id"], g["extra"], g["ts"].replace(tzinfo=dt.UTC)) for g in got] == \
        [(rec["id"], rec.get("extra"), dt.datetime.fromisoformat(rec["ts"])) for rec in records]


_INGEST = """
import sys, lakekit
lakekit.ingest(sys.argv[1], "s.t", timestamp_column="ts", warehouse=sys.argv[2], memory_budget=256 << 10,
               block_size=32 << 10)
"""


def test_a_killed_ingest_leaves_no_spill_after_the_next_run(tmp_path, warehouse):
    records = _records(6_000, days=1_000)
    src = write_jsonl(tmp_path / "a.jsonl", records)
    marker = tmp_path / "paused"
    env = {**os.environ, "LAKEKIT_TEST_PAUSE_AT": "parsed", "LAKEKIT_TEST_PAUSE_FILE": str(marker)}
    proc = subprocess.Popen([sys.executable, "-c", _INGEST, src, warehouse], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not marker.exists():
        if proc.poll() is not None:
            pytest.fail(f"the ingest ended (exit {proc.returncode}) before it paused: {proc.stderr.read().decode()}")
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert _spill_files(warehouse), "the ingest should have spilled by the time every record was read"
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    subprocess.run([sys.executable, "-c", _INGEST, src, warehouse], check=True, capture_output=True)
    assert _spill_files(warehouse) == []
    table = read_back_pyarrow(os.path.join(warehouse, "s", "t"))
    # the killed run committed nothing: every record once, none twice
    assert sorted(table["id"].to_pylist()) == [rec["id"] for rec in records]
