"""Query benchmark: lakekit's local engine beside plain DuckDB over the same files.

Builds ``bench.sales`` (``--rows`` rows, default 10,000,000, day partitions
``year=/month=/day=`` over ``--days`` days, zstd Parquet written by DuckDB) and
``bench.products`` (10,000 rows, one file), registered with ``lakekit catalog crawl``.
Then, for four typical queries (group by day, top-N, a join with the dimension table,
a window), it times:

* lakekit in process: ``Lake.query(sql)`` on one opened lake (plan, estimate, sandboxed
  DuckDB over the plan's files, Arrow result), warm;
* plain DuckDB in process: one connection, views over ``read_parquet`` of the same
  files with hive partitioning, the same query written in DuckDB's SQL, Arrow result.

Runs alternate (lakekit, DuckDB, lakekit, ...) so that load from other work hits both
alike; the table shows medians. Target: lakekit within 1.1x of plain DuckDB.

Last, start-to-first-row of a small query from a new process: ``lakekit query ...
--format csv`` beside ``python -c`` running the same query with DuckDB alone. Target:
under 2x.

Usage::

    .venv/bin/python benchmarks/query.py --out report.md
    .venv/bin/python benchmarks/query.py --rows 1000000 --repeat 3     # quick
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

LAKEKIT = str(Path(sys.executable).with_name("lakekit"))

QUERIES = {
    "group by day": (
        "SELECT year, month, day, count(*) AS n, sum(amount) AS revenue FROM bench.sales "
        "GROUP BY year, month, day ORDER BY year, month, day",
        "SELECT year, month, day, count(*) AS n, sum(amount) AS revenue FROM sales "
        "GROUP BY year, month, day ORDER BY year, month, day",
    ),
    "top-N": (
        "SELECT user_id, sum(amount) AS total FROM bench.sales GROUP BY user_id ORDER BY total DESC LIMIT 10",
        "SELECT user_id, sum(amount) AS total FROM sales GROUP BY user_id ORDER BY total DESC LIMIT 10",
    ),
    "join with a dimension": (
        "SELECT p.category, count(*) AS n, sum(s.amount) AS revenue FROM bench.sales s "
        "JOIN bench.products p ON s.product_id = p.product_id GROUP BY p.category ORDER BY p.category",
        "SELECT p.category, count(*) AS n, sum(s.amount) AS revenue FROM sales s "
        "JOIN products p ON s.product_id = p.product_id GROUP BY p.category ORDER BY p.category",
    ),
    "window": (
        "SELECT country, user_id, amount FROM (SELECT country, user_id, amount, row_number() OVER "
        "(PARTITION BY country ORDER BY amount DESC, user_id) AS rn FROM bench.sales) t WHERE rn <= 3 "
        "ORDER BY country, rn",
        "SELECT country, user_id, amount FROM (SELECT country, user_id, amount, row_number() OVER "
        "(PARTITION BY country ORDER BY amount DESC, user_id) AS rn FROM sales) t WHERE rn <= 3 "
        "ORDER BY country, rn",
    ),
}
SMALL_LAKEKIT = "SELECT category, count(*) AS n FROM bench.products GROUP BY category ORDER BY category"


def build(workdir: Path, rows: int, days: int) -> str:
    """Write the tables with DuckDB (fast) and register them with lakekit's crawl."""
    import duckdb

    import lakekit

    warehouse = workdir / "lake"
    if (warehouse / "bench" / "sales").exists():
        return str(warehouse)
    sales = warehouse / "bench" / "sales"
    products = warehouse / "bench" / "products"
    products.mkdir(parents=True)
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")
    con.execute(f"""
        COPY (
          SELECT TIMESTAMPTZ '2024-01-01 00:00:00+00' + to_microseconds((i * (86400000000 * {days} // {rows}))::BIGINT) AS ts,
                 (hash(i) % 200000)::BIGINT AS user_id,
                 (hash(i * 7) % 10000)::BIGINT AS product_id,
                 round((hash(i * 13) % 100000) / 100.0, 2) AS amount,
                 (1 + hash(i * 17) % 5)::BIGINT AS quantity,
                 ['US', 'DE', 'FR', 'JP', 'BR', 'IN', 'GB', 'CA'][1 + (hash(i * 19) % 8)::INT] AS country,
                 strftime(ts, '%Y') AS year, strftime(ts, '%m') AS month, strftime(ts, '%d') AS day
          FROM range({rows}) t(i)
        ) TO '{sales}' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (year, month, day), ROW_GROUP_SIZE 122880)
    """)
    con.execute(f"""
        COPY (SELECT i::BIGINT AS product_id, 'category ' || (i % 40)::VARCHAR AS category, 'product ' || i AS name
              FROM range(10000) t(i)) TO '{products / "products.parquet"}' (FORMAT parquet, COMPRESSION zstd)
    """)
    con.close()
    lakekit.crawl(str(sales), "bench.sales", warehouse=str(warehouse))
    lakekit.crawl(str(products), "bench.products", warehouse=str(warehouse))
    return str(warehouse)


