"""Ingest benchmark: lakekit vs DuckDB COPY vs pandas + awswrangler.

Generates N synthetic click events as JSON Lines (``lakekit.sample``: ids, ISO
timestamps over 60 days, ints, floats, strings; about 200 bytes a record), plus the
same with 1% bad records, and turns each into zstd Parquet partitioned
``year=/month=/day=`` with:

1. ``lakekit ingest`` (the installed command) on the clean and on the 1%-bad file,
   on the same events as CSV (plain, and with a quoted multi-line text column), and
   on events spread over 2,000 days (2,000 partitions);
2. DuckDB ``COPY (SELECT ... FROM read_json(...) / read_csv(...)) TO ... (PARTITION_BY ...)``;
3. Polars ``scan_ndjson(...).sink_parquet(PartitionBy(...))`` (when installed);
4. ``pandas.read_json(lines=True)`` + ``awswrangler.s3.to_parquet(dataset=True)``
   into a real moto S3 server on 127.0.0.1;
   dlt (when installed): a resource of parsed records loaded as Parquet into its
   filesystem destination (partitioned by load only).

5. "real shapes" (``--real-shapes N``): a CSV with quoted multi-line fields, codes
   with leading zeros, year-first ``/`` dates and 1% bad rows, and a JSON array on one
   line (pandas' ``to_json(orient="records")`` shape), N records each, through
   ``lakekit ingest`` and DuckDB's ``read_csv``/``read_json`` (``COPY ... PARTITION_BY``),
   beside lakekit on N clean JSON Lines records.

Each run is its own process, timed and measured by ``_measure.measure`` (wall
seconds, CPU seconds, peak RSS). Every output is read back and its rows counted,
so a fast but wrong run cannot win. lakekit also runs at two more sizes to show
whether its memory stays flat as the input grows.

Usage::

    .venv/bin/python benchmarks/ingest.py --records 2000000 --out report.md   # then copy the table into docs/performance.md
    .venv/bin/python benchmarks/ingest.py --quick --skip-awswrangler
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO))

from _baselines import awswrangler_ingest  # noqa: E402
from _measure import Measurement, measure  # noqa: E402

PYTHON = sys.executable
LAKEKIT = str(Path(sys.executable).with_name("lakekit"))


@dataclass
class LakekitUnderTest:
    """Which lakekit runs: the installed command, or one commit's source exported with
    ``git archive`` (so edits in the working tree during a long run cannot leak in)."""

    argv: list[str] = field(default_factory=lambda: [LAKEKIT])
    env: dict[str, str] = field(default_factory=dict)
    description: str = ""

    @classmethod
    def installed(cls) -> LakekitUnderTest:
        rev = _git("rev-parse", "--short", "HEAD") or "unknown"
        dirty = _git("status", "--porcelain", "--", "lakekit")
        return cls(description=f"the installed `lakekit` (working tree at commit {rev}"
                               f"{', with uncommitted changes under lakekit/' if dirty else ''})")

    @classmethod
    def from_commit(cls, rev: str, workdir: Path) -> LakekitUnderTest:
        full = _git("rev-parse", "--verify", f"{rev}^{{commit}}")
        if not full:
            raise SystemExit(f"--lakekit-rev {rev!r} is not a commit of {REPO}")
        src = workdir / "src" / full[:12]
        if not (src / "lakekit" / "__init__.py").exists():
            src.mkdir(parents=True, exist_ok=True)
            archive = subprocess.run(["git", "-C", str(REPO), "archive", full, "lakekit"], capture_output=True, check=True)
            subprocess.run(["tar", "-x", "-C", str(src)], input=archive.stdout, check=True)
        # PYTHONPATH precedes the editable install's finder, so this copy is the one imported.
        launcher = "import sys; from lakekit.cli import run; sys.argv[0] = 'lakekit'; sys.exit(run())"
        return cls([PYTHON, "-c", launcher], {"PYTHONPATH": str(src)}, f"lakekit at commit {full[:10]} (`--lakekit-rev {rev}`)")


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True).stdout.strip()
    except OSError:
        return ""


LAKEKIT_UNDER_TEST = LakekitUnderTest()
TABLE = "bench.events"
BAD_FRACTION = 0.01
SEED = 42

# The schema lakekit infers for these events, given to DuckDB explicitly: its fastest
# path (no sampling pass) and the only way to get user_id as BIGINT when the 1%-bad
# file holds "not-a-number" values (auto-detection would widen user_id to JSON).
DUCKDB_COLUMNS = (
    "{'event_id': 'VARCHAR', 'ts': 'TIMESTAMP', 'user_id': 'BIGINT', 'event_type': 'VARCHAR',"
    " 'country': 'VARCHAR', 'device': 'VARCHAR', 'amount': 'DOUBLE', 'quantity': 'BIGINT',"
    " 'session_ms': 'BIGINT'}"
)

# A run slower than this is not repeated: its variance hardly matters next to its length.
LONG_RUN_SECONDS = 120

TARGETS = {
    "clean_vs_duckdb": 1.0,
    "clean_vs_polars": 1.3,
    "csv_vs_duckdb": 1.0,
    "startup_ms": 150.0,
    "bad_vs_duckdb": 0.7,
    "vs_awswrangler": 6.0,
    "peak_rss_mb": 400.0,
    "rss_scaling": 1.2,
}


# -- input data --------------------------------------------------------------------


@dataclass(frozen=True)
class Dataset:
    path: Path
    records: int  # lines in the file
    good: int  # lines that are a well-formed record of the right types
    bad: int

    @property
    def size_bytes(self) -> int:
        return self.path.stat().st_size


def _write_clean(paths_by_rows: dict[int, Path]) -> None:
    """Write several clean files in one pass: with no bad records, ``events(n)`` is a
    prefix of ``events(m)`` for n < m, so the smaller files are the larger one's head."""
    from lakekit.sample import events_jsonl

    largest = max(paths_by_rows)
    handles = sorted(((n, open(p, "w", encoding="utf-8")) for n, p in paths_by_rows.items()),  # noqa: SIM115 - closed in the finally below, all at once
                     key=lambda x: x[0])
    try:
        for i, line in enumerate(events_jsonl(largest, seed=SEED)):
            for n, handle in handles:
                if i < n:
                    handle.write(line)
    finally:
        for _, handle in handles:
            handle.close()


def _write_bad(path: Path, rows: int) -> int:
    from lakekit.sample import events

    bad = 0
    with open(path, "w", encoding="utf-8") as handle:
        for rec in events(rows, seed=SEED, bad_fraction=BAD_FRACTION):
            if isinstance(rec, str):
                bad += 1
                handle.write(rec + "\n")
            else:
                handle.write(json.dumps(rec, separators=(",", ":")) + "\n")
    return bad


