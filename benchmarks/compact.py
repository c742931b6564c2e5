"""Compaction benchmark: 2,000 small files over 60 partitions, compacted locally and on
S3 + Glue (a moto server process on 127.0.0.1).

The small files are written by lakekit itself: one ingest of synthetic events over 60
days with a tiny ``--target-file-size`` and memory budget, so every partition holds
about 33 files of ~10 KiB (what a stream of small batches leaves). Then ``lakekit
compact`` (target 128 MiB, the default) rewrites each partition into one file, one
commit per partition. Reported per backend:

* wall seconds and CPU seconds (user + sys) of the compaction, and the machine's load;
* files before and after, bytes rewritten and written;
* the estimate of a full scan (``SELECT *``) before and after: bytes Athena would
  scan and bill, and the seconds the estimate takes (best of three, warm);
* a check: the sorted rows' hash (DuckDB over the files the catalog lists) is the
  same before and after.

On moto, each boto3 request (Glue, S3 copies, deletes, the log's conditional writes)
first sleeps ``--rtt-ms`` (default 50) in a botocore ``before-send`` handler, as
``benchmarks/catalog.py`` does. Data reads and uploads go through pyarrow's S3 client,
which the handler does not reach: they are not delayed.

Usage::

    .venv/bin/python benchmarks/compact.py                       # both backends
    .venv/bin/python benchmarks/compact.py --files 600 --partitions 20 --backend local
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

from _measure import rtt_session  # noqa: E402

TABLE = "bench.events"
#: records a file of ~10 KiB holds (measured: zstd Parquet of these synthetic events)
RECORDS_PER_FILE = 152


def _source(path: Path, files: int, partitions: int) -> int:
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    per_partition = files // partitions * RECORDS_PER_FILE
    n = 0
    with open(path, "w") as f:
        for i in range(per_partition):
            for p in range(partitions):
                ts = start + dt.timedelta(days=p, seconds=i * 7 % 86400)
                f.write(json.dumps({"event_id": f"e{n:09d}", "ts": ts.isoformat(), "user": f"u{n * 7919 % 50000}",
                                    "amount": round(n * 0.37 % 1000, 2), "kind": ("view", "click", "buy")[n % 3],
                                    "note": hashlib.sha256(str(n).encode()).hexdigest()}) + "\n")
                n += 1
    return n


def _content_hash(lake) -> tuple[str, int]:
    import duckdb
    import pyarrow as pa

    from lakekit.names import parse_table_name

    db, name = parse_table_name(TABLE)
    files = [f.uri for f in lake.catalog.list_files(db, name)]
    tables = []
    for uri in files:
        with lake.storage.open_random_access(uri) as src:
            import pyarrow.parquet as pq

            tables.append(pq.read_table(src))
    merged = pa.concat_tables(tables, promote_options="default")
    con = duckdb.connect()
    con.register("t", merged)
    rows = con.execute("SELECT * FROM t ORDER BY ALL").fetchall()
    return hashlib.sha256(repr(rows).encode()).hexdigest(), len(rows)


def _estimate(lake) -> dict:
    """The full-scan estimate, timed warm: the best of three (the first also pays for
    importing the planner)."""
    times = []
    for _ in range(3):
        started = time.perf_counter()
        est = lake.estimate(f"SELECT * FROM {TABLE}")
        times.append(time.perf_counter() - started)
    return {"bytes_scanned": est.bytes_scanned, "bytes_billed": est.bytes_billed, "seconds": round(min(times), 3)}


def _cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def run(backend: str, files: int, partitions: int, rtt_ms: float, work: Path) -> dict:
    from lakekit.lake import open_lake

    if backend == "local":
        warehouse, catalog, session = str(work / "lake"), "local", None
    else:
        import boto3

        boto3.client("s3").create_bucket(Bucket="bench")
        warehouse, catalog, session = "s3://bench/lake", "glue", rtt_session(rtt_ms)
    source = work / "events.jsonl"
    records = _source(source, files, partitions)
    with open_lake(warehouse=warehouse, catalog=catalog) as lake:
        # a tiny target and memory budget: the writer closes a file every ~10 KiB
        lake.ingest(str(source), TABLE, timestamp_column="ts", target_file_size="8KiB", memory_budget=256 << 10)
    with open_lake(warehouse=warehouse, catalog=catalog, boto3_session=session) as lake:
        before_hash, rows = _content_hash(lake)
        assert rows == records
        db, name = TABLE.split(".")
        files_before = len(lake.catalog.list_files(db, name))
        estimate_before = _estimate(lake)
        load = os.getloadavg()[0]
        cpu, started = _cpu(), time.perf_counter()
        result = lake.compact(TABLE)
        seconds, cpu_seconds = time.perf_counter() - started, _cpu() - cpu
        load = max(load, os.getloadavg()[0])
        files_after = len(lake.catalog.list_files(db, name))
        estimate_after = _estimate(lake)
        after_hash, rows_after = _content_hash(lake)
    assert (after_hash, rows_after) == (before_hash, rows), "compaction changed the table's content"
    d = result.to_dict()
    return {"backend": backend, "rtt_ms": rtt_ms if backend == "aws" else 0, "records": records,
            "partitions": d["partitions_compacted"], "files_before": files_before, "files_after": files_after,
            "bytes_rewritten": d["bytes_rewritten"], "bytes_written": d["bytes_written"],
            "seconds": round(seconds, 2), "cpu_seconds": round(cpu_seconds, 2), "load_1m": round(load, 1),
            "estimate_before": estimate_before, "estimate_after": estimate_after, "content_unchanged": True}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--partitions", type=int, default=60)
    parser.add_argument("--rtt-ms", type=float, default=50.0)
    parser.add_argument("--backend", choices=["local", "aws", "both"], default="both")
    args = parser.parse_args()
    results = []
    for backend in (["local", "aws"] if args.backend == "both" else [args.backend]):
        with tempfile.TemporaryDirectory() as tmp:
            if backend == "aws":
                from tests.moto_server import MotoServer

                with MotoServer() as server:
                    os.environ.update(server.env())
                    results.append(run(backend, args.files, args.partitions, args.rtt_ms, Path(tmp)))
            else:
                results.append(run(backend, args.files, args.partitions, args.rtt_ms, Path(tmp)))
        print(json.dumps(results[-1]), flush=True)
    print()
    print("| backend | files before -> after | partitions | rewritten | compact s (CPU s) | load | "
          "full-scan estimate before -> after | estimate s before -> after |")
    print("|---|---|---:|---|---|---:|---|---|")
    from lakekit.units import format_bytes, human_bytes

    for r in results:
        name = "local" if r["backend"] == "local" else f"S3 + Glue (moto, {r['rtt_ms']:g} ms RTT)"
        eb, ea = r["estimate_before"], r["estimate_after"]
        print(f"| {name} | {r['files_before']:,} -> {r['files_after']:,} | {r['partitions']} | "
              f"{human_bytes(r['bytes_rewritten'])} -> {human_bytes(r['bytes_written'])} | "
              f"{r['seconds']} ({r['cpu_seconds']}) | {r['load_1m']} | "
              f"{format_bytes(eb['bytes_scanned'])} -> {format_bytes(ea['bytes_scanned'])} | "
              f"{eb['seconds']} -> {ea['seconds']} |")


if __name__ == "__main__":
    main()
