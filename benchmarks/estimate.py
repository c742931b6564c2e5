"""Estimate benchmark: lakekit --dry-run vs athena-cost-guard, beside the bytes really read.

Builds one table, ``bench.events``, of ``--partitions`` day partitions
(``year=/month=/day=`` from 2019-01-01 on) and ``--files-per-partition`` zstd Parquet
files each (default 2,000 x 5 = 10,000 files, 2 row groups a file), registered in a
local lakekit catalog with footer statistics. The same files are uploaded to a real
moto server (S3) and the same table and partitions registered in its Glue catalog, so
athena-cost-guard (which reads Glue and lists S3) estimates the same table.

For each query it reports:

* lakekit's estimate (Athena's semantics: the timestamp column prunes row groups, not
  partitions), what it would scan with its advice, and the wall time of
  ``lakekit query --dry-run`` as a user runs it (a new process each time: interpreter
  start, imports, catalog read, one listing of the partitions) and of the in-process
  ``Lake.estimate`` call once warm (median of repeated calls on one open lake);
* the cost of one listing of the table's 10,000 files, locally and on moto's S3;
* athena-cost-guard 0.2.2's two tiers: Tier 1 (every byte of every matched object)
  and Tier 2 (``sample_columns=True``: scaled by the referenced columns' share of up
  to 8 sampled footers), and the time each took against moto;
* the minimum a columnar reader must read, computed here from the footers of the
  kept files (the same arithmetic as the test suite, done independently), and the
  bytes DuckDB actually read running the query (lakekit's local engine).

Usage::

    .venv/bin/python benchmarks/estimate.py --out report.md   # then copy the table into docs/performance.md
    .venv/bin/python benchmarks/estimate.py --partitions 200 --files-per-partition 2   # quick
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

LAKEKIT = str(Path(sys.executable).with_name("lakekit"))
FIRST_DAY = dt.date(2019, 1, 1)
ROWS_PER_FILE = 400
ROW_GROUP = 200

QUERIES = {
    "one month, 2 columns": (
        "SELECT device, sum(amount) FROM bench.events WHERE year = '2021' AND month = '06' GROUP BY device"
    ),
    "one year, 1 column": "SELECT sum(amount) FROM bench.events WHERE year = '2022'",
    "two days, IN + =": (
        "SELECT user_id, amount FROM bench.events WHERE year = '2023' AND month IN ('01', '02') AND day = '15'"
    ),
    "one week, every column": (
        "SELECT * FROM bench.events WHERE year = '2024' AND month = '03' AND day BETWEEN '01' AND '07'"
    ),
    "ts range only": (
        "SELECT event_type, count(*) FROM bench.events WHERE ts >= TIMESTAMP '2024-06-01 00:00:00' GROUP BY event_type"
    ),
    "cast of a key": "SELECT count(*) FROM bench.events WHERE CAST(month AS integer) = 7",
    "everything, count(*)": "SELECT count(*) FROM bench.events",
}
# what the query keeps, for the independent computation: (partition filter, columns, row-group filter)
EXPECTED = {
    "one month, 2 columns": (lambda d: d.year == 2021 and d.month == 6, ["device", "amount"], None),
    "one year, 1 column": (lambda d: d.year == 2022, ["amount"], None),
    "two days, IN + =": (lambda d: d.year == 2023 and d.month in (1, 2) and d.day == 15, ["user_id", "amount"], None),
    "one week, every column": (
        lambda d: d.year == 2024 and d.month == 3 and d.day <= 7,
        ["event_id", "ts", "user_id", "event_type", "country", "device", "amount", "quantity"], None,
    ),
    # Athena does not prune partitions by the timestamp column: every partition's files
    # are opened and row groups are ruled out by their ts statistics
    "ts range only": (
        lambda d: True, ["event_type", "ts"],
        lambda stats: stats["ts"][1] >= dt.datetime(2024, 6, 1),
    ),
    "cast of a key": (lambda d: d.month == 7, [], None),
    "everything, count(*)": (lambda d: True, [], None),
}

SCHEMA = pa.schema([
    ("event_id", pa.string()), ("ts", pa.timestamp("us", tz="UTC")), ("user_id", pa.int64()),
    ("event_type", pa.string()), ("country", pa.string()), ("device", pa.string()),
    ("amount", pa.float64()), ("quantity", pa.int64()),
])


def make_file(day: dt.date, index: int, rnd: random.Random) -> pa.Table:
    start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    micros = sorted(rnd.randrange(86_400 * 1_000_000) for _ in range(ROWS_PER_FILE))
    return pa.table({
        "event_id": [f"{day:%Y%m%d}-{index}-{i}" for i in range(ROWS_PER_FILE)],
        "ts": [start + dt.timedelta(microseconds=m) for m in micros],
        "user_id": [rnd.randrange(1, 50_000) for _ in range(ROWS_PER_FILE)],
        "event_type": [rnd.choice(("page_view", "click", "purchase", "search")) for _ in range(ROWS_PER_FILE)],
        "country": [rnd.choice(("US", "DE", "FR", "JP", "BR")) for _ in range(ROWS_PER_FILE)],
        "device": [rnd.choice(("ios", "android", "web")) for _ in range(ROWS_PER_FILE)],
        "amount": [round(rnd.uniform(1, 500), 2) for _ in range(ROWS_PER_FILE)],
        "quantity": [rnd.randrange(0, 5) for _ in range(ROWS_PER_FILE)],
    }, schema=SCHEMA)


def build(warehouse: str, partitions: int, per_partition: int):
    """Write the files, register them in a local catalog; return [(day, [paths])]."""
    from lakekit.catalog import Column, Partition, Table
    from lakekit.catalog.local import LocalCatalog
    from lakekit.parquet import stats_from_metadata

    rnd = random.Random(1)
    catalog = LocalCatalog(os.path.join(warehouse, "_lakekit", "catalog.db"))
    location = os.path.join(warehouse, "bench", "events")
    table = Table(
        "bench", "events", location,
        [Column(f.name, {"string": "string", "int64": "bigint", "double": "double"}.get(str(f.type), "timestamp"))
         for f in SCHEMA],
        [Column("year", "string"), Column("month", "string"), Column("day", "string")],
        {"classification": "parquet", "compression": "zstd", "lakekit.timestamp_column": "ts"},
    )
    catalog.create_or_update_table(table)
    layout, parts, files = [], [], []
    for i in range(partitions):
        day = FIRST_DAY + dt.timedelta(days=i)
        values = (f"{day:%Y}", f"{day:%m}", f"{day:%d}")
        folder = os.path.join(location, f"year={values[0]}", f"month={values[1]}", f"day={values[2]}")
        os.makedirs(folder, exist_ok=True)
        paths = []
        for j in range(per_partition):
            path = os.path.join(folder, f"part-{j:03d}.parquet")
            pq.write_table(make_file(day, j, rnd), path, row_group_size=ROW_GROUP, compression="zstd")
            files.append(stats_from_metadata(path, os.path.getsize(path), pq.read_metadata(path), values))
            paths.append(path)
        parts.append(Partition(values, folder))
        layout.append((day, paths))
    catalog.add_partitions("bench", "events", parts)
    catalog.put_files("bench", "events", files)
    catalog.close()
    return layout


def mirror_to_moto(layout, warehouse: str) -> None:
    """The same files in moto's S3 and the same table and partitions in its Glue catalog."""
    import boto3

    s3 = boto3.client("s3", region_name="us-east-1")
    glue = boto3.client("glue", region_name="us-east-1")
    s3.create_bucket(Bucket="bench-lake")

    def key(path: str) -> str:
        return "lake/" + os.path.relpath(path, warehouse).replace(os.sep, "/")

    def upload(path: str) -> None:
        with open(path, "rb") as f:
            s3.put_object(Bucket="bench-lake", Key=key(path), Body=f.read())

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(upload, [p for _, paths in layout for p in paths]))

    parquet_sd = {
        "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
        "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
        "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"},
    }
    glue.create_database(DatabaseInput={"Name": "bench"})
    glue.create_table(DatabaseName="bench", TableInput={
        "Name": "events",
        "StorageDescriptor": {
            "Columns": [{"Name": f.name, "Type": "string"} for f in SCHEMA],
            "Location": "s3://bench-lake/lake/bench/events/", **parquet_sd,
        },
        "PartitionKeys": [{"Name": k, "Type": "string"} for k in ("year", "month", "day")],
        "Parameters": {"classification": "parquet"},
    })
    inputs = []
    for day, _ in layout:
        values = [f"{day:%Y}", f"{day:%m}", f"{day:%d}"]
        loc = f"s3://bench-lake/lake/bench/events/year={values[0]}/month={values[1]}/day={values[2]}/"
        inputs.append({"Values": values, "StorageDescriptor": {"Location": loc, **parquet_sd}})
    for i in range(0, len(inputs), 100):
        glue.batch_create_partition(DatabaseName="bench", TableName="events", PartitionInputList=inputs[i:i + 100])