def plain_duckdb(warehouse: str):
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    sales = Path(warehouse) / "bench" / "sales"
    products = Path(warehouse) / "bench" / "products"
    con.execute(f"CREATE VIEW sales AS SELECT * FROM read_parquet('{sales}/**/*.parquet', hive_partitioning = true, "
                "hive_types = {'year': VARCHAR, 'month': VARCHAR, 'day': VARCHAR})")
    con.execute(f"CREATE VIEW products AS SELECT * FROM read_parquet('{products}/*.parquet')")
    return con


def timed(fn) -> tuple[float, object]:
    started = time.perf_counter()
    out = fn()
    return time.perf_counter() - started, out


def in_process(warehouse: str, repeat: int) -> list[dict]:
    import lakekit

    rows = []
    con = plain_duckdb(warehouse)
    with lakekit.open_lake(warehouse=warehouse) as lake:
        for name, (athena_sql, duck_sql) in QUERIES.items():
            ours = lake.query(athena_sql)  # warm: footers and OS cache, both sides
            theirs = con.sql(duck_sql).to_arrow_table()
            assert ours.num_rows == theirs.num_rows, (name, ours.num_rows, theirs.num_rows)
            assert ours.column_names == theirs.column_names, (name, ours.column_names, theirs.column_names)
            lk, dk = [], []
            for _ in range(repeat):
                lk.append(timed(lambda sql=athena_sql: lake.query(sql))[0])
                dk.append(timed(lambda sql=duck_sql: con.sql(sql).to_arrow_table())[0])
            rows.append({"query": name, "lakekit": statistics.median(lk), "duckdb": statistics.median(dk),
                         "rows": ours.num_rows})
    con.close()
    return rows


def first_row(warehouse: str, repeat: int) -> dict:
    products = Path(warehouse) / "bench" / "products" / "products.parquet"
    bare = (f"import duckdb; print(duckdb.sql(\"SELECT category, count(*) AS n FROM read_parquet('{products}') "
            "GROUP BY category ORDER BY category\").fetchall()[0])")
    cli = [LAKEKIT, "query", SMALL_LAKEKIT, "--warehouse", warehouse, "--format", "csv"]
    python = [sys.executable, "-c", bare]
    for command in (cli, python):  # warm the OS cache and any bytecode
        subprocess.run(command, check=True, capture_output=True)
    ours, theirs = [], []
    for _ in range(repeat):
        ours.append(timed(lambda: subprocess.run(cli, check=True, capture_output=True))[0])
        theirs.append(timed(lambda: subprocess.run(python, check=True, capture_output=True))[0])
    return {"lakekit": statistics.median(ours), "python": statistics.median(theirs)}


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import duckdb
    import pyarrow
    import sqlglot

    return (f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, duckdb {duckdb.__version__}, "
            f"pyarrow {pyarrow.__version__}, sqlglot {sqlglot.__version__}")


def report(rows: list[dict], start: dict, args, load_before, load_after) -> str:
    lines = [
        f"Machine: {machine()}. Load average before {load_before[0]:.2f}, after {load_after[0]:.2f} (1 min).",
        f"Table: {args.rows:,} rows over {args.days} day partitions; medians of {args.repeat} alternating runs.",
        "",
        "| query | rows out | lakekit local engine (s) | plain DuckDB in process (s) | ratio |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(f"| {r['query']} | {r['rows']:,} | {r['lakekit']:.3f} | {r['duckdb']:.3f} | "
                     f"{r['lakekit'] / r['duckdb']:.2f}x |")
    lines += [
        "",
        "| start to first row, small query | seconds |",
        "|---|---:|",
        f"| `lakekit query ... --format csv` (new process) | {start['lakekit']:.3f} |",
        f"| `python -c` with DuckDB alone, same query | {start['python']:.3f} |",
        f"| ratio | {start['lakekit'] / start['python']:.2f}x |",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--workdir", default=None, help="keep the generated lake here and reuse it")
    parser.add_argument("--out", default=None, help="write the markdown report here")
    args = parser.parse_args()
    workdir = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="lakekit-query-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        started = time.perf_counter()
        warehouse = build(workdir, args.rows, args.days)
        print(f"lake ready in {time.perf_counter() - started:.1f} s: {warehouse}", file=sys.stderr)
        load_before = os.getloadavg()
        rows = in_process(warehouse, args.repeat)
        start = first_row(warehouse, max(args.repeat, 5))
        text = report(rows, start, args, load_before, os.getloadavg())
    finally:
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    print(text)
    if args.out:
        Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
