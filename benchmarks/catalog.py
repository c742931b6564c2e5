"""Glue benchmark: registering partitions, and ingesting to s3:// + Glue.

Part 1 registers 5,000 daily partitions of one table in Glue with lakekit
(``GlueCatalog.add_partitions``: ``BatchCreatePartition`` 100 at a time, requests sent
concurrently) and with ``awswrangler.catalog.add_parquet_partitions`` (100 at a time,
one request after the other). Glue is a moto server process on 127.0.0.1, reset before
every run, so both start from the same empty table. It runs twice:

* as is: the server answers in milliseconds with no network in between, so the
  figure shows client and server CPU cost, not what waiting on Glue costs;
* with a simulated network round trip: a botocore ``before-send`` handler on the
  boto3 session sleeps ``--rtt-ms`` (default 50) before every AWS request of both
  tools. This is a simulation of a remote endpoint's latency, not a measurement
  of real Glue: it adds the same fixed wait to every call and models no server-side
  throttling.

Every run is checked: the table must hold exactly 5,000 partitions afterwards.

Part 2 ingests the same synthetic events to ``s3://`` with Glue registration, with
the ``lakekit ingest`` command and with pandas + ``awswrangler.s3.to_parquet(dataset=
True, database=..., table=...)``, each in its own process (wall seconds, peak RSS via
``_measure.measure``), rows read back from S3 afterwards.

Part 3 crawls ``--crawl-files`` small Parquet files (one a partition) that pyarrow-made
bytes put straight into S3, then syncs twice: with nothing changed, and after a tenth
of the files were deleted (each run checked: every file registered, exactly the
deleted partitions removed).

Usage::

    .venv/bin/python benchmarks/catalog.py                 # both parts, prints a report
    .venv/bin/python benchmarks/catalog.py --partitions 1000 --records 50000 --repeat 1
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO))

from _baselines import awswrangler_ingest  # noqa: E402
from _measure import measure, rtt_session  # noqa: E402

PYTHON = sys.executable
LAKEKIT = str(Path(sys.executable).with_name("lakekit"))
BUCKET = "bench"
TARGET_RATIO_WITH_RTT = 4.0


def _partition_values(n: int) -> list[tuple[str, str, str]]:
    start = dt.date(2010, 1, 1)
    days = [start + dt.timedelta(days=i) for i in range(n)]
    return [(f"{d.year:04d}", f"{d.month:02d}", f"{d.day:02d}") for d in days]


def _make_table(name: str):
    from lakekit.catalog.base import Column, Table
    from lakekit.catalog.glue import GlueCatalog
    from lakekit.config import Settings

    table = Table("bench", name, f"s3://{BUCKET}/lake/bench/{name}",
                  [Column("event_id", "string"), Column("ts", "timestamp"), Column("amount", "double")],
                  [Column(k, "string") for k in ("year", "month", "day")], {"compression": "zstd"})
    GlueCatalog(Settings(warehouse=f"s3://{BUCKET}/lake", catalog="glue")).create_or_update_table(table)
    return table


def _count_partitions(name: str) -> int:
    import boto3

    pages = boto3.client("glue").get_paginator("get_partitions").paginate(DatabaseName="bench", TableName=name)
    return sum(len(p["Partitions"]) for p in pages)


def register_with_lakekit(n: int, rtt_ms: float) -> float:
    from lakekit.catalog.base import Partition
    from lakekit.catalog.glue import GlueCatalog
    from lakekit.config import Settings

    table = _make_table("lk")
    parts = [Partition(v, f"{table.location}/year={v[0]}/month={v[1]}/day={v[2]}") for v in _partition_values(n)]
    catalog = GlueCatalog(Settings(warehouse=f"s3://{BUCKET}/lake", catalog="glue"), boto3_session=rtt_session(rtt_ms))
    started = time.perf_counter()
    catalog.add_partitions("bench", "lk", parts)
    seconds = time.perf_counter() - started
    assert _count_partitions("lk") == n, "lakekit did not register every partition"
    return seconds


def register_with_awswrangler(n: int, rtt_ms: float) -> float:
    import awswrangler as wr

    table = _make_table("wr")
    values = {f"{table.location}/year={v[0]}/month={v[1]}/day={v[2]}/": list(v) for v in _partition_values(n)}
    session = rtt_session(rtt_ms)
    started = time.perf_counter()
    # columns_types: the partitions carry the table's columns, as lakekit's do and as
    # wr.s3.to_parquet(dataset=True, database=...) registers them
    wr.catalog.add_parquet_partitions(database="bench", table="wr", partitions_values=values, compression="zstd",
                                      columns_types={c.name: c.type for c in table.columns}, boto3_session=session)
    seconds = time.perf_counter() - started
    assert _count_partitions("wr") == n, "awswrangler did not register every partition"
    return seconds


def partitions_benchmark(server, n: int, rtt_ms: float, repeat: int) -> dict:
    import boto3

    results: dict[str, list[float]] = {"lakekit": [], "awswrangler": []}
    for _ in range(repeat):
        for tool, fn in (("lakekit", register_with_lakekit), ("awswrangler", register_with_awswrangler)):
            server.reset()
            boto3.client("s3").create_bucket(Bucket=BUCKET)
            results[tool].append(fn(n, rtt_ms))
    lk, wr_ = statistics.median(results["lakekit"]), statistics.median(results["awswrangler"])
    return {"partitions": n, "rtt_ms": rtt_ms, "lakekit_s": lk, "awswrangler_s": wr_, "ratio": wr_ / lk,
            "lakekit_runs": results["lakekit"], "awswrangler_runs": results["awswrangler"]}


# -- part 2: ingest to s3:// + Glue ---------------------------------------------------------
def child_awswrangler(source: str, s3_path: str) -> None:
    awswrangler_ingest(source, s3_path, database="wr", table="events", mode="append")


def _rows_in_s3(prefix: str) -> int:
    import pyarrow.dataset as ds

    from lakekit.aws import s3_filesystem

    fs = s3_filesystem()
    selector_root = prefix[len("s3://"):]
    files = [i.path for i in fs.get_file_info(__import__("pyarrow.fs").fs.FileSelector(selector_root, recursive=True))
             if i.type.name == "File" and i.path.endswith(".parquet") and "/_" not in i.path[len(selector_root):]]
    return ds.dataset(files, filesystem=fs, format="parquet").count_rows() if files else 0


def ingest_benchmark(server, records: int, workdir: Path, timeout: float) -> list[dict]:
    import boto3

    from lakekit.sample import events_jsonl

    source = workdir / f"events-{records}.jsonl"
    if not source.exists():
        with open(source, "w") as f:
            f.writelines(events_jsonl(records, seed=42))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LAKEKIT_", "AWS_"))}
    env.update(server.env())
    out = []
    server.reset()
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    argv = [LAKEKIT, "ingest", str(source), "--table", "lk.events", "--timestamp-column", "ts",
            "--warehouse", f"s3://{BUCKET}/lake", "--catalog", "glue", "--json"]
    m = measure(argv, env=env, cwd=workdir, timeout=timeout)
    rows = _rows_in_s3(f"s3://{BUCKET}/lake/lk/events") if m.ok else None
    out.append({"tool": "lakekit ingest (s3:// + glue)", "seconds": m.seconds, "peak_rss_mb": m.peak_rss_mb,
                "rows": rows, "ok": m.ok and rows == records, "error": None if m.ok else m.failure()})
    server.reset()
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    boto3.client("glue").create_database(DatabaseInput={"Name": "wr"})
    argv = [PYTHON, __file__, "--child", str(source), f"s3://{BUCKET}/wr/events/"]
    m = measure(argv, env=env, cwd=workdir, timeout=timeout)
    rows = _rows_in_s3(f"s3://{BUCKET}/wr/events") if m.ok else None
    out.append({"tool": "pandas + awswrangler (s3:// + glue)", "seconds": m.seconds, "peak_rss_mb": m.peak_rss_mb,
                "rows": rows, "ok": m.ok and rows == records, "error": None if m.ok else m.failure()})
    for r in out:
        r["records_per_s"] = records / r["seconds"] if r["ok"] else None
    return out


def machine(load_before: tuple, load_after: tuple) -> str:
    import awswrangler
    import boto3
    import moto
    import pyarrow

    return (f"{os.cpu_count()} cores, Python {sys.version.split()[0]}, boto3 {boto3.__version__}, "
            f"awswrangler {awswrangler.__version__}, moto {moto.__version__}, pyarrow {pyarrow.__version__}; "
            f"1-minute load average {load_before[0]:.1f} at start, {load_after[0]:.1f} at end")


# -- part 3: crawl and sync ------------------------------------------------------------------
def crawl_benchmark(server, files: int) -> dict:
    """Crawl ``files`` small Parquet files (one a partition) written by pyarrow into S3,
    then sync with nothing changed, then sync after a tenth of them were deleted."""
    import io
    from concurrent.futures import ThreadPoolExecutor

    import boto3
    import pyarrow as pa
    import pyarrow.parquet as pq

    from lakekit import crawl, sync

    server.reset()
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    buf = io.BytesIO()
    pq.write_table(pa.table({"x": list(range(1000)), "s": ["a"] * 1000}), buf)
    body = buf.getvalue()
    keys = [f"raw/clicks/dt={d.isoformat()}/h={h:02d}/part-0.parquet"
            for d in (dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range(files // 20 + 1)) for h in range(20)][:files]
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda k: s3.put_object(Bucket=BUCKET, Key=k, Body=body), keys))
    where = dict(warehouse=f"s3://{BUCKET}/lake", catalog="glue")
    started = time.perf_counter()
    crawled = crawl(f"s3://{BUCKET}/raw/clicks", "web.clicks", **where)
    crawl_s = time.perf_counter() - started
    assert crawled.files == files and crawled.partitions == files
    started = time.perf_counter()
    assert not sync("web.clicks", **where).changed
    sync_same_s = time.perf_counter() - started
    gone = keys[: files // 10]
    for i in range(0, len(gone), 1000):
        s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": k} for k in gone[i:i + 1000]]})
    started = time.perf_counter()
    synced = sync("web.clicks", **where)
    sync_gone_s = time.perf_counter() - started
    assert len(synced.partitions_removed) == len(gone)
    return {"files": files, "crawl_s": crawl_s, "sync_unchanged_s": sync_same_s,
            "sync_removed": len(gone), "sync_removed_s": sync_gone_s}


def report(parts: list[dict], ingests: list[dict], records: int, where: str = "", crawls: dict | None = None) -> str:
    lines = ([f"Machine: {where}", ""] if where else []) + [
             "## Registering partitions in Glue (moto server on 127.0.0.1)", "",
             "| partitions | simulated RTT | lakekit s | awswrangler s | awswrangler / lakekit |",
             "|---:|---:|---:|---:|---:|"]
    for p in parts:
        lines.append(f"| {p['partitions']:,} | {p['rtt_ms']:.0f} ms | {p['lakekit_s']:.2f} | "
                     f"{p['awswrangler_s']:.2f} | {p['ratio']:.1f}x |")
    with_rtt = [p for p in parts if p["rtt_ms"] > 0]
    if with_rtt:
        ratio = with_rtt[-1]["ratio"]
        verdict = "met" if ratio >= TARGET_RATIO_WITH_RTT else "MISSED"
        lines += ["", f"Target with the simulated round trip: lakekit >= {TARGET_RATIO_WITH_RTT:.0f}x faster: "
                      f"{ratio:.1f}x, {verdict}."]
    lines += ["", "Every run: median of the repeats; runs "
              + "; ".join(f"RTT {p['rtt_ms']:.0f} ms lakekit {[round(x, 2) for x in p['lakekit_runs']]} "
                          f"awswrangler {[round(x, 2) for x in p['awswrangler_runs']]}" for p in parts)]
    if ingests:
        lines += ["", f"## Ingest of {records:,} events to s3:// with Glue registration (moto server)", "",
                  "| tool | seconds | records/s | peak RSS MiB | rows read back |", "|---|---:|---:|---:|---:|"]
        for r in ingests:
            rate = f"{r['records_per_s']:,.0f}" if r["records_per_s"] else "failed"
            rows = f"{r['rows']:,}" if r["rows"] is not None else (r["error"] or "-")
            lines.append(f"| {r['tool']} | {r['seconds']:.2f} | {rate} | {r['peak_rss_mb']:.0f} | {rows} |")
    if crawls:
        lines += ["", f"## Crawl and sync of {crawls['files']:,} Parquet files, one a partition (S3 + Glue, moto)", "",
                  "| step | seconds |", "|---|---:|",
                  f"| crawl (list, {crawls['files']:,} footers, register table, partitions, statistics) "
                  f"| {crawls['crawl_s']:.2f} |",
                  f"| sync, nothing changed | {crawls['sync_unchanged_s']:.2f} |",
                  f"| sync after {crawls['sync_removed']:,} partitions' files were deleted | {crawls['sync_removed_s']:.2f} |"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        child_awswrangler(argv[1], argv[2])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--partitions", type=int, default=5000)
    parser.add_argument("--rtt-ms", type=float, default=50.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--records", type=int, default=200_000, help="events for the ingest part (0: skip it)")
    parser.add_argument("--crawl-files", type=int, default=1000, help="files for the crawl/sync part (0: skip it)")
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--json", dest="json_out", help="also write the raw figures to this file")
    args = parser.parse_args(argv)

    from tests.moto_server import MotoServer

    load_before = os.getloadavg()
    with MotoServer() as server:
        os.environ.update(server.env())
        parts = []
        for rtt in (0.0, args.rtt_ms):
            print(f"registering {args.partitions:,} partitions, simulated RTT {rtt:.0f} ms ...", file=sys.stderr)
            parts.append(partitions_benchmark(server, args.partitions, rtt, args.repeat))
        ingests = []
        if args.records:
            print(f"ingesting {args.records:,} events to s3:// ...", file=sys.stderr)
            with tempfile.TemporaryDirectory() as tmp:
                ingests = ingest_benchmark(server, args.records, Path(tmp), args.timeout)
        crawls = None
        if args.crawl_files:
            print(f"crawling and syncing {args.crawl_files:,} files ...", file=sys.stderr)
            crawls = crawl_benchmark(server, args.crawl_files)
    print(report(parts, ingests, args.records, machine(load_before, os.getloadavg()), crawls))
    if args.json_out:
        Path(args.json_out).write_text(json.dumps({"partitions": parts, "ingest": ingests, "crawl": crawls}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