def minimum_bytes(layout, name: str) -> int:
    keep_day, columns, rg_filter = EXPECTED[name]
    total = 0
    for day, paths in layout:
        if not keep_day(day):
            continue
        for path in paths:
            meta = pq.read_metadata(path)
            total += meta.serialized_size + 8
            for i in range(meta.num_row_groups):
                rg = meta.row_group(i)
                if rg_filter is not None:
                    stats = {}
                    for j in range(rg.num_columns):
                        st = rg.column(j).statistics
                        mn, mx = st.min, st.max
                        if isinstance(mn, dt.datetime):
                            mn, mx = mn.replace(tzinfo=None), mx.replace(tzinfo=None)
                        stats[rg.column(j).path_in_schema] = (mn, mx)
                    if not rg_filter(stats):
                        continue
                total += sum(rg.column(j).total_compressed_size for j in range(rg.num_columns)
                             if rg.column(j).path_in_schema in columns)
    return total


def listing_cost(warehouse: str, on_moto: bool, runs: int = 3) -> list[str]:
    """How long one listing of the table's location takes (what every estimate now does:
    a partition's files are what its location holds), locally and on moto's S3."""
    from lakekit.storage import Storage

    out = [""]
    places = [("local folder", os.path.join(warehouse, "bench", "events"))]
    if on_moto:
        places.append(("moto S3 (HTTP)", "s3://bench-lake/lake/bench/events"))
    for label, location in places:
        storage = Storage(location)
        times, count = [], 0
        for _ in range(runs):
            started = time.perf_counter()
            count = sum(1 for _ in storage.list_files(location))
            times.append(time.perf_counter() - started)
        out.append(f"listing the table's {count:,} files, {label}: median {statistics.median(times):.3f} s, "
                   f"best {min(times):.3f} s")
    return out


