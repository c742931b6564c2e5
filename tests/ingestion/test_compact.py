"""``lakekit compact`` on the commit protocol, locally and on S3 + Glue (moto server).

What a compaction must keep is checked against facts lakekit did not compute: the
rows come from the source records (json), what a reader sees from readers that are
not lakekit (DuckDB or pyarrow over the locations the SQLite catalog lists; Glue's
partitions plus an S3 listing as Athena resolves them), and the content of the table
as a hash of its sorted rows with the column types those readers see.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter

import boto3
import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import lakekit
from tests.helpers import LAKEKIT, ROOT, write_jsonl
from tests.readers import _s3_keys, athena_locations, flatten, local_files, local_locations, rows_seen

TABLE = "c.t"


# -- facts from outside lakekit ------------------------------------------------------------
def _records(n: int, start: int = 0, days: int = 3) -> list[dict]:
    return [{"id": i, "ts": f"2024-01-{i % days + 1:02d}T{i % 24:02d}:00:00Z", "v": i * 0.5, "tag": f"t{i % 7}"}
            for i in range(start, start + n)]


def _files_seen(lake) -> dict[tuple, list[str]]:
    """Per partition, the data files an outside reader of the catalog reads."""
    if lake.kind == "aws":
        return {v: [f"s3://{b}/{k}" for b, k in _s3_keys(loc)] for v, loc in (athena_locations("c", "t") or {}).items()}
    return {v: local_files(loc) for v, loc in (local_locations(lake.warehouse, "c", "t") or {}).items()}


def _read(uri: str) -> pa.Table:
    if uri.startswith("s3://"):
        bucket, _, key = uri[len("s3://"):].partition("/")
        return pq.read_table(io.BytesIO(boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()))
    return pq.read_table(uri)


def content(lake) -> tuple[str, dict[str, str], int]:
    """(sha256 of the sorted rows, {column: type as DuckDB reads it}, rows) of the files an
    outside reader of the catalog reads, partition values included."""
    tables = []
    for values, files in _files_seen(lake).items():
        for uri in files:
            t = _read(uri)
            for i, v in enumerate(values):
                t = t.append_column(f"k{i}", pa.array([v] * t.num_rows, pa.string()))
            tables.append(t)
    if not tables:
        return "", {}, 0
    merged = pa.concat_tables(tables, promote_options="default")
    con = duckdb.connect()
    con.register("merged", merged)
    cols = ", ".join(f'"{c}"' for c in sorted(merged.column_names))
    rows = con.execute(f"SELECT {cols} FROM merged ORDER BY ALL").fetchall()
    types = {name: typ for name, typ, *_ in con.execute("DESCRIBE merged").fetchall()}
    return hashlib.sha256(repr(rows).encode()).hexdigest(), types, len(rows)


def _expected_ids(records) -> dict[tuple, Counter]:
    out: dict[tuple, Counter] = {}
    for r in records:
        out.setdefault((r["ts"][:4], r["ts"][5:7], r["ts"][8:10]), Counter())[r["id"]] += 1
    return out


def _ingest_many(lake, tmp_path, batches: int, per_batch: int, days: int = 3) -> list[dict]:
    records = []
    for b in range(batches):
        batch = _records(per_batch, start=b * per_batch, days=days)
        lakekit.ingest(write_jsonl(tmp_path / f"b{b}.jsonl", batch), TABLE, timestamp_column="ts",
                       warehouse=lake.warehouse, catalog=lake.catalog)
        records.extend(batch)
    return records


def _compact(lake, **kw):
    return lakekit.compact(TABLE, warehouse=lake.warehouse, catalog=lake.catalog, **kw)


def _cli(lake, *args, env=None, timeout=120):
    return subprocess.run([LAKEKIT, "compact", TABLE, "--warehouse", lake.warehouse, "--catalog", lake.catalog, *args],
                          capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=timeout)


# -- the main case: many small ingests, a query loop running meanwhile -----------------------
QUERY_LOOP = r"""
import os, sys, traceback
sys.path.insert(0, sys.argv[5])
import lakekit
from tests.readers import flatten, rows_seen
from tests.backends import BackendLake
kind, warehouse, catalog, stop = sys.argv[1:5]
lake = BackendLake(kind, warehouse, catalog, "")
with open(stop + ".out", "w") as out:
    while not os.path.exists(stop):
        try:
            seen = flatten(rows_seen(lake, "c", "t"))
            # the Athena view (Glue + S3) on AWS; lakekit's own query beside DuckDB's locally
            n = sum(seen.values()) if kind == "aws" else lakekit.query(
                "SELECT count(*) AS n FROM c.t", warehouse=warehouse, catalog=catalog).column("n")[0].as_py()
            out.write(f"{n} {sum(seen.values())} {max(seen.values())}\n")
        except Exception as ex:
            out.write("error " + repr(ex).replace("\n", " ") + "\n")
        out.flush()
