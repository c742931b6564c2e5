"""Helpers shared by the test packages: the installed command, one CLI runner, one event
builder, and readers that look at what lakekit wrote without going through lakekit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from click.testing import CliRunner, Result

from lakekit.paths import is_hidden_name

#: the ``lakekit`` console script of the interpreter running the tests
LAKEKIT = str(Path(sys.executable).with_name("lakekit"))
#: the repository's root (examples, layouts, benchmarks)
ROOT = Path(__file__).resolve().parents[1]


def cli(*args: str, input: str | bytes | None = None) -> Result:
    """``lakekit ARGS`` in-process (click's runner): exit code, stdout and stderr apart."""
    from lakekit.cli import main

    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


def run_lakekit(*args: str, env: dict[str, str] | None = None, input: str | bytes | None = None,
                timeout: float = 120, cwd: str | os.PathLike | None = None) -> subprocess.CompletedProcess:
    """The installed ``lakekit`` command as a subprocess (text unless ``input`` is bytes)."""
    return subprocess.run([LAKEKIT, *args], capture_output=True, text=not isinstance(input, bytes),
                          env={**os.environ, **(env or {})}, input=input, timeout=timeout, cwd=cwd)


def write_jsonl(path: str | os.PathLike, records: Iterable[dict | str]) -> str:
    """One JSON object (or the given raw line) a line."""
    with open(path, "w", encoding="utf-8") as f:
        for r in records:
            f.write((r if isinstance(r, str) else json.dumps(r)) + "\n")
    return str(path)


def write_events(path: str | os.PathLike, rows: int, *, days: int = 10, seed: int = 7,
                 bad_fraction: float = 0.0) -> str:
    """``rows`` sample events (``lakekit.sample``, from 2024-03-01) over ``days`` days as
    JSON Lines; ``bad_fraction`` of them malformed."""
    from lakekit.sample import events_jsonl

    lines = events_jsonl(rows, days=days, seed=seed, bad_fraction=bad_fraction)
    Path(path).write_text("".join(lines), encoding="utf-8")
    return str(path)


def visible_data_files(warehouse: str, db: str, table: str) -> list[str]:
    """The files of a table's folder that Athena would read (none named ``_*``/``.*``)."""
    root = os.path.join(warehouse, db, table)
    out = []
    for dirpath, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not is_hidden_name(d)]
        out.extend(os.path.join(dirpath, f) for f in files if not is_hidden_name(f))
    return sorted(out)


def read_back_pyarrow(table_dir: str, keys: Sequence[str] = ("year", "month", "day")):
    """The table as pyarrow's dataset reader sees it (hive partitions as strings)."""
    import pyarrow as pa
    import pyarrow.dataset as ds

    part = ds.partitioning(pa.schema([(k, pa.string()) for k in keys]), flavor="hive")
    dataset = ds.dataset(table_dir, format="parquet", partitioning=part, ignore_prefixes=["_", "."])
    # Files written before a column was added lack it: read with the union of schemas.
    schema = pa.unify_schemas([f.physical_schema for f in dataset.get_fragments()] + [dataset.partitioning.schema])
    return ds.dataset(table_dir, schema=schema, format="parquet", partitioning=part,
                      ignore_prefixes=["_", "."]).to_table()


def read_back_duckdb(table_dir: str, order_by: str):
    """Rows and column names as DuckDB reads the table's files, hive partitions included."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    rows = con.execute(
        f"SELECT * FROM read_parquet('{table_dir}/**/*.parquet', hive_partitioning=true, union_by_name=true) "
        f"ORDER BY {order_by}"
    ).fetchall()
    return rows, [d[0] for d in con.description]


def catalog_of(warehouse: str):
    """The warehouse's local catalog, opened directly."""
    return catalog_at(os.path.join(warehouse, "_lakekit", "catalog.db"))


def catalog_at(path: str):
    """The local (SQLite) catalog in the file ``path``, opened directly."""
    from lakekit.catalog.local import LocalCatalog

    return LocalCatalog(path)


def s3_table_by_year(tmp_path: Path, bucket: str, rows_by_year: dict[str, int], *,
                     success_markers: bool = False):
    """``db.t`` on ``s3://BUCKET/wh`` (moto), partitioned by ``year`` and catalogued in a
    local SQLite file: one file a year of ``x`` = 0..n-1, written with pyarrow straight to
    S3 (plus an empty ``_SUCCESS`` beside each when asked). Returns the settings and the
    files' keys."""
    import io

    import boto3
    import pyarrow as pa
    import pyarrow.parquet as pq

    from lakekit.catalog import Column, Partition, Table
    from lakekit.config import resolve_settings

    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=bucket)
    settings = resolve_settings(warehouse=f"s3://{bucket}/wh", catalog_path=str(tmp_path / "catalog.db"),
                                env={}, cwd=str(tmp_path))
    catalog = catalog_at(settings.catalog_path)
    catalog.create_or_update_table(Table("db", "t", f"s3://{bucket}/wh/db/t", [Column("x", "bigint")],
                                         [Column("year", "string")]))
    keys = []
    for year, rows in rows_by_year.items():
        buf = io.BytesIO()
        pq.write_table(pa.table({"x": pa.array(range(rows), pa.int64())}), buf)
        keys.append(f"wh/db/t/year={year}/part-0.parquet")
        s3.put_object(Bucket=bucket, Key=keys[-1], Body=buf.getvalue())
        if success_markers:
            s3.put_object(Bucket=bucket, Key=f"wh/db/t/year={year}/_SUCCESS", Body=b"")
    catalog.add_partitions("db", "t", [Partition((y,), f"s3://{bucket}/wh/db/t/year={y}") for y in rows_by_year])
    catalog.close()
    return settings, keys


def plain_folder_table(tmp_path: Path, n_by_day: dict[str, list[int]]):
    """``raw.logs``, a crawled-style table whose partitions (``dt``) live in plain folders
    (``logs/2019/11/24``), not ``k=v`` ones: one file of column ``n`` a day, catalogued in
    the warehouse's local catalog. Returns the settings and each day's file."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from lakekit.catalog import Column, Partition, Table
    from lakekit.config import resolve_settings

    settings = resolve_settings(warehouse=str(tmp_path / "wh"), env={}, cwd=str(tmp_path))
    catalog = catalog_at(settings.local_catalog_path())
    catalog.create_or_update_table(Table("raw", "logs", str(tmp_path / "logs"), [Column("n", "bigint")],
                                         [Column("dt", "string")]))
    partitions, files = [], {}
    for day, values in n_by_day.items():
        folder = tmp_path / "logs" / day.replace("-", "/")
        folder.mkdir(parents=True)
        files[day] = str(folder / "f.parquet")
        pq.write_table(pa.table({"n": pa.array(values, pa.int64())}), files[day])
        partitions.append(Partition((day,), str(folder)))
    catalog.add_partitions("raw", "logs", partitions)
    catalog.close()
    return settings, files
