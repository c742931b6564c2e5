"""Lint benchmark: 1,000 queries, and a 10,000-file local layout read by footers only.

1. Queries: 1,000 Athena queries from 20 templates (joins, CTEs, windows, LIKE
   chains, subqueries; random literals), each its own ``.sql`` file. Timed through
   the library (``lakekit.lint_query``) without a catalog and with a local catalog,
   and end to end as one run of the installed ``lakekit lint query DIR``.
2. Layout: 10,000 small zstd Parquet files in 100 ``year=/month=/day=`` partitions
   (a tenth written without statistics), linted with ``lakekit lint layout DIR``,
   which lists the folder and reads only Parquet footers. For scale, the same files
   read whole with ``pyarrow.parquet.read_table``, as a tool that opened the data
   would.

Targets (the lint issue): 1,000 queries < 5 s; 10,000 files < 10 s.

Usage::

    .venv/bin/python benchmarks/lint.py --out report.md   # then copy the table into docs/performance.md
    .venv/bin/python benchmarks/lint.py --queries 200 --files 1000   # quick
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

LAKEKIT = str(Path(sys.executable).with_name("lakekit"))

TEMPLATES = [
    "SELECT event_type, count(*) AS n FROM analytics.events WHERE year = '{y}' AND month = '{m}' GROUP BY event_type",
    "SELECT * FROM analytics.events WHERE year = '{y}' AND month = '{m}' AND day = '{d}' LIMIT {n}",
    "SELECT user_id, sum(amount) AS total\nFROM analytics.events\nWHERE year = '{y}'\nGROUP BY user_id\nORDER BY total DESC",
    "SELECT country, count(DISTINCT user_id) AS users FROM analytics.events WHERE year = '{y}' GROUP BY country",
    "SELECT count(*) FROM analytics.events WHERE CAST(month AS integer) = {mi}",
    "SELECT count(*) FROM analytics.events\nWHERE year = '{y}'\n"
    "  AND (device LIKE '%a{n}%' OR device LIKE '%b%' OR device LIKE '%c%')",
    "SELECT e.event_id, u.signup_date\nFROM analytics.events e\nJOIN analytics.users u ON u.user_id = e.user_id\n"
    "WHERE e.year = '{y}' AND e.month = '{m}'",
    "SELECT c.name, e.amount FROM dim.countries c JOIN analytics.events e ON e.country = c.code WHERE e.year = '{y}'",
    "SELECT e.event_id, c.name FROM analytics.events e CROSS JOIN dim.countries c WHERE e.year = '{y}'",
    "SELECT user_id, row_number() OVER (ORDER BY ts) AS n FROM analytics.events WHERE year = '{y}' AND day = '{d}'",
    "SELECT user_id, row_number() OVER (PARTITION BY user_id ORDER BY ts) AS n FROM analytics.events WHERE year = '{y}'",
    "WITH recent AS (\n  SELECT user_id, amount FROM analytics.events WHERE year = '{y}' AND month = '{m}'\n)\n"
    "SELECT user_id, avg(amount) AS avg_amount FROM recent GROUP BY user_id ORDER BY avg_amount DESC LIMIT {n}",
    "SELECT evnt_type FROM analytics.events WHERE year = '{y}'",
    "SELECT path, status FROM logs.requests WHERE dt = '{y}-{m}-{d}' AND status >= {st}",
    "SELECT path FROM logs.requests WHERE status = {st}",
    "SELECT approx_distinct(user_id) FROM analytics.events WHERE year = '{y}' AND month BETWEEN '01' AND '{m}'",
    "SELECT event_id FROM analytics.events e WHERE year = '{y}'\n"
    "  AND EXISTS (SELECT * FROM dim.countries c WHERE c.code = e.country)",
    "SELECT country, sum(amount) FROM (SELECT country, amount FROM analytics.events WHERE year = '{y}') t GROUP BY country",
    "SELECT a.user_id FROM analytics.events a JOIN analytics.events b ON a.user_id = b.user_id "
    "WHERE a.year = '{y}' AND b.year = '{y}' AND a.day <> b.day",
    "SELECT device, quantity * amount AS value FROM analytics.events WHERE year IN ('{y}', '2023') AND amount > {n}",
]


def make_queries(folder: Path, count: int, seed: int = 1) -> list[Path]:
    rnd = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        template = TEMPLATES[i % len(TEMPLATES)]
        sql = template.format(
            y=rnd.choice(["2023", "2024"]), m=f"{rnd.randint(1, 12):02d}", mi=rnd.randint(1, 12),
            d=f"{rnd.randint(1, 28):02d}", n=rnd.randint(1, 500), st=rnd.choice([200, 404, 500]),
        )
        path = folder / f"q{i:04d}.sql"
        path.write_text(sql + ";\n")
        paths.append(path)
    return paths


def make_catalog(warehouse: str):
    from tests.lint.conftest import build_query_catalog

    return build_query_catalog(warehouse)


def make_layout(root: Path, files: int, partitions: int = 100, seed: int = 2) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rnd = random.Random(seed)
    rows = 200
    base = pa.table({
        "event_id": [f"e{i}" for i in range(rows)],
        "user_id": [rnd.randrange(10_000) for _ in range(rows)],
        "amount": [rnd.random() * 100 for _ in range(rows)],
        "country": [rnd.choice(["DE", "FR", "US", "JP"]) for _ in range(rows)],
    })
    per_partition = files // partitions
    written = 0
    for p in range(partitions):
        day = 1 + p % 28
        month = 1 + p // 28
        folder = root / "year=2024" / f"month={month:02d}" / f"day={day:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        for f in range(per_partition):
            pq.write_table(base, folder / f"part-{f:04d}.parquet", compression="zstd",
                           write_statistics=(written % 10 != 0))
            written += 1
    return written


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def run_cli(args: list[str]) -> tuple[float, int, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAKEKIT_")}
    start = time.perf_counter()
    proc = subprocess.run([LAKEKIT, *args], capture_output=True, text=True, env=env)
    return time.perf_counter() - start, proc.returncode, proc.stdout.strip().splitlines()[-1] if proc.stdout else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--out", help="also write the results as Markdown to this file")
    parser.add_argument("--keep", help="build the data in this folder and keep it")
    args = parser.parse_args()

    from lakekit.config import Settings
    from lakekit.lint import lint_layout, lint_query

    work = Path(args.keep or tempfile.mkdtemp(prefix="lakekit-lint-bench-"))
    lines = [
        f"machine: {platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} CPUs",
        "",
        "| what | size | seconds | result | target |",
        "|---|---|---|---|---|",
    ]
    try:
        paths = make_queries(work / "queries", args.queries)
        no_catalog = Settings(warehouse=str(work / "no-lake"))
        with_catalog = make_catalog(str(work / "lake"))
        strs = [str(p) for p in paths]
        lint_query(strs[:20], settings=no_catalog)  # warm imports (sqlglot, pyarrow) once
        t1, r1 = timed(lambda: lint_query(strs, settings=no_catalog))
        t2, r2 = timed(lambda: lint_query(strs, settings=with_catalog))
        t3, rc3, last3 = run_cli(["lint", "query", str(work / "queries"), "--warehouse", str(work / "lake")])
        q_target = "< 5 s"
        lines += [
            f"| lint_query, no catalog | {len(paths)} queries | {t1:.2f} | {len(r1.violations)} findings | {q_target} |",
            f"| lint_query, local catalog | {len(paths)} queries | {t2:.2f} | {len(r2.violations)} findings | {q_target} |",
            f"| `lakekit lint query DIR` (process, incl. start-up) | {len(paths)} files | {t3:.2f} "
            f"| exit {rc3}: {last3} | {q_target} |",
        ]
        print("\n".join(lines[-3:]), flush=True)

        layout_root = work / "layout" / "events"
        t_build, n_files = timed(lambda: make_layout(layout_root, args.files))
        print(f"(wrote {n_files} Parquet files in {t_build:.1f} s)", flush=True)
        t4, r4 = timed(lambda: lint_layout([str(layout_root)], settings=no_catalog))
        t5, rc5, last5 = run_cli(["lint", "layout", str(layout_root), "--warehouse", str(work / "no-lake")])

        def read_all():
            import pyarrow.parquet as pq

            return sum(pq.read_table(p).num_rows for p in layout_root.rglob("*.parquet"))

        t6, rows = timed(read_all)
        codes = ",".join(sorted({v.code for v in r4.violations}))
        lines += [
            f"| lint_layout, footers only | {n_files} files | {t4:.2f} | {codes} | < 10 s |",
            f"| `lakekit lint layout DIR` (process, incl. start-up) | {n_files} files | {t5:.2f} "
            f"| exit {rc5}: {last5} | < 10 s |",
            f"| for scale: `pq.read_table` of every file | {n_files} files | {t6:.2f} | {rows} rows | - |",
        ]
        print("\n".join(lines[-3:]), flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    if args.out:
        Path(args.out).write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