"""


def _start_query_loop(lake, tmp_path) -> tuple[subprocess.Popen, str]:
    script = tmp_path / "query_loop.py"
    script.write_text(QUERY_LOOP)
    stop = str(tmp_path / "stop")
    with open(stop + ".err", "w") as err:  # a file, not a pipe: a full pipe would stall the loop
        proc = subprocess.Popen([sys.executable, str(script), lake.kind, lake.warehouse, lake.catalog, stop, str(ROOT)],
                                env=dict(os.environ), stderr=err)
    return proc, stop


def _loop_lines(stop: str) -> list[str]:
    try:
        with open(stop + ".out") as f:
            return [line.strip() for line in f if line.strip()]
    except FileNotFoundError:
        return []


def _wait_lines(stop: str, n: int, proc, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while len(_loop_lines(stop)) < n:
        if proc.poll() is not None:
            with open(stop + ".err") as err:
                pytest.fail(f"the query loop ended: {err.read()}")
        assert time.monotonic() < deadline, "the query loop did not run"
        time.sleep(0.05)


def test_fifty_small_ingests_compacted_while_queries_always_see_every_row(backend_lake, tmp_path):
    lake = backend_lake
    # fifty ingests locally; on the moto server (a second an ingest) ten make the same case
    batches = 50 if lake.kind == "local" else 10
    records = _ingest_many(lake, tmp_path, batches=batches, per_batch=6)
    before_hash, before_types, rows = content(lake)
    assert rows == len(records) == batches * 6
    files_before = _files_seen(lake)
    assert all(len(f) == batches for f in files_before.values()) and len(files_before) == 3

    proc, stop = _start_query_loop(lake, tmp_path)
    try:
        _wait_lines(stop, 2, proc)
        seen_before = len(_loop_lines(stop))
        # each partition's switch waits after its files are written, so queries run
        # between the three switches as well as during them
        pause = "0.7" if lake.kind == "local" else "2.5"
        out = _cli(lake, "--json", env={"LAKEKIT_TEST_PAUSE_AT": "staged", "LAKEKIT_TEST_PAUSE_SECONDS": pause})
        assert out.returncode == 0, out.stderr
        during = len(_loop_lines(stop)) - seen_before
        _wait_lines(stop, len(_loop_lines(stop)) + 1, proc)
    finally:
        open(stop, "w").close()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    lines = _loop_lines(stop)
    assert during >= 1, "no query ran while the compaction did"
    assert set(lines) == {f"{len(records)} {len(records)} 1"}, Counter(lines)

    doc = json.loads(out.stdout)
    assert doc["partitions_compacted"] == 3 and doc["files_before"] == 3 * batches and doc["files_after"] == 3
    assert doc["dry_run"] is False and doc["bytes_rewritten"] == sum(p["bytes"] for p in doc["partitions"])
    after = _files_seen(lake)
    assert {v: len(f) for v, f in after.items()} == {v: 1 for v in files_before}
    assert not set(sum(after.values(), [])) & set(sum(files_before.values(), []))
    assert content(lake) == (before_hash, before_types, rows)
    assert rows_seen(lake, "c", "t") == _expected_ids(records)
    # the new files are what an ingest writes: zstd, statistics on every column
    for files in after.values():
        meta = pq.ParquetFile(io.BytesIO(_bytes(files[0]))).metadata
        for rg in range(meta.num_row_groups):
            for c in range(meta.num_columns):
                chunk = meta.row_group(rg).column(c)
                assert chunk.compression == "ZSTD" and chunk.statistics is not None and chunk.statistics.has_min_max


def _bytes(uri: str) -> bytes:
    if uri.startswith("s3://"):
        bucket, _, key = uri[len("s3://"):].partition("/")
        return boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    with open(uri, "rb") as f:
        return f.read()


# -- kill -9 at every step --------------------------------------------------------------------
KILL_POINTS = {
    "local": {"staged": False, "commit-locked": False, "carried": False, "commit-applied": False,
              "committed": True, "collected": True},
    "aws": {"staged": False, "commit-locked": False, "carried": False, "logged": True, "published": True,
            "committed": True},
}
#: killed after the log entry, before Glue shows it: committed, but Athena reads the old
#: location until the next writer publishes it
NOT_SHOWN_YET = {("aws", "logged")}
KILL_CASES = [(kind, point) for kind, points in KILL_POINTS.items() for point in points]


@pytest.mark.parametrize("backend_lake,point", KILL_CASES, indirect=["backend_lake"], ids=[f"{k}-{p}" for k, p in KILL_CASES])
def test_a_kill_at_any_step_of_a_compaction_shows_readers_the_table_before_or_after(backend_lake, point, tmp_path):
    lake = backend_lake
    records = _ingest_many(lake, tmp_path, batches=4, per_batch=4, days=2)
    expected = _expected_ids(records)
    before_files = _files_seen(lake)
    before = content(lake)
    marker = tmp_path / "paused"
    retain = ["--retain", "0"] if point == "collected" else []
    env = {**os.environ, "LAKEKIT_TEST_PAUSE_AT": point, "LAKEKIT_TEST_PAUSE_FILE": str(marker)}
    proc = subprocess.Popen([LAKEKIT, "compact", TABLE, "--warehouse", lake.warehouse, "--catalog", lake.catalog,
                             *retain], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert proc.poll() is None, f"compact ended (exit {proc.returncode}) before {point}: {proc.stderr.read()}"
        assert time.monotonic() < deadline, f"compact never reached {point}"
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)

    # every partition is its old files or its new one: same rows, never both, never neither
    assert rows_seen(lake, "c", "t") == expected
    assert content(lake) == before
    seen = _files_seen(lake)
    first = min(before_files)
    switched = len(seen[first]) == 1
    assert switched == (KILL_POINTS[lake.kind][point] and (lake.kind, point) not in NOT_SHOWN_YET), seen[first]
    if not switched:
        assert seen == before_files
    for values, files in seen.items():
        assert files == before_files[values] or len(files) == 1

    # the next compaction finishes the killed one or starts over, and the table ends compacted
    again = _compact(lake, retain=0 if lake.kind == "local" else "1h")
    assert rows_seen(lake, "c", "t") == expected and content(lake) == before
    assert {v: len(f) for v, f in _files_seen(lake).items()} == {v: 1 for v in before_files}
    assert {p.partition for p in again.compacted} <= {"year=2024/month=01/day=01", "year=2024/month=01/day=02"}
    assert list(lake.storage().list_files(lake.storage().uri("_lakekit", "pending"))) == []


# -- the plan, --where, idempotence ------------------------------------------------------------
def _tree(root: str) -> dict[str, tuple[int, float]]:
    out = {}
    for folder, _, names in os.walk(root):
        for name in names:
            if name.endswith(("-wal", "-shm")):
                continue  # SQLite's shared-memory files, made by any reader of a WAL catalog
            path = os.path.join(folder, name)
            st = os.stat(path)
            out[os.path.relpath(path, root)] = (st.st_size, st.st_mtime_ns)
    return out


def test_dry_run_prints_the_plan_and_changes_nothing(tmp_path):
    warehouse = str(tmp_path / "lake")
    records = []
    for b in range(5):
        batch = _records(4, start=b * 4, days=2)
        lakekit.ingest(write_jsonl(tmp_path / f"{b}.jsonl", batch), TABLE, timestamp_column="ts", warehouse=warehouse)
        records.extend(batch)
    tree = _tree(warehouse)
    sizes = {}
    for values, files in {v: local_files(loc) for v, loc in local_locations(warehouse, "c", "t").items()}.items():
        sizes["/".join(f"{k}={x}" for k, x in zip(("year", "month", "day"), values))] = [os.path.getsize(f) for f in files]
    out = subprocess.run([LAKEKIT, "compact", TABLE, "--warehouse", warehouse, "--dry-run", "--json"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["dry_run"] is True and doc["partitions_compacted"] == 2
    assert {p["partition"]: (p["files_before"], p["files_after"], p["bytes"]) for p in doc["partitions"]} == \
        {name: (len(s), 1, sum(s)) for name, s in sizes.items()}
    assert doc["files_before"] == 10 and doc["files_after"] == 2 and doc["bytes_rewritten"] == sum(map(sum, sizes.values()))
    assert _tree(warehouse) == tree  # not a byte, not a timestamp
    text = subprocess.run([LAKEKIT, "compact", TABLE, "--warehouse", warehouse, "--dry-run"], capture_output=True,
                          text=True)
    assert text.returncode == 0 and "would rewrite 2 partition(s): 10 file(s) -> 2" in text.stderr
    assert "year=2024/month=01/day=01: 5 -> 1 file(s)" in text.stderr
    assert _tree(warehouse) == tree


def test_where_compacts_only_the_partitions_it_selects_and_a_second_run_does_nothing(backend_lake, tmp_path):
    lake = backend_lake
    records = _ingest_many(lake, tmp_path, batches=3, per_batch=6, days=3)
    before = _files_seen(lake)
    first = _compact(lake, where="day = '02' OR (year = '2024' AND month = '01' AND day = '03')")
    assert sorted(p.partition for p in first.compacted) == ["year=2024/month=01/day=02", "year=2024/month=01/day=03"]
    seen = _files_seen(lake)
    assert seen[("2024", "01", "01")] == before[("2024", "01", "01")]
    assert len(seen[("2024", "01", "02")]) == len(seen[("2024", "01", "03")]) == 1
    assert rows_seen(lake, "c", "t") == _expected_ids(records)
    everything = _compact(lake)
    assert [p.partition for p in everything.compacted] == ["year=2024/month=01/day=01"]
    settled = _files_seen(lake)
    again = _compact(lake)
    assert again.partitions == [] and again.to_dict()["files_before"] == 0
    assert _files_seen(lake) == settled  # idempotent: nothing rewritten, nothing switched


def test_full_files_are_kept_and_only_small_ones_rewritten(tmp_path):
    warehouse = str(tmp_path / "lake")
    big = [{"id": i, "ts": "2024-01-01T00:00:00Z", "pad": os.urandom(64).hex()} for i in range(4000)]
    lakekit.ingest(write_jsonl(tmp_path / "big.jsonl", big), TABLE, timestamp_column="ts", warehouse=warehouse,
                   target_file_size="64KiB")
    for b in range(3):
        lakekit.ingest(write_jsonl(tmp_path / f"s{b}.jsonl", [{"id": 10_000 + b, "ts": "2024-01-01T05:00:00Z",
                                                               "pad": "x"}]),
                       TABLE, timestamp_column="ts", warehouse=warehouse)
    location = local_locations(warehouse, "c", "t")[("2024", "01", "01")]
    files = local_files(location)
    full = {os.path.basename(f) for f in files if os.path.getsize(f) >= 48 << 10}
    assert len(full) >= 2
    result = lakekit.compact(TABLE, warehouse=warehouse, target_file_size="64KiB")
    (part,) = result.compacted
    assert part.files_rewritten == len(files) - len(full)
    after = local_files(local_locations(warehouse, "c", "t")[("2024", "01", "01")])
    assert full <= {os.path.basename(f) for f in after}  # carried as they were
    ids = Counter(r[0] for r in duckdb.sql(f"SELECT id FROM read_parquet({after!r})").fetchall())
    assert ids == Counter([r["id"] for r in big] + [10_000, 10_001, 10_002])
    assert lakekit.compact(TABLE, warehouse=warehouse, target_file_size="64KiB").partitions == []


def test_an_append_committed_during_a_compaction_is_kept(backend_lake, tmp_path):
    lake = backend_lake
    records = _ingest_many(lake, tmp_path, batches=3, per_batch=2, days=1)
    marker = tmp_path / "paused"
    env = {**os.environ, "LAKEKIT_TEST_PAUSE_AT": "staged", "LAKEKIT_TEST_PAUSE_FILE": str(marker),
           "LAKEKIT_TEST_PAUSE_SECONDS": "3"}
    proc = subprocess.Popen([LAKEKIT, "compact", TABLE, "--warehouse", lake.warehouse, "--catalog", lake.catalog,
                             "--json"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read() if proc.poll() else "slow"
        time.sleep(0.02)
    late = [{"id": 999, "ts": "2024-01-01T23:00:00Z", "v": 1.0, "tag": "late"}]
    lakekit.ingest(write_jsonl(tmp_path / "late.jsonl", late), TABLE, timestamp_column="ts",
                   warehouse=lake.warehouse, catalog=lake.catalog)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    doc = json.loads(out)
    assert doc["partitions_compacted"] == 1  # its inputs were carried by the append, not replaced
    assert rows_seen(lake, "c", "t") == _expected_ids(records + late)
    (files,) = _files_seen(lake).values()
    assert len(files) == 2  # the compacted file and the late append's


# -- unpartitioned tables, and what a folder reader sees ---------------------------------------
def test_an_unpartitioned_table_compacts_as_one_unit_and_its_folder_readers(tmp_path):
    warehouse = str(tmp_path / "lake")
    for i in range(3):
        lakekit.ingest(write_jsonl(tmp_path / f"{i}.jsonl", [{"id": i}]), "c.u", warehouse=warehouse)
    (location,) = local_locations(warehouse, "c", "u").values()
    home = os.path.join(warehouse, "c", "u")

    def ids(files):
        return sorted(r[0] for r in duckdb.sql(f"SELECT id FROM read_parquet({files!r})").fetchall())

    # The latest commit folder holds the earlier files as hard links: what its location
    # lists is the table, once each. Only a reader of the whole home folder also sees
    # the superseded folders (kept for --retain), the documented case.
    assert ids(local_files(location)) == [0, 1, 2]
    assert ids(local_files(home)) == [0, 0, 0, 1, 1, 2]
    with pytest.raises(lakekit.errors.UsageError, match="not partitioned"):
        lakekit.compact("c.u", warehouse=warehouse, where="year = '2024'")
    result = lakekit.compact("c.u", warehouse=warehouse, retain=0)
    assert [(p.partition, p.files_before, p.files_after) for p in result.compacted] == [("", 3, 1)]
    (new_location,) = local_locations(warehouse, "c", "u").values()
    assert ids(local_files(new_location)) == [0, 1, 2] and len(local_files(new_location)) == 1
    # --retain 0: the folder the compaction replaced is gone at once; the folders earlier
    # ingests replaced keep the hour those ingests gave them
    assert not os.path.exists(location)
    assert ids(local_files(home)) == [0, 0, 0, 1, 1, 2]
    assert lakekit.query("SELECT count(*) AS n FROM c.u", warehouse=warehouse).column("n")[0].as_py() == 3


def test_replaced_files_stay_for_retain_and_a_later_run_deletes_them(tmp_path):
    warehouse = str(tmp_path / "lake")
    for i in range(3):
        lakekit.ingest(write_jsonl(tmp_path / f"{i}.jsonl", [{"id": i, "ts": "2024-01-01T00:00:00Z"}]), TABLE,
                       timestamp_column="ts", warehouse=warehouse)
    (location,) = local_locations(warehouse, "c", "t").values()
    replaced = local_files(location)
    lakekit.compact(TABLE, warehouse=warehouse, retain="1s")
    assert all(os.path.exists(f) for f in replaced)  # a query that listed them can still read them
    time.sleep(1.2)
    later = lakekit.compact(TABLE, warehouse=warehouse)
    assert later.files_deleted == len(replaced) == 3 and later.partitions == []
    assert not any(os.path.exists(f) for f in replaced)
    commit_folder = location.split(os.sep + "year=")[0]
    assert not os.path.exists(commit_folder)  # emptied folders go with their files


# -- refusals ------------------------------------------------------------------------------------
def test_a_crawled_table_is_refused(tmp_path):
    folder = tmp_path / "exports" / "year=2024"
    folder.mkdir(parents=True)
    for i in range(2):
        pq.write_table(pa.table({"id": [i]}), folder / f"part-{i}.parquet")
    warehouse = str(tmp_path / "lake")
    lakekit.crawl(str(tmp_path / "exports"), "c.x", warehouse=warehouse)
    with pytest.raises(lakekit.errors.UsageError, match="registered by `lakekit catalog crawl`"):
        lakekit.compact("c.x", warehouse=warehouse)
    assert sorted(os.listdir(folder)) == ["part-0.parquet", "part-1.parquet"]


def test_retain_zero_is_refused_on_s3(s3_lake, tmp_path):
    _ingest_many(s3_lake, tmp_path, batches=2, per_batch=2, days=1)
    with pytest.raises(lakekit.errors.UsageError, match="--retain 0"):
        lakekit.compact(TABLE, warehouse=s3_lake.warehouse, catalog=s3_lake.catalog, retain="0")


def test_on_glue_athena_reads_the_new_location_and_the_log_keeps_statistics(s3_lake, tmp_path):
    records = _ingest_many(s3_lake, tmp_path, batches=3, per_batch=3, days=1)
    (old,) = athena_locations("c", "t").values()
    result = _compact(s3_lake)
    (new,) = athena_locations("c", "t").values()
    assert old != new and result.compacted[0].commit_id in new
    assert flatten(rows_seen(s3_lake, "c", "t")) == Counter(r["id"] for r in records)
    est = lakekit.estimate("SELECT count(*) FROM c.t", warehouse=s3_lake.warehouse, catalog=s3_lake.catalog)
    assert est.bytes_scanned >= 0
    n = lakekit.query("SELECT count(*) AS n, sum(v) AS s FROM c.t", warehouse=s3_lake.warehouse,
                      catalog=s3_lake.catalog).to_pylist()
    assert n == [{"n": len(records), "s": sum(r["v"] for r in records)}]