def time_cli(sql: str, warehouse: str, runs: int) -> tuple[float, float]:
    """Median and best wall time of ``lakekit query --dry-run --json`` in a new process."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([LAKEKIT, "query", sql, "--dry-run", "--json", "--warehouse", warehouse],
                       check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times), min(times)


def fmt_bytes(n: int | None) -> str:
    if n is None:
        return "-"
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return str(n)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--partitions", type=int, default=2000)
    parser.add_argument("--files-per-partition", type=int, default=5)
    parser.add_argument("--runs", type=int, default=5, help="CLI runs per query (median reported)")
    parser.add_argument("--skip-guard", action="store_true", help="skip athena-cost-guard and moto")
    parser.add_argument("--out", help="also write the report (Markdown) to this file")
    args = parser.parse_args()

    import lakekit
    from lakekit import run_query
    from lakekit.config import resolve_settings

    work = tempfile.mkdtemp(prefix="lakekit-estimate-bench-")
    warehouse = os.path.join(work, "lake")
    lines = [
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average at start {os.getloadavg()[0]:.1f}",
        f"table: {args.partitions:,} partitions x {args.files_per_partition} files = "
        f"{args.partitions * args.files_per_partition:,} files, {ROWS_PER_FILE} rows and "
        f"{ROWS_PER_FILE // ROW_GROUP} row groups a file",
    ]
    try:
        t0 = time.perf_counter()
        layout = build(warehouse, args.partitions, args.files_per_partition)
        lines.append(f"built and registered in {time.perf_counter() - t0:.1f} s")
        settings = resolve_settings(warehouse=warehouse, env={}, cwd=work)

        server = None
        if not args.skip_guard:
            from tests.moto_server import MotoServer

            server = MotoServer().start()
            os.environ.update(server.env())
            t0 = time.perf_counter()
            mirror_to_moto(layout, warehouse)
            lines.append(f"mirrored to moto (S3 + Glue) in {time.perf_counter() - t0:.1f} s")

        lines += listing_cost(warehouse, server is not None)
        rows = []
        for name, sql in QUERIES.items():
            with lakekit.open_lake(settings=settings) as lake:
                lake.estimate(sql)  # warm the catalog file, the OS cache and the imports
                warms, cpus = [], []
                for _ in range(max(5, args.runs)):
                    started, cpu_started = time.perf_counter(), time.process_time()
                    est = lake.estimate(sql)
                    warms.append(time.perf_counter() - started)
                    cpus.append(time.process_time() - cpu_started)
            warm = statistics.median(warms)
            cli_median, cli_best = time_cli(sql, warehouse, args.runs)
            minimum = minimum_bytes(layout, name)
            actual = run_query(sql, settings=settings).actual.bytes_scanned
            row = {"name": name, "lakekit": est.bytes_scanned, "warm": warm, "warm_best": min(warms),
                   "cpu": statistics.median(cpus), "cli": cli_median, "cli_best": cli_best, "minimum": minimum, "duckdb": actual,
                   "partitions": est.tables[0].partitions_scanned,
                   "advised": est.advice[0].bytes_scanned_with if est.advice else None}
            if server is not None:
                import athena_cost_guard as acg

                started = time.perf_counter()
                tier1 = acg.estimate(sql, region="us-east-1", price_per_tb=5.0)
                row["guard1_s"] = time.perf_counter() - started
                started = time.perf_counter()
                tier2 = acg.estimate(sql, region="us-east-1", price_per_tb=5.0, sample_columns=True)
                row["guard2_s"] = time.perf_counter() - started
                row["guard1"], row["guard2"] = tier1.bytes_scanned, tier2.bytes_scanned
                row["guard_parts"] = tier1.partitions_matched
            rows.append(row)
            print(row, flush=True)
        if server is not None:
            server.stop()

        lines += ["", "| query | partitions kept | minimum to read | lakekit estimate | with the advice "
                  "| lakekit --dry-run (CLI, median) | estimate() warm (median, best; CPU median) | DuckDB read "
                  "| cost-guard tier 1 | cost-guard tier 2 | cost-guard time (t1 / t2) |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for r in rows:
            guard = (f"| {fmt_bytes(r['guard1'])} ({r['guard_parts']} parts) | {fmt_bytes(r['guard2'])} "
                     f"| {r['guard1_s']:.2f} s / {r['guard2_s']:.2f} s |") if "guard1" in r else "| - | - | - |"
            lines.append(
                f"| {r['name']} | {r['partitions']:,} | {fmt_bytes(r['minimum'])} | {fmt_bytes(r['lakekit'])} "
                f"({100 * (r['lakekit'] - r['minimum']) / max(r['minimum'], 1):+.1f}%) | {fmt_bytes(r['advised'])} "
                f"| {r['cli']:.2f} s (best {r['cli_best']:.2f}) | {r['warm']:.3f} s ({r['warm_best']:.3f}; CPU {r['cpu']:.3f}) "
                f"| {fmt_bytes(r['duckdb'])} {guard}"
            )
        lines.append(f"load average at the end {os.getloadavg()[0]:.1f}")
        report = "\n".join(lines)
        print(report)
        if args.out:
            Path(args.out).write_text(report + "\n")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