CSV_COLUMNS = ("event_id", "ts", "user_id", "event_type", "country", "device", "amount", "quantity", "session_ms")
WIDE_DAYS = 2000
#: Every this many records, the multi-line CSV's note holds a quoted comma, quote and line break.
MULTILINE_EVERY = 50


def _write_csv(path: Path, rows: int, multiline: bool) -> None:
    """The clean events as CSV with a header; with ``multiline``, a ``note`` column too,
    empty on most rows and a quoted field with a comma, a doubled quote and a line break
    on every MULTILINE_EVERY-th (the part of CSV that makes framing hard)."""
    import csv

    from lakekit.sample import events

    with open(path, "w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle, lineterminator="\n")
        out.writerow([*CSV_COLUMNS, "note"] if multiline else CSV_COLUMNS)
        for i, rec in enumerate(events(rows, seed=SEED)):
            row = [rec[c] for c in CSV_COLUMNS]
            if multiline:
                row.append(f'order {i}, "gift"\nleave at door' if i % MULTILINE_EVERY == 0 else "")
            out.writerow(row)


def _write_wide(path: Path, rows: int) -> None:
    from lakekit.sample import events_jsonl

    with open(path, "w", encoding="utf-8") as handle:
        handle.writelines(events_jsonl(rows, seed=SEED, days=WIDE_DAYS))


def prepare_more(workdir: Path, csv_size: int, wide_sizes: list[int]) -> dict[str, Dataset]:
    """The CSV inputs at ``csv_size`` and the 2,000-day inputs at each of ``wide_sizes``
    (cached beside the others)."""
    data = workdir / "data"
    out: dict[str, Dataset] = {}
    wanted = [("csv", data / f"events-{csv_size}.csv", csv_size, lambda p, n: _write_csv(p, n, False)),
              ("csv multi-line", data / f"events-{csv_size}-multiline.csv", csv_size, lambda p, n: _write_csv(p, n, True))]
    wanted += [(f"wide {n}", data / f"events-{n}-days{WIDE_DAYS}.jsonl", n, lambda p, n: _write_wide(p, n))
               for n in sorted(set(wide_sizes))]
    for key, path, rows, write in wanted:
        meta = path.with_suffix(".meta.json")
        if not (path.exists() and meta.exists() and json.loads(meta.read_text()).get("size") == path.stat().st_size):
            started = time.perf_counter()
            write(path, rows)
            meta.write_text(json.dumps({"good": rows, "bad": 0, "size": path.stat().st_size}))
            _log(f"generated {path.name} in {time.perf_counter() - started:.0f}s")
        out[key] = Dataset(path, rows, rows, 0)
    return out


def prepare_data(workdir: Path, clean_sizes: list[int], bad_size: int) -> tuple[dict[int, Dataset], Dataset]:
    """Generate (or reuse from an earlier run) the input files; a sidecar ``.meta.json``
    records the line counts so a cached file is trusted only if complete."""
    data = workdir / "data"
    data.mkdir(parents=True, exist_ok=True)

    def cached(path: Path) -> dict | None:
        meta = path.with_suffix(".meta.json")
        if path.exists() and meta.exists():
            info = json.loads(meta.read_text())
            if info.get("size") == path.stat().st_size:
                return info
        return None

    def remember(path: Path, good: int, bad: int) -> None:
        meta = {"good": good, "bad": bad, "size": path.stat().st_size}
        path.with_suffix(".meta.json").write_text(json.dumps(meta))

    clean_paths = {n: data / f"events-{n}.jsonl" for n in sorted(set(clean_sizes))}
    missing = {n: p for n, p in clean_paths.items() if cached(p) is None}
    if missing:
        started = time.perf_counter()
        _write_clean(missing)
        for n, p in missing.items():
            remember(p, n, 0)
        _log(f"generated {', '.join(f'{n:,}' for n in missing)} clean records in {time.perf_counter() - started:.0f}s")
    clean = {n: Dataset(p, n, n, 0) for n, p in clean_paths.items()}

    bad_path = data / f"events-{bad_size}-bad{BAD_FRACTION:g}.jsonl"
    info = cached(bad_path)
    if info is None:
        started = time.perf_counter()
        bad = _write_bad(bad_path, bad_size)
        remember(bad_path, bad_size - bad, bad)
        info = {"good": bad_size - bad, "bad": bad}
        _log(f"generated {bad_size:,} records with {bad:,} bad in {time.perf_counter() - started:.0f}s")
    return clean, Dataset(bad_path, bad_size, info["good"], info["bad"])


# -- real shapes ----------------------------------------------------------------------

REAL_CSV_BAD_FRACTION = 0.01


def _write_real_csv(path: Path, rows: int) -> tuple[int, int]:
    """A spreadsheet-style export: quoted text with commas and line breaks, zip codes
    with leading zeros, ``YYYY/MM/DD HH:MM:SS`` times; 1% of rows short a field."""
    import csv
    import random

    from lakekit.sample import events

    rnd = random.Random(SEED)
    bad = 0
    with open(path, "w", encoding="utf-8", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(["event_id", "ts", "user_id", "country", "zip", "amount", "note"])
        for rec in events(rows, seed=SEED):
            ts = rec["ts"][:19].replace("-", "/").replace("T", " ")
            if rnd.random() < REAL_CSV_BAD_FRACTION:
                bad += 1
                f.write(f"{rec['event_id']},{ts},{rec['user_id']}\n")  # two fields short
                continue
            note = rnd.choice(["", "ok", "called back, no answer", "first line\nsecond line", 'said "hi"'])
            out.writerow([rec["event_id"], ts, rec["user_id"], rec["country"], f"{rnd.randrange(0, 99999):05d}",
                          rec["amount"], note])
    return rows - bad, bad


def _write_json_array(path: Path, rows: int) -> None:
    """pandas ``to_json(orient="records")``: one JSON array on a single line."""
    from lakekit.sample import events

    with open(path, "w", encoding="utf-8") as f:
        f.write("[")
        for i, rec in enumerate(events(rows, seed=SEED)):
            f.write(("," if i else "") + json.dumps(rec, separators=(",", ":")))
        f.write("]")


def prepare_real_shapes(workdir: Path, rows: int) -> tuple[Dataset, Dataset]:
    data = workdir / "data"
    data.mkdir(parents=True, exist_ok=True)
    csv_path, json_path = data / f"real-{rows}.csv", data / f"real-{rows}.json"
    meta = data / f"real-{rows}.meta.json"
    info = json.loads(meta.read_text()) if meta.exists() else None
    if not (info and csv_path.exists() and json_path.exists() and info.get("size") == csv_path.stat().st_size):
        started = time.perf_counter()
        good, bad = _write_real_csv(csv_path, rows)
        _write_json_array(json_path, rows)
        info = {"good": good, "bad": bad, "size": csv_path.stat().st_size}
        meta.write_text(json.dumps(info))
        _log(f"generated the real-shape files ({rows:,} records each) in {time.perf_counter() - started:.0f}s")
    return Dataset(csv_path, rows, info["good"], info["bad"]), Dataset(json_path, rows, rows, 0)


def child_duckdb_real(source: str, out: str) -> None:
    import duckdb

    con = duckdb.connect()
    con.execute("SET autoinstall_known_extensions = false")
    con.execute("SET autoload_known_extensions = false")
    if source.endswith(".csv"):
        # Without ignore_errors DuckDB stops at the first short row.
        reader = f"read_csv('{source}', ignore_errors = true, timestampformat = '%Y/%m/%d %H:%M:%S')"
    else:
        reader = f"read_json('{source}', format = 'array')"
    con.execute(
        f"""
        COPY (
            SELECT *, strftime(ts, '%Y') AS year, strftime(ts, '%m') AS month, strftime(ts, '%d') AS day
            FROM {reader}
        ) TO '{out}' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (year, month, day))
        """
    )


def run_duckdb_real(dataset: Dataset, label: str, workdir: Path, timeout: float) -> Run:
    import duckdb

    tool = "DuckDB read_csv" if dataset.path.suffix == ".csv" else "DuckDB read_json"
    run = Run(tool, label, dataset)
    out = workdir / "out" / f"duckdb-{dataset.path.stem}{dataset.path.suffix}"
    shutil.rmtree(out, ignore_errors=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    argv = [PYTHON, __file__, "--child", "duckdb-real", str(dataset.path), str(out)]
    run.measurement = measure(argv, env=_child_env(), cwd=workdir, timeout=timeout)
    if not run.ok:
        run.check = f"FAILED ({run.measurement.failure()})"
        return run
    run.rows_out, run.partitions = _count_local(out)
    con = duckdb.connect()
    con.execute("SET autoinstall_known_extensions = false; SET autoload_known_extensions = false")
    zip_type = None
    if dataset.path.suffix == ".csv":
        zip_type = con.execute(f"SELECT typeof(zip) FROM read_parquet('{out}/**/*.parquet', hive_partitioning = true) "
                               "LIMIT 1").fetchone()[0]
    run.passed = run.rows_out == dataset.good
    run.check = f"{run.rows_out:,} rows read back" + (f", zip read as {zip_type}" if zip_type else "")
    if dataset.bad:
        run.notes.append(f"DuckDB read_csv needs ignore_errors=true for the CSV's {dataset.bad:,} short rows; it drops "
                         "them with no record of which")
    if zip_type and zip_type != "VARCHAR":
        run.verdict = "lossy"
        run.notes.append(f"DuckDB read_csv auto-detects zip codes as {zip_type}: 02134 becomes 2134")
    shutil.rmtree(out, ignore_errors=True)
    return run


# -- the children: each tool's run, in its own process --------------------------------


def child_duckdb(source: str, out: str, ignore_errors: bool) -> None:
    import duckdb

    con = duckdb.connect()
    con.execute("SET autoinstall_known_extensions = false")
    con.execute("SET autoload_known_extensions = false")
    options = f"format = 'newline_delimited', columns = {DUCKDB_COLUMNS}"
    if ignore_errors:
        options += ", ignore_errors = true"
    con.execute(
        f"""
        COPY (
            SELECT *, strftime(ts, '%Y') AS year, strftime(ts, '%m') AS month, strftime(ts, '%d') AS day
            FROM read_json('{source}', {options})
        ) TO '{out}' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (year, month, day))
        """
    )


DUCKDB_CSV_COLUMNS = DUCKDB_COLUMNS.replace("'ts': 'TIMESTAMP'", "'ts': 'TIMESTAMPTZ'")


def child_duckdb_csv(source: str, out: str, multiline: bool) -> None:
    import duckdb

    con = duckdb.connect()
    con.execute("SET autoinstall_known_extensions = false")
    con.execute("SET autoload_known_extensions = false")
    con.execute("SET TimeZone = 'UTC'")
    columns = DUCKDB_CSV_COLUMNS[:-1] + (", 'note': 'VARCHAR'}" if multiline else "}")
    con.execute(
        f"""
        COPY (
            SELECT *, strftime(ts, '%Y') AS year, strftime(ts, '%m') AS month, strftime(ts, '%d') AS day
            FROM read_csv('{source}', header = true, columns = {columns}, quote = '"', escape = '"')
        ) TO '{out}' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (year, month, day))
        """
    )


def child_polars(source: str, out: str) -> None:
    import polars as pl

    schema = {"event_id": pl.String, "ts": pl.String, "user_id": pl.Int64, "event_type": pl.String,
              "country": pl.String, "device": pl.String, "amount": pl.Float64, "quantity": pl.Int64,
              "session_ms": pl.Int64}
    ts = pl.col("ts").str.to_datetime("%Y-%m-%dT%H:%M:%S%.fZ", time_unit="us", time_zone="UTC")
    frame = pl.scan_ndjson(source, schema=schema).with_columns(ts.alias("ts"))
    frame = frame.with_columns(pl.col("ts").dt.strftime("%Y").alias("year"), pl.col("ts").dt.strftime("%m").alias("month"),
                               pl.col("ts").dt.strftime("%d").alias("day"))
    frame.sink_parquet(pl.PartitionBy(out, key=["year", "month", "day"], include_key=False), compression="zstd",
                       mkdir=True)


def child_dlt(source: str, out: str, pipelines: str) -> None:
    """dlt as its docs show it: a resource yielding pages of parsed records, loaded by a
    pipeline into the filesystem destination as Parquet (dlt partitions by load, not by
    the records' time, and picks its own codec)."""
    os.environ["RUNTIME__DLTHUB_TELEMETRY"] = "false"  # no network from a benchmark
    import dlt

    @dlt.resource(name="events", write_disposition="append")
    def events():
        page = []
        with open(source, "rb") as f:
            for line in f:
                page.append(json.loads(line))
                if len(page) == 10_000:
                    yield page
                    page = []
        if page:
            yield page

    pipeline = dlt.pipeline(pipeline_name="bench", destination=dlt.destinations.filesystem(bucket_url=out),
                            dataset_name="bench", pipelines_dir=pipelines)
    pipeline.run(events(), loader_file_format="parquet")


def child_awswrangler(source: str, s3_path: str) -> None:
    awswrangler_ingest(source, s3_path)


# -- runs and their checks -----------------------------------------------------------


@dataclass
class Run:
    tool: str
    input: str  # "clean" or "1% bad"
    dataset: Dataset
    measurement: Measurement | None = None
    rows_out: int | None = None
    partitions: int | None = None
    check: str = ""
    passed: bool = False
    verdict: str = ""  # overrides the "ok" shown for a passed check
    load_before: float | None = None  # 1-minute load average when the run started
    repeats: list[float] = field(default_factory=list)  # wall seconds of every repeat
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.measurement is not None and self.measurement.ok

    @property
    def records_per_second(self) -> float | None:
        return self.dataset.records / self.measurement.seconds if self.ok else None

    @property
    def peak_rss_mb(self) -> float | None:
        return self.measurement.peak_rss_mb if self.measurement else None


def _child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    # Runs must not pick up a developer's lakekit settings or AWS profile.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LAKEKIT_", "AWS_"))}
    env.update(extra or {})
    return env


def _count_local(root: Path) -> tuple[int, int]:
    """Rows and leaf partition folders of a hive-partitioned Parquet tree (footers only)."""
    import pyarrow.dataset as ds

    files = [p for p in root.rglob("*.parquet") if not any(part.startswith(("_", ".")) for part in p.relative_to(root).parts)]
    rows = ds.dataset([str(p) for p in files], format="parquet").count_rows() if files else 0
    return rows, len({p.parent for p in files})


def run_lakekit(dataset: Dataset, label: str, workdir: Path, timeout: float) -> Run:
    run = Run("lakekit", label, dataset)
    warehouse = workdir / "out" / f"lakekit-{dataset.path.stem}"
    shutil.rmtree(warehouse, ignore_errors=True)
    argv = [*LAKEKIT_UNDER_TEST.argv, "ingest", str(dataset.path), "--table", TABLE, "--timestamp-column", "ts",
            "--warehouse", str(warehouse), "--json"]
    run.measurement = measure(argv, env=_child_env(LAKEKIT_UNDER_TEST.env), cwd=workdir, timeout=timeout)
    if not run.ok:
        run.check = f"FAILED ({run.measurement.failure()})"
        return run
    report = json.loads(run.measurement.stdout)
    written, rejected = report["records_written"], report["records_rejected"]
    run.rows_out, run.partitions = _count_local(warehouse / "bench" / "events")
    reconciled = report["records_read"] == written + rejected == dataset.records
    run.passed = reconciled and run.rows_out == written == dataset.good and rejected == dataset.bad
    run.check = f"{run.rows_out:,} rows read back, {rejected:,} rejected"
    if not reconciled:
        run.notes.append(f"lakekit counts do not reconcile: {report}")
    if rejected != dataset.bad:
        run.notes.append(f"lakekit rejected {rejected:,} records; the file holds {dataset.bad:,} bad ones")
    if run.rows_out != written:
        run.notes.append(f"lakekit reported {written:,} written but {run.rows_out:,} read back")
    shutil.rmtree(warehouse, ignore_errors=True)
    return run


def run_duckdb(dataset: Dataset, label: str, workdir: Path, timeout: float) -> Run:
    import duckdb

    run = Run("DuckDB COPY", label, dataset)
    out = workdir / "out" / f"duckdb-{dataset.path.stem}"
    shutil.rmtree(out, ignore_errors=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    ignore_errors = dataset.bad > 0  # without it DuckDB stops at the first malformed line
    argv = [PYTHON, __file__, "--child", "duckdb", str(dataset.path), str(out)] + (["--ignore-errors"] if ignore_errors else [])
    run.measurement = measure(argv, env=_child_env(), cwd=workdir, timeout=timeout)
    if not run.ok:
        run.check = f"FAILED ({run.measurement.failure()})"
        return run
    run.rows_out, run.partitions = _count_local(out)
    con = duckdb.connect()
    con.execute("SET autoinstall_known_extensions = false; SET autoload_known_extensions = false")
    all_null, some_null = con.execute(
        f"SELECT count(*) FILTER (WHERE event_id IS NULL AND ts IS NULL),"
        f" count(*) FILTER (WHERE event_id IS NOT NULL AND user_id IS NULL)"
        f" FROM read_parquet('{out}/**/*.parquet', hive_partitioning = true)"
    ).fetchone()
    if ignore_errors:
        # DuckDB's ignore_errors keeps every line: a malformed one becomes an all-NULL row
        # (in partition year=NULL), a value of the wrong type becomes NULL.
        run.passed = run.rows_out == dataset.records
        run.verdict = "lossy"
        run.check = f"{run.rows_out:,} rows read back; {all_null:,} all-NULL, {some_null:,} with user_id NULLed"
        run.notes.append(
            "DuckDB needs ignore_errors=true to get through the 1%-bad file; it then writes every line: "
            f"{all_null:,} malformed lines as all-NULL rows and {some_null:,} rows whose wrong-typed user_id "
            "became NULL, with no record of what was lost"
        )
    else:
        run.passed = run.rows_out == dataset.good and all_null == 0 and some_null == 0
        run.check = f"{run.rows_out:,} rows read back"
    shutil.rmtree(out, ignore_errors=True)
    return run


def _run_and_count(run: Run, argv: list[str], out: Path, dataset: Dataset, workdir: Path, timeout: float) -> Run:
    """Run a competitor's child process, then check its output has every good record."""
    run.measurement = measure(argv, env=_child_env(), cwd=workdir, timeout=timeout)
    if not run.ok:
        run.check = f"FAILED ({run.measurement.failure()})"
        return run
    run.rows_out, run.partitions = _count_local(out)
    run.passed = run.rows_out == dataset.good
    run.check = f"{run.rows_out:,} rows read back"
    shutil.rmtree(out, ignore_errors=True)
    return run


def run_duckdb_csv(dataset: Dataset, label: str, workdir: Path, timeout: float) -> Run:
    run = Run("DuckDB COPY", label, dataset)
    out = workdir / "out" / f"duckdb-{dataset.path.stem}"
    shutil.rmtree(out, ignore_errors=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    argv = [PYTHON, __file__, "--child", "duckdb-csv", str(dataset.path), str(out)] + (
        ["--multiline"] if "multi-line" in label else [])
    return _run_and_count(run, argv, out, dataset, workdir, timeout)


def installed(module: str) -> bool:
    """Whether an optional competitor (the bench extra's Polars, dlt) can be imported."""
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


def run_polars(dataset: Dataset, label: str, workdir: Path, timeout: float) -> Run:
    run = Run("Polars", label, dataset)
    out = workdir / "out" / f"polars-{dataset.path.stem}"
    shutil.rmtree(out, ignore_errors=True)
    argv = [PYTHON, __file__, "--child", "polars", str(dataset.path), str(out)]
    return _run_and_count(run, argv, out, dataset, workdir, timeout)


def run_dlt(dataset: Dataset, label: str, workdir: Path, timeout: float) -> Run:
    run = Run("dlt", label, dataset)
    out = workdir / "out" / f"dlt-{dataset.path.stem}"
    pipelines = workdir / "out" / f"dlt-pipelines-{dataset.path.stem}"
    for folder in (out, pipelines):
        shutil.rmtree(folder, ignore_errors=True)
    argv = [PYTHON, __file__, "--child", "dlt", str(dataset.path), str(out), str(pipelines)]
    # Only the events table counts: dlt also writes its own _dlt_* state tables.
    run = _run_and_count(run, argv, out / "bench" / "events", dataset, workdir, timeout)
    run.notes.append("dlt writes one folder per load (no year/month/day partitions), snappy-compressed, "
                     "with two columns of its own (_dlt_load_id, _dlt_id)")
    shutil.rmtree(out, ignore_errors=True)
    shutil.rmtree(pipelines, ignore_errors=True)
    return run


def measure_startup(workdir: Path, repeats: int = 7) -> float | None:
    """Milliseconds from starting ``lakekit ingest`` to its first read of the source:
    interpreter start-up and every import before the first byte. The child records
    the moment with an audit hook on ``open``, which costs nothing measurable."""
    source = workdir / "data" / "startup.jsonl"
    source.parent.mkdir(parents=True, exist_ok=True)
    source.write_text('{"id": 1, "ts": "2024-03-07T10:00:00Z"}\n')
    hook = (
        "import sys, time\n"
        f"SOURCE = {str(source)!r}\n"
        "def hook(event, args):\n"
        "    if event == 'open' and args and str(args[0]) == SOURCE and not hook.seen:\n"
        "        hook.seen = True\n"
        "        sys.stderr.write(f'FIRST_READ {time.time()!r}\\n')\n"
        "hook.seen = False\n"
        "sys.addaudithook(hook)\n"
        "from lakekit.cli import run\n"
        "sys.argv[0] = 'lakekit'\n"
        "run()\n"
    )
    times = []
    for i in range(repeats):
        warehouse = workdir / "out" / f"startup-{i}"
        shutil.rmtree(warehouse, ignore_errors=True)
        started = time.time()
        proc = subprocess.run([PYTHON, "-c", hook, "ingest", str(source), "--table", "bench.startup",
                               "--timestamp-column", "ts", "--warehouse", str(warehouse), "--json"],
                              capture_output=True, text=True, env=_child_env(LAKEKIT_UNDER_TEST.env), cwd=workdir)
        shutil.rmtree(warehouse, ignore_errors=True)
        marks = [line.split()[1] for line in proc.stderr.splitlines() if line.startswith("FIRST_READ ")]
        if proc.returncode != 0 or not marks:
            _log(f"start-up probe failed: {proc.stderr.strip()[-300:]}")
            source.unlink()
            return None
        times.append((float(marks[0]) - started) * 1000)
    source.unlink()
    times.sort()
    return times[len(times) // 2]


def run_awswrangler(dataset: Dataset, workdir: Path, timeout: float) -> Run:
    import boto3
    import pyarrow.dataset as ds
    import pyarrow.fs as pafs

    from tests.moto_server import DUMMY_ENV, MotoServer

    run = Run("pandas + awswrangler", "clean", dataset)
    with MotoServer() as server:
        boto3.client("s3", endpoint_url=server.url, **_boto_creds()).create_bucket(Bucket="bench")
        argv = [PYTHON, __file__, "--child", "awswrangler", str(dataset.path), "s3://bench/events/"]
        run.measurement = measure(argv, env=_child_env(server.env()), cwd=workdir, timeout=timeout)
        if not run.ok:
            run.check = f"FAILED ({run.measurement.failure()})"
            return run
        s3 = pafs.S3FileSystem(
            access_key=DUMMY_ENV["AWS_ACCESS_KEY_ID"], secret_key=DUMMY_ENV["AWS_SECRET_ACCESS_KEY"],
            session_token=DUMMY_ENV["AWS_SESSION_TOKEN"], region="us-east-1",
            endpoint_override=server.url, scheme="http",
        )
        table = ds.dataset("bench/events", filesystem=s3, format="parquet", partitioning="hive")
        run.rows_out = table.count_rows()
        run.partitions = len({f.rsplit("/", 1)[0] for f in table.files})
    run.passed = run.rows_out == dataset.good
    run.check = f"{run.rows_out:,} rows read back from moto S3"
    run.notes.append("awswrangler writes to a moto S3 server on 127.0.0.1; the server's own memory is not counted")
    return run


def _boto_creds() -> dict[str, str]:
    from tests.moto_server import DUMMY_ENV

    return {
        "aws_access_key_id": DUMMY_ENV["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": DUMMY_ENV["AWS_SECRET_ACCESS_KEY"],
        "aws_session_token": DUMMY_ENV["AWS_SESSION_TOKEN"],
        "region_name": "us-east-1",
    }


def lakekit_available() -> str | None:
    """None when ``lakekit ingest`` can run here, else why not."""
    if not Path(LAKEKIT_UNDER_TEST.argv[0]).exists():
        return f"{LAKEKIT_UNDER_TEST.argv[0]} not found"
    probe = subprocess.run([*LAKEKIT_UNDER_TEST.argv, "ingest", "--help"], capture_output=True, text=True,
                           env=_child_env(LAKEKIT_UNDER_TEST.env))
    if probe.returncode != 0:
        return "`lakekit ingest` is not available in this build"
    return None


# -- the report ----------------------------------------------------------------------


def _fmt(value: float | None, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def _verdict(value: float | None, target: float, higher_is_better: bool = True) -> str:
    if value is None:
        return "not measured"
    met = value >= target if higher_is_better else value <= target
    return "met" if met else "**missed**"


def machine() -> list[str]:
    import duckdb
    import pandas
    import pyarrow

    try:
        import awswrangler

        wr_version = awswrangler.__version__
    except ImportError:
        wr_version = "not installed"
    try:
        import dlt

        dlt_version = dlt.__version__
    except ImportError:
        dlt_version = "not installed"
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        import psutil

        mem = f"{psutil.virtual_memory().total / 2**30:.1f} GiB RAM"
    except ImportError:
        mem = "RAM unknown"
    return [
        f"- Machine: {os.cpu_count()} CPUs ({cpu}), {mem}, {platform.system()} {platform.release()}",
        f"- Python {platform.python_version()}, pyarrow {pyarrow.__version__}, duckdb {duckdb.__version__}, "
        f"pandas {pandas.__version__}, awswrangler {wr_version}, dlt {dlt_version}",
        f"- lakekit: {LAKEKIT_UNDER_TEST.description}",
    ]


def report(runs: list[Run], scaling: list[Run], args: argparse.Namespace, clean: Dataset, bad: Dataset,
           startup_ms: float | None = None) -> str:
    lines = [f"# Ingest benchmark: {clean.records:,} records", ""]
    lines += machine()
    lines.append(
        f"- Input: {clean.records:,} JSON Lines records, {clean.size_bytes / 2**20:.0f} MiB "
        f"({clean.size_bytes / clean.records:.0f} bytes a record); the 1%-bad file holds {bad.bad:,} bad lines "
        f"(truncated JSON or a string user_id); the CSV files hold the same clean events, the multi-line one a "
        f"`note` column quoting a comma, a quote and a line break every {MULTILINE_EVERY} records; the "
        f"{WIDE_DAYS:,}-day file spreads the clean events over {WIDE_DAYS:,} daily partitions"
    )
    lines.append(f"- Command: `{' '.join([Path(PYTHON).name, 'benchmarks/ingest.py', *args.argv])}`")
    lines += ["", "| tool | input | records | seconds | records/s | CPU s | peak RSS MB | load | partitions | output check |",
              "|---|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    everything = list({id(r): r for r in [*runs, *scaling]}.values())
    for run in everything:
        m = run.measurement
        verdict = (run.verdict or "ok") if run.passed else "**WRONG**" if run.ok else ""
        lines.append(
            f"| {run.tool} | {run.input} | {run.dataset.records:,} | {_fmt(m.seconds if m else None, '.1f')} | "
            f"{_fmt(run.records_per_second, ',.0f')} | {_fmt(m.cpu_seconds if m else None, '.1f')} | "
            f"{_fmt(run.peak_rss_mb, '.0f')} | {_fmt(run.load_before, '.1f')} | "
            f"{run.partitions if run.partitions is not None else 'n/a'} | "
            f"{verdict}{': ' if verdict else ''}{run.check} |"
        )

    def find(tool: str, label: str) -> Run | None:
        return next((r for r in runs if r.tool == tool and r.input == label), None)

    def rate(run: Run | None) -> float | None:
        # A wrong result does not earn a speed ratio, except DuckDB on bad data, whose
        # "wrong" is its documented ignore_errors behaviour, reported beside it.
        return run.records_per_second if run and (run.passed or run.input == "1% bad") else None

    lk_clean, lk_bad = find("lakekit", "clean"), find("lakekit", "1% bad")
    dd_clean, dd_bad = find("DuckDB COPY", "clean"), find("DuckDB COPY", "1% bad")
    wr_clean = find("pandas + awswrangler", "clean")
    dlt_clean = find("dlt", "clean")
    pl_clean = find("Polars", "clean")
    lk_bad_rate = lk_bad.records_per_second if lk_bad and lk_bad.passed else None

    def scaling_ratio(label: str) -> tuple[str, float | None]:
        mine = [r for r in scaling if r.input == label and r.ok]
        if len(mine) < 2:
            return f"lakekit peak RSS scaling ({label})", None
        small, large = min(mine, key=lambda r: r.dataset.records), max(mine, key=lambda r: r.dataset.records)
        return (f"lakekit peak RSS {large.dataset.records:,} / {small.dataset.records:,} records ({label})",
                _ratio(large.peak_rss_mb, small.peak_rss_mb))

    lakekit_main = [r for r in runs if r.tool == "lakekit" and r.ok]
    worst = max(lakekit_main, key=lambda r: r.peak_rss_mb, default=None)
    ratios = [
        ("lakekit / DuckDB COPY records/s, clean", _ratio(rate(lk_clean), rate(dd_clean)), TARGETS["clean_vs_duckdb"], True, "x"),
        ("lakekit / Polars records/s, clean", _ratio(rate(lk_clean), rate(pl_clean)), TARGETS["clean_vs_polars"], True, "x"),
        ("lakekit 1% bad / DuckDB COPY clean, records/s (every bad record in the rejects file)",
         _ratio(lk_bad_rate, rate(dd_clean)), TARGETS["bad_vs_duckdb"], True, "x"),
        ("lakekit / DuckDB COPY records/s, 1% bad (DuckDB with ignore_errors)", _ratio(lk_bad_rate, rate(dd_bad)),
         TARGETS["bad_vs_duckdb"], True, "x"),
    ]
    for label in ("CSV", "CSV multi-line"):
        ratios.append((f"lakekit / DuckDB read_csv + COPY records/s, {label}",
                       _ratio(rate(find("lakekit", label)), rate(find("DuckDB COPY", label))), TARGETS["csv_vs_duckdb"],
                       True, "x"))
    ratios += [
        ("lakekit / awswrangler records/s, clean", _ratio(rate(lk_clean), rate(wr_clean)), TARGETS["vs_awswrangler"], True, "x"),
        (f"lakekit peak RSS MB (worst: {worst.input})" if worst else "lakekit peak RSS MB",
         worst.peak_rss_mb if worst else None, TARGETS["peak_rss_mb"], False, " MB"),
    ]
    for label in ("clean", f"clean, {WIDE_DAYS:,} days"):
        name, value = scaling_ratio(label)
        ratios.append((name, value, TARGETS["rss_scaling"], False, "x"))
    ratios.append(("CLI start-up: ms from exec to the first byte of the source read (median)", startup_ms,
                   TARGETS["startup_ms"], False, " ms"))
    lines += ["", "| measure | value | target | verdict |", "|---|---:|---:|---|"]
    for name, value, target, higher, unit in ratios:
        shown = _fmt(value, ".2f" if unit == "x" else ".0f")
        bound = ">=" if higher else "<="
        lines.append(f"| {name} | {shown}{unit if value is not None else ''} | {bound} {target:g}{unit} | "
                     f"{_verdict(value, target, higher)} |")

    def cpu(run: Run | None) -> float | None:
        return run.measurement.cpu_seconds if run and run.ok and (run.passed or run.input == "1% bad") else None

    # CPU time is far less disturbed than wall time by other work on a shared machine;
    # these ratios have no target but tell whether a wall-time miss is contention.
    for name, value in (
        ("lakekit / DuckDB COPY records per CPU second, clean (no target; robust to machine load)",
         _ratio(cpu(dd_clean), cpu(lk_clean))),
        ("lakekit / DuckDB COPY records per CPU second, 1% bad (no target)",
         _ratio(cpu(dd_bad), cpu(lk_bad) if lk_bad_rate else None)),
        ("lakekit / awswrangler records per CPU second, clean (no target)", _ratio(cpu(wr_clean), cpu(lk_clean))),
        ("lakekit / dlt records/s, clean (no target)", _ratio(rate(lk_clean), rate(dlt_clean))),
    ):
        lines.append(f"| {name} | {_fmt(value, '.2f')}{'x' if value is not None else ''} | | |")
    lines += ["", "Seconds are wall time (median of the repeats when more than one); CPU s is user + system "
              "time of the process and its children; peak RSS is the larger of the kernel's high-water mark and "
              "the sampled process-tree sum; load is the 1-minute load average when the run started (other "
              "work on the machine competes for its cores)."]
    repeated = [r for r in everything if len(r.repeats) > 1]
    if repeated:
        lines += ["", "Repeats (wall seconds):", ""] + [
            f"- {r.tool}, {r.input}, {r.dataset.records:,}: {', '.join(f'{s:.1f}' for s in r.repeats)}" for r in repeated]
    if args.quick:
        lines += ["", "_Quick smoke run: the targets are set for 2M records, so these verdicts are indicative only._"]
    notes = [note for run in everything for note in run.notes]
    if notes:
        lines += ["", "Notes:", ""] + [f"- {note}" for note in dict.fromkeys(notes)]
    return "\n".join(lines) + "\n"


def _log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@dataclass
class Plan:
    """One measurement to take: a label for the log and the function that runs it."""

    label: str
    fn: object
    fn_args: tuple
    done: list[Run] = field(default_factory=list)
    finished: bool = False


def run_interleaved(plans: list[Plan], repeat: int) -> list[Run]:
    """Run every plan ``repeat`` times, round-robin (A B C A B C ...), so that load from
    other work on the machine falls on all tools alike rather than on whichever ran
    during a busy minute. Each plan reports its median-time run (with that run's own
    peak RSS) and every repeat's seconds."""
    for i in range(repeat):
        for plan in plans:
            if plan.finished:
                continue
            _log(f"running {plan.label}{f' ({i + 1}/{repeat})' if repeat > 1 else ''} ...")
            load = os.getloadavg()[0]
            run = plan.fn(*plan.fn_args)
            run.load_before = load
            m = run.measurement
            if m is not None:
                _log(f"  {plan.label}: {m.seconds:.1f}s, CPU {m.cpu_seconds:.1f}s, peak RSS {m.peak_rss_mb:.0f} MB, "
                     f"load before {load:.2f}, {run.check}")
            plan.done.append(run)
            if not run.ok:
                plan.finished = True
            elif i + 1 < repeat and m.seconds > LONG_RUN_SECONDS:
                run.notes.append(f"{run.tool} ({run.input}, {run.dataset.records:,}) took {m.seconds:.0f}s, "
                                 f"so it ran once, not {repeat} times")
                plan.finished = True
    return [_median_run(plan.done) for plan in plans]


def _median_run(done: list[Run]) -> Run:
    timed = sorted((r for r in done if r.ok), key=lambda r: r.measurement.seconds)
    chosen = timed[(len(timed) - 1) // 2] if timed else done[-1]
    chosen.repeats = [r.measurement.seconds for r in done if r.ok]
    worst = max((r.peak_rss_mb for r in done if r.peak_rss_mb is not None), default=None)
    if len(done) > 1 and worst is not None and chosen.peak_rss_mb is not None and worst > chosen.peak_rss_mb * 1.05:
        chosen.notes.append(f"{chosen.tool} ({chosen.input}, {chosen.dataset.records:,}): peak RSS over the "
                            f"repeats went up to {worst:.0f} MB")
    return chosen


def _plans(args: argparse.Namespace, clean_sets: dict[int, Dataset], bad_set: Dataset, more: dict[str, Dataset],
           unavailable: str | None, sizes: tuple[int, int, int]) -> tuple[list[Plan], int]:
    """Every measurement to take, the main comparison first (its count is returned),
    then lakekit's runs at the other sizes."""
    small, n, large = sizes
    clean = clean_sets[n]
    wide_label = f"clean, {WIDE_DAYS:,} days"
    plans: list[Plan] = []

    def lakekit_plan(dataset: Dataset, label: str, extra: str = "") -> None:
        if not unavailable:
            plans.append(Plan(f"lakekit, {label}{extra}", run_lakekit, (dataset, label, args.workdir, args.timeout)))

    lakekit_plan(clean, "clean")
    lakekit_plan(bad_set, "1% bad")
    plans.append(Plan("DuckDB COPY, clean", run_duckdb, (clean, "clean", args.workdir, args.timeout)))
    plans.append(Plan("DuckDB COPY, 1% bad", run_duckdb, (bad_set, "1% bad", args.workdir, args.timeout)))
    if not args.skip_polars and installed("polars"):
        plans.append(Plan("Polars, clean", run_polars, (clean, "clean", args.workdir, args.timeout)))
    if not args.skip_dlt and installed("dlt"):
        plans.append(Plan("dlt, clean", run_dlt, (clean, "clean", args.workdir, args.timeout)))
    if not args.skip_csv:
        for label, key in (("CSV", "csv"), ("CSV multi-line", "csv multi-line")):
            lakekit_plan(more[key], label)
            plans.append(Plan(f"DuckDB COPY, {label}", run_duckdb_csv, (more[key], label, args.workdir, args.timeout)))
    if not args.skip_wide:
        lakekit_plan(more[f"wide {n}"], wide_label)
        plans.append(Plan(f"DuckDB COPY, {wide_label}", run_duckdb, (more[f"wide {n}"], wide_label, args.workdir,
                                                                     args.timeout)))
    if not args.skip_awswrangler:
        plans.append(Plan("pandas + awswrangler, clean", run_awswrangler, (clean, args.workdir, args.timeout)))
    n_main = len(plans)
    if not unavailable and not args.skip_scaling:
        for size in (small, large):
            lakekit_plan(clean_sets[size], "clean", f" {size:,}")
            if not args.skip_wide:
                lakekit_plan(more[f"wide {size}"], wide_label, f" {size:,}")
    return plans, n_main


def _child(tool: str, rest: list[str]) -> int:
    """One tool's run, in the process the benchmark measures."""
    children = {
        "duckdb": lambda: child_duckdb(rest[0], rest[1], ignore_errors="--ignore-errors" in rest),
        "duckdb-csv": lambda: child_duckdb_csv(rest[0], rest[1], multiline="--multiline" in rest),
        "polars": lambda: child_polars(rest[0], rest[1]),
        "duckdb-real": lambda: child_duckdb_real(rest[0], rest[1]),
        "awswrangler": lambda: child_awswrangler(rest[0], rest[1]),
        "dlt": lambda: child_dlt(rest[0], rest[1], rest[2]),
    }
    if tool not in children:
        raise SystemExit(f"unknown child {tool!r}")
    children[tool]()
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        return _child(argv[1], argv[2:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=2_000_000, help="records in the main comparison (default 2,000,000)")
    parser.add_argument("--scaling", default=None, metavar="SMALL,LARGE",
                        help="record counts for lakekit's peak-RSS scaling runs (default N/2,2N)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 20,000 records unless --records is given")
    parser.add_argument("--skip-awswrangler", action="store_true", help="leave out the pandas + awswrangler run")
    parser.add_argument("--lakekit-rev", metavar="REV",
                        help="benchmark this commit's lakekit (exported with git archive) instead of the working tree")
    parser.add_argument("--skip-lakekit", action="store_true", help="leave out every lakekit run")
    parser.add_argument("--repeat", type=int, default=1,
                        help="runs of each measurement, interleaved across tools; the median is reported")
    parser.add_argument("--skip-scaling", action="store_true", help="leave out lakekit's runs at other sizes")
    parser.add_argument("--real-shapes", type=int, default=0, metavar="N",
                        help="also run the real-shapes line: a CSV and a JSON array of N records each")
    parser.add_argument("--only-real-shapes", action="store_true",
                        help="run only the real-shapes line (with lakekit on N clean JSON Lines records beside it)")
    parser.add_argument("--skip-csv", action="store_true", help="leave out the CSV inputs")
    parser.add_argument("--skip-wide", action="store_true", help=f"leave out the {WIDE_DAYS:,}-partition input")
    parser.add_argument("--skip-polars", action="store_true", help="leave out Polars (also left out when not installed)")
    parser.add_argument("--skip-dlt", action="store_true", help="leave out dlt (also left out when not installed)")
    parser.add_argument("--out", type=Path, help="also write the markdown report to this file")
    parser.add_argument("--workdir", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "lakekit-bench",
                        help="where input files (kept, reused) and outputs (deleted after checking) go")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds before one run is killed")
    args = parser.parse_args(argv)
    args.argv = argv
    if args.quick and "--records" not in " ".join(argv):
        args.records = 20_000
    n = args.records
    if n < 100:
        parser.error("--records must be at least 100")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    small, large = (n // 2, n * 2)
    if args.scaling:
        small, large = (int(x.replace("_", "")) for x in args.scaling.split(","))
    args.workdir.mkdir(parents=True, exist_ok=True)
    global LAKEKIT_UNDER_TEST
    LAKEKIT_UNDER_TEST = (LakekitUnderTest.from_commit(args.lakekit_rev, args.workdir) if args.lakekit_rev
                          else LakekitUnderTest.installed())

    if args.only_real_shapes:
        args.real_shapes = args.real_shapes or n
        return _main_real_shapes(args)
    clean_sizes = [n] if args.skip_scaling else [small, n, large]
    clean_sets, bad_set = prepare_data(args.workdir, clean_sizes, n)
    clean = clean_sets[n]

    more = prepare_more(args.workdir, n, [] if args.skip_wide else ([n] if args.skip_scaling else [small, n, large]))
    unavailable = "skipped (--skip-lakekit)" if args.skip_lakekit else lakekit_available()
    if unavailable:
        _log(f"skipping lakekit: {unavailable}")
    wide_label = f"clean, {WIDE_DAYS:,} days"
    plans, n_main = _plans(args, clean_sets, bad_set, more, unavailable, (small, n, large))
    measured = run_interleaved(plans, args.repeat)
    runs, scaling = measured[:n_main], measured[n_main:]
    if not unavailable and not args.skip_scaling:
        scaling += [r for r in runs if r.tool == "lakekit" and r.input in ("clean", wide_label)]
    if unavailable:
        runs.insert(0, Run("lakekit", "clean", clean, check=f"not run: {unavailable}"))
    startup_ms = None if unavailable else measure_startup(args.workdir)
    if startup_ms is not None:
        _log(f"start-up to first byte read: {startup_ms:.0f} ms")

    text = report(runs, scaling, args, clean, bad_set, startup_ms)
    if args.real_shapes:
        real = _real_shape_runs(args)
        text += "\n" + real_shapes_report(real, args)
        runs += real
    sys.stdout.write(text)
    if args.out:
        args.out.write_text(text)
    return 0 if all(r.passed for r in [*runs, *scaling] if r.measurement is not None) else 1


def _real_shape_runs(args: argparse.Namespace) -> list[Run]:
    n = args.real_shapes
    real_csv, real_json = prepare_real_shapes(args.workdir, n)
    clean = prepare_data(args.workdir, [n], max(n // 100, 100))[0][n]
    plans = []
    unavailable = "skipped (--skip-lakekit)" if args.skip_lakekit else lakekit_available()
    if not unavailable:
        plans += [Plan("lakekit, clean JSON Lines", run_lakekit, (clean, "clean JSON Lines", args.workdir, args.timeout)),
                  Plan("lakekit, CSV", run_lakekit, (real_csv, "CSV, 1% bad", args.workdir, args.timeout)),
                  Plan("lakekit, JSON array", run_lakekit, (real_json, "JSON array", args.workdir, args.timeout))]
    plans += [Plan("DuckDB read_csv", run_duckdb_real, (real_csv, "CSV, 1% bad", args.workdir, args.timeout)),
              Plan("DuckDB read_json", run_duckdb_real, (real_json, "JSON array", args.workdir, args.timeout))]
    return run_interleaved(plans, args.repeat)


def real_shapes_report(runs: list[Run], args: argparse.Namespace) -> str:
    n = args.real_shapes
    lines = [f"## Real shapes: {n:,} records a file", ""]
    sizes = {r.input: r.dataset.size_bytes for r in runs}
    lines.append("- Inputs: " + "; ".join(f"{label} {size / 2**20:.0f} MiB" for label, size in sizes.items()))
    lines += ["", "| tool | input | records | seconds | records/s | CPU s | peak RSS MB | load | partitions | output check |",
              "|---|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for run in runs:
        m = run.measurement
        verdict = (run.verdict or "ok") if run.passed else "**WRONG**" if run.ok else ""
        lines.append(
            f"| {run.tool} | {run.input} | {run.dataset.records:,} | {_fmt(m.seconds if m else None, '.1f')} | "
            f"{_fmt(run.records_per_second, ',.0f')} | {_fmt(m.cpu_seconds if m else None, '.1f')} | "
            f"{_fmt(run.peak_rss_mb, '.0f')} | {_fmt(run.load_before, '.1f')} | "
            f"{run.partitions if run.partitions is not None else 'n/a'} | {verdict}{': ' if verdict else ''}{run.check} |")
    repeated = [r for r in runs if len(r.repeats) > 1]
    if repeated:
        lines += ["", "Repeats (wall seconds):", ""] + [
            f"- {r.tool}, {r.input}: {', '.join(f'{s:.1f}' for s in r.repeats)}" for r in repeated]
    notes = [note for run in runs for note in run.notes]
    if notes:
        lines += ["", "Notes:", ""] + [f"- {note}" for note in dict.fromkeys(notes)]
    return "\n".join(lines) + "\n"


def _main_real_shapes(args: argparse.Namespace) -> int:
    global LAKEKIT_UNDER_TEST
    LAKEKIT_UNDER_TEST = (LakekitUnderTest.from_commit(args.lakekit_rev, args.workdir) if args.lakekit_rev
                          else LakekitUnderTest.installed())
    runs = _real_shape_runs(args)
    text = "\n".join(machine()) + "\n\n" + real_shapes_report(runs, args)
    sys.stdout.write(text)
    if args.out:
        args.out.write_text(text)
    return 0 if all(r.passed for r in runs if r.measurement is not None) else 1


if __name__ == "__main__":
    sys.exit(main())
